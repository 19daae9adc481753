// The Dockerfile cannot be built here (no container engine): check its structure statically, and
// replay the operator's build stage (WORKDIR/COPY/RUN, pnpm offline) in a temporary directory to
// prove the image layout starts both processes.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, realpathSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, posix, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { container, controller, render, webhook } from '../chart/helm.ts';
import { CONTROLLER_NODE_FLAGS } from '@trust-manager/controller/node-flags.ts';

const run = promisify(execFile);
const REPO = fileURLToPath(new URL('../../', import.meta.url));
const DOCKERFILE = readFileSync(join(REPO, 'Dockerfile'), 'utf8');
const IGNORE = readFileSync(join(REPO, 'Dockerfile.dockerignore'), 'utf8');

interface Instruction {
  op: string;
  args: string;
  flags: Record<string, string>;
  /** The arguments after the flags, shell-split (no quotes) or from the JSON form. */
  words: string[];
}

interface Stage {
  name: string;
  base: string;
  instructions: Instruction[];
}

function parseDockerfile(text: string): { args: Record<string, string>; stages: Stage[] } {
  const logical = text
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
  const globalArgs: Record<string, string> = {};
  const stages: Stage[] = [];
  for (const line of logical) {
    const m = /^(\S+)\s+(.*)$/.exec(line);
    assert.ok(m, `unparsable line: ${line}`);
    const op = m[1]!.toUpperCase();
    let rest = m[2]!;
    const flags: Record<string, string> = {};
    for (let f = /^--([a-z-]+)=(\S+)\s+/.exec(rest); f; f = /^--([a-z-]+)=(\S+)\s+/.exec(rest)) {
      flags[f[1]!] = f[2]!;
      rest = rest.slice(f[0].length);
    }
    const words = rest.startsWith('[') ? (JSON.parse(rest) as string[]) : rest.split(/\s+/);
    const instruction = { op, args: rest, flags, words };
    if (op === 'FROM') {
      const from = /^(\S+)\s+AS\s+(\S+)$/i.exec(rest);
      assert.ok(from, `every stage is named: ${line}`);
      stages.push({ base: from[1]!, name: from[2]!, instructions: [] });
    } else if (stages.length === 0) {
      assert.equal(op, 'ARG', `only ARG before the first FROM: ${line}`);
      const [k, v] = rest.split('=', 2);
      globalArgs[k!] = v ?? '';
    } else {
      stages.at(-1)!.instructions.push(instruction);
    }
  }
  return { args: globalArgs, stages };
}

const { args: ARGS, stages: STAGES } = parseDockerfile(DOCKERFILE);
const stage = (name: string): Stage => {
  const s = STAGES.find((x) => x.name === name);
  assert.ok(s, `stage ${name}`);
  return s;
};
const last = (s: Stage, op: string): Instruction | undefined => s.instructions.filter((i) => i.op === op).at(-1);

/** Does Dockerfile.dockerignore (exclude all, then re-include) keep this context path? */
function inContext(path: string): boolean {
  let included = true;
  for (const raw of IGNORE.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const negate = line.startsWith('!');
    const pattern = negate ? line.slice(1) : line;
    const matches =
      pattern === '*' ||
      path === pattern ||
      path.startsWith(`${pattern}/`) ||
      (pattern.startsWith('**/') && path.split('/').includes(pattern.slice(3)));
    if (matches) included = negate;
  }
  return included;
}

describe('Dockerfile structure', () => {
  it('has the package stages, then the operator stages; the operator image is the default target', () => {
    assert.deepEqual(
      STAGES.map((s) => s.name),
      ['debian-package', 'trust-pkg-debian', 'build', 'trust-manager'],
    );
    assert.match(ARGS.NODE_IMAGE ?? '', /^docker\.io\/library\/node:24-[a-z]+-slim$/);
  });

  it('runs both images as uid/gid 65532', () => {
    for (const name of ['trust-pkg-debian', 'trust-manager']) {
      assert.equal(last(stage(name), 'USER')?.args, '65532:65532', name);
    }
  });

  it('operator image: node entrypoint, controller by default, production layout under /app', () => {
    const s = stage('trust-manager');
    assert.equal(s.base, '${NODE_IMAGE}');
    assert.deepEqual(last(s, 'ENTRYPOINT')?.words, ['node']);
    assert.deepEqual(last(s, 'CMD')?.words, [...CONTROLLER_NODE_FLAGS, '/app/controller/src/main.ts']);
    assert.equal(last(s, 'WORKDIR')?.args, '/app');
    const copy = last(s, 'COPY');
    assert.equal(copy?.flags.from, 'build');
    assert.deepEqual(copy?.words, ['/app', '/app']);
    assert.ok(s.instructions.some((i) => i.op === 'ENV' && i.args === 'NODE_ENV=production'));
    const install = stage('build').instructions.find((i) => i.op === 'RUN' && i.args.startsWith('pnpm install'));
    assert.match(install?.args ?? '', /--frozen-lockfile --prod /);
  });

  it('the chart starts both entrypoints of the operator image', async () => {
    const objects = await render();
    const build = stage('build');
    assert.equal(last(build, 'WORKDIR')?.args, '/app');
    for (const [d, nodeFlags, path] of [
      [controller(objects), CONTROLLER_NODE_FLAGS, '/app/controller/src/main.ts'],
      [webhook(objects), [], '/app/webhook/src/main.ts'],
    ] as const) {
      assert.deepEqual(container(d).command, ['node', ...nodeFlags, path]);
      const repoPath = posix.relative('/app', path);
      assert.ok(existsSync(join(REPO, repoPath)), repoPath);
      const srcDir = repoPath.split('/').slice(0, 2).join('/');
      assert.ok(build.instructions.some((i) => i.op === 'COPY' && i.words[0] === srcDir && i.words[1] === srcDir), `build stage copies ${srcDir}`);
    }
  });

  it('package image: copier entrypoint at /copier and /copyandmaybepause, package JSON at /debian-package', () => {
    const s = stage('trust-pkg-debian');
    assert.deepEqual(last(s, 'ENTRYPOINT')?.words, ['/copier']);
    assert.deepEqual(last(s, 'CMD')?.words, ['/debian-package', '/packages']);
    const copies = s.instructions.filter((i) => i.op === 'COPY');
    const to = (dest: string) => copies.find((c) => c.words.at(-1) === dest);
    assert.equal(to('/copier')?.words[0], 'images/package/copier.sh');
    assert.equal(to('/copyandmaybepause')?.words[0], 'images/package/copier.sh');
    assert.equal(to('/copier')?.flags.chmod, '0555');
    const json = to('/debian-package/cert-manager-package-debian.json');
    assert.equal(json?.flags.from, 'debian-package');
    const make = stage('debian-package').instructions.find((i) => i.op === 'RUN' && i.args.includes('make-package.ts'));
    assert.match(make?.args ?? '', /node \/build\/make-package\.ts .*--out \/debian-package\/cert-manager-package-debian\.json/);
    assert.ok(stage('debian-package').instructions.some((i) => i.op === 'RUN' && /apt-get install .*ca-certificates/.test(i.args)));
  });

  it('every file it COPYs from the context exists and is in the build context', () => {
    const sources = STAGES.flatMap((s) => s.instructions)
      .filter((i) => i.op === 'COPY' && i.flags.from === undefined)
      .flatMap((i) => i.words.slice(0, -1));
    assert.ok(sources.length >= 10);
    for (const src of sources) {
      assert.ok(existsSync(join(REPO, src)), `${src} does not exist`);
      assert.ok(inContext(src), `${src} is excluded by Dockerfile.dockerignore`);
    }
    assert.equal(inContext('node_modules/x'), false);
    assert.equal(inContext('shared/node_modules/yaml/index.js'), false);
    assert.equal(inContext('test/chart/helm.ts'), false);
  });
});

describe('operator build stage, replayed', () => {
  let root = '';
  let app = '';
  before(async () => {
    root = realpathSync(mkdtempSync(join(tmpdir(), 'tm-image-')));
    let workdir = root;
    for (const i of stage('build').instructions) {
      switch (i.op) {
        case 'ARG':
        case 'ENV':
          break;
        case 'WORKDIR':
          workdir = join(root, i.args);
          mkdirSync(workdir, { recursive: true });
          break;
        case 'COPY': {
          const dest = i.words.at(-1)!;
          const sources = i.words.slice(0, -1);
          const target = join(dest.startsWith('/') ? root : workdir, dest);
          for (const src of sources) {
            const from = join(REPO, src);
            const intoDir = dest.endsWith('/') || sources.length > 1;
            const to = statSync(from).isDirectory() || !intoDir ? target : join(target, posix.basename(src));
            mkdirSync(dirname(to), { recursive: true });
            cpSync(from, to, { recursive: true });
          }
          break;
        }
        case 'RUN': {
          // No network: the pnpm bootstrap is skipped (pnpm is on PATH) and installs use the store.
          if (/^npm install --global .*pnpm@/.test(i.args)) break;
          assert.ok(workdir.startsWith(root) && workdir !== REPO, 'RUN only inside the scratch directory');
          assert.ok(!/\.\.\/|(^|\s)\/(?!dev\/null)/.test(i.args), `RUN must use paths relative to WORKDIR: ${i.args}`);
          const cmd = i.args.replace(/^pnpm install /, 'pnpm install --offline ');
          await run('sh', ['-c', cmd], { cwd: workdir, maxBuffer: 16 * 1024 * 1024 });
          break;
        }
        default:
          assert.fail(`unexpected ${i.op} in the build stage`);
      }
    }
    app = join(root, 'app');
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  it('starts the controller and the webhook (all modules resolve, types strip outside node_modules)', async () => {
    const controllerHelp = await run(process.execPath, [join(app, 'controller/src/main.ts'), '--help'], { cwd: root });
    assert.match(controllerHelp.stdout, /--leader-election-namespace/);
    const webhookHelp = await run(process.execPath, [join(app, 'webhook/src/main.ts'), '--help'], { cwd: root });
    assert.match(webhookHelp.stdout, /--webhook-certificate-dir/);
  });

  it('holds production code only', () => {
    const files: string[] = [];
    const walk = (dir: string): void => {
      for (const e of readdirSync(dir, { withFileTypes: true })) {
        if (e.name === 'node_modules') continue;
        const p = join(dir, e.name);
        if (e.isDirectory()) walk(p);
        else files.push(relative(app, p));
      }
    };
    walk(app);
    assert.ok(files.includes('controller/src/main.ts') && files.includes('webhook/src/main.ts') && files.includes('shared/src/api/constants.ts'));
    assert.deepEqual(files.filter((f) => /\.(test|bench)\.ts$/.test(f) || f.split('/').includes('testing')), []);
    assert.equal(existsSync(join(app, 'test')), false);
    const store = readdirSync(join(app, 'node_modules', '.pnpm'));
    for (const dev of ['typescript@', 'eslint@', 'typescript-eslint@', 'autocannon@']) {
      assert.ok(!store.some((p) => p.startsWith(dev)), `${dev} is not a production dependency`);
    }
    const shared = realpathSync(join(app, 'controller', 'node_modules', '@trust-manager', 'shared'));
    assert.equal(shared, join(app, 'shared'), 'workspace packages stay outside node_modules');
  });
});
