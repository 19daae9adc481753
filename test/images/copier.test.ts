// images/package/copier.sh, the entrypoint of the default CA package image (upstream-compatibility.md 5).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';

const COPIER = fileURLToPath(new URL('../../images/package/copier.sh', import.meta.url));

function copier(args: string[]): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) => {
    // Run the file itself: its shebang and executable bit are part of the image contract.
    execFile(COPIER, args, (err, _stdout, stderr) => resolve({ code: err ? Number(err.code ?? 1) : 0, stderr }));
  });
}

const LOG_PREFIX = /^\d{4}\/\d{2}\/\d{2} \d{2}:\d{2}:\d{2} /;

describe('copier', () => {
  let root = '';
  let src = '';
  before(() => {
    root = mkdtempSync(join(tmpdir(), 'tm-copier-'));
    src = join(root, 'in');
    mkdirSync(join(src, 'sub', 'deeper'), { recursive: true });
    mkdirSync(join(src, 'folder.json'));
    writeFileSync(join(src, 'top.json'), '{"top":1}');
    writeFileSync(join(src, 'sub', 'mid.json'), '{"mid":2}');
    writeFileSync(join(src, 'sub', 'deeper', 'cert-manager-package-debian.json'), '{"deep":3}');
    writeFileSync(join(src, 'readme.txt'), 'not json');
    writeFileSync(join(src, 'sub', 'data.json.bak'), 'not json either');
    writeFileSync(join(src, 'sub', 'UPPER.JSON'), 'case matters');
    symlinkSync('top.json', join(src, 'link.json'));
    symlinkSync(join(src, 'sub'), join(src, 'linked-dir'));
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  const fresh = (name: string): string => {
    const dir = join(root, name);
    mkdirSync(dir);
    return dir;
  };

  it('is executable', () => {
    assert.ok((statSync(COPIER).mode & 0o111) !== 0, 'copier.sh must be executable (git tracks the bit)');
  });

  it('copies regular *.json files only, flattened, and logs each copy', async () => {
    const out = fresh('out');
    const { code, stderr } = await copier([src, out]);
    assert.equal(code, 0, stderr);
    const files = readdirSync(out).filter((f) => statSync(join(out, f)).isFile()).sort();
    assert.deepEqual(files, ['cert-manager-package-debian.json', 'mid.json', 'top.json']);
    assert.equal(readFileSync(join(out, 'top.json'), 'utf8'), '{"top":1}');
    assert.equal(readFileSync(join(out, 'mid.json'), 'utf8'), '{"mid":2}');
    assert.equal(readFileSync(join(out, 'cert-manager-package-debian.json'), 'utf8'), '{"deep":3}');
    // Directories are recreated (empty), as upstream's copier does; symlinks are not followed.
    assert.ok(statSync(join(out, 'sub', 'deeper')).isDirectory());
    assert.ok(statSync(join(out, 'folder.json')).isDirectory());
    assert.equal(existsSync(join(out, 'link.json')), false);
    assert.equal(existsSync(join(out, 'linked-dir')), false);
    const lines = stderr.trimEnd().split('\n');
    assert.ok(lines.every((l) => LOG_PREFIX.test(l)), stderr);
    assert.match(stderr, / reading from .*\/in\n/);
    assert.match(stderr, / writing to {3}.*\/out\n/);
    assert.equal(lines.filter((l) => l.includes('successfully copied')).length, 3);
    assert.ok(!stderr.includes('DEPRECATED'));
    assert.ok((statSync(join(out, 'top.json')).mode & 0o777) <= 0o666);
  });

  it('accepts the deprecated /copyandmaybepause form and says so', async () => {
    const out = fresh('out-deprecated');
    const { code, stderr } = await copier(['/copyandmaybepause', src, out]);
    assert.equal(code, 0, stderr);
    assert.match(stderr.split('\n')[0] ?? '', /DEPRECATED: use the image's entrypoint instead of \/copyandmaybepause$/);
    assert.ok(existsSync(join(out, 'cert-manager-package-debian.json')));
  });

  it('enters a symlinked input folder', async () => {
    const link = join(root, 'package-link');
    symlinkSync(src, link);
    const out = fresh('out-link');
    const { code, stderr } = await copier([link, out]);
    assert.equal(code, 0, stderr);
    assert.ok(existsSync(join(out, 'top.json')));
  });

  it('overwrites existing files', async () => {
    const out = fresh('out-overwrite');
    writeFileSync(join(out, 'top.json'), 'stale content that is longer than the new one');
    assert.equal((await copier([src, out])).code, 0);
    assert.equal(readFileSync(join(out, 'top.json'), 'utf8'), '{"top":1}');
  });

  it('fails with usage on a wrong number of arguments, and on unknown flags', async () => {
    for (const args of [[], [src], [src, root, root], ['/elsewhere', src, root]]) {
      const { code, stderr } = await copier(args);
      assert.equal(code, 1, args.join(' '));
      assert.match(stderr, /usage: .* \[flags\] <input-folder> <output-folder>/);
    }
    const { code, stderr } = await copier(['--frobnicate', src, root]);
    assert.equal(code, 2);
    assert.match(stderr, /flag provided but not defined: --frobnicate/);
  });

  it('fails when a folder does not exist', async () => {
    const missingIn = await copier([join(root, 'nope'), fresh('out-missing')]);
    assert.equal(missingIn.code, 1);
    assert.match(missingIn.stderr, /couldn't confirm that input path is a directory that exists/);
    const missingOut = await copier([src, join(root, 'nope-out')]);
    assert.equal(missingOut.code, 1);
    assert.match(missingOut.stderr, /couldn't confirm that output path is a directory that exists/);
  });

  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    it(`with --wait, copies then waits until ${signal}, and exits 0`, async () => {
      const out = fresh(`out-wait-${signal}`);
      const child = spawn(COPIER, ['--wait', src, out], { stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
      const deadline = Date.now() + 10_000;
      while (!stderr.includes('finished copying, waiting for termination signal')) {
        assert.ok(Date.now() < deadline, `copier never finished copying: ${stderr}`);
        assert.equal(child.exitCode, null, `copier exited early: ${stderr}`);
        await sleep(20);
      }
      assert.ok(existsSync(join(out, 'cert-manager-package-debian.json')));
      await sleep(200);
      assert.equal(child.exitCode, null, 'must keep running until signalled');
      const exited = once(child, 'exit');
      child.kill(signal);
      const [code] = (await Promise.race([exited, sleep(5_000).then(() => ['timeout'])])) as [number | string | null];
      assert.equal(code, 0, stderr);
      assert.match(stderr, /received interrupt, closing\n$/);
    });
  }
});
