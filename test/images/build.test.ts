// `pnpm build` (scripts/build.ts): the compiled entrypoints run on their own, from a directory
// with no node_modules anywhere above it, as in the image.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { buildAll, ENTRYPOINTS } from '../../scripts/build.ts';

const run = promisify(execFile);

async function node(cwd: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, args, { cwd, env: { PATH: process.env.PATH ?? '' } });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : 1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

describe('pnpm build', () => {
  let root = '';
  let dist = '';
  before(async () => {
    root = mkdtempSync(join(tmpdir(), 'tm-build-'));
    dist = join(root, 'dist');
    await buildAll(dist);
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  it('writes one ES module per entrypoint, shared and lazily loaded chunks, and no TypeScript', () => {
    const files = readdirSync(dist, { recursive: true, encoding: 'utf8' });
    for (const name of Object.keys(ENTRYPOINTS)) assert.ok(files.includes(`${name}.js`), name);
    assert.deepEqual(JSON.parse(readFileSync(join(dist, 'package.json'), 'utf8')), { type: 'module' });
    assert.ok(files.some((f) => f.startsWith('chunks/')));
    assert.deepEqual(files.filter((f) => !/\.js$|\.LEGAL\.txt$|^package\.json$|^chunks$/.test(f)), []);
  });

  it('writes ASCII only: V8 holds a script with any other character as two-byte text, twice the memory', () => {
    const files = readdirSync(dist, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.js'));
    for (const file of files) {
      const offending = /[\x80-\xff]/.exec(readFileSync(join(dist, file), 'latin1'));
      assert.equal(offending, null, `${file}: a non-ASCII byte at ${offending?.index}`);
    }
  });

  it('starts the controller and the webhook without node_modules', async () => {
    const controller = await node(root, [join(dist, 'controller.js'), '--help']);
    assert.equal(controller.code, 0, controller.stderr);
    assert.match(controller.stdout, /--leader-election-namespace/);
    const webhook = await node(root, [join(dist, 'webhook.js'), '--help']);
    assert.equal(webhook.code, 0, webhook.stderr);
    assert.match(webhook.stdout, /--webhook-certificate-dir/);
  });

  it('bundles what is loaded on first use: the YAML parser of kubeconfigs', async () => {
    const kubeconfig = join(root, 'kubeconfig.yaml');
    writeFileSync(kubeconfig, 'apiVersion: v1\nkind: Config\ncurrent-context: nowhere\nclusters: []\ncontexts: []\nusers: []\n');
    const r = await node(root, [join(dist, 'controller.js'), `--kubeconfig=${kubeconfig}`]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /context "nowhere" not found/, 'the YAML kubeconfig was parsed');
  });

  it('every chunk loads on its own (@kubernetes/client-node for exec/auth-provider kubeconfigs included)', async () => {
    const chunks = readdirSync(join(dist, 'chunks')).filter((f) => f.endsWith('.js'));
    assert.ok(chunks.length >= 2);
    for (const chunk of chunks) {
      const r = await node(root, ['--input-type=module', '-e', `await import(${JSON.stringify(join(dist, 'chunks', chunk))})`]);
      assert.equal(r.code, 0, `${chunk}: ${r.stderr}`);
    }
  });
});
