// The Dockerfile's structure, statically: stages, bases as build args, users, the commands the
// chart runs, build secrets, and the build context. (test/images/images.test.ts checks the images
// images/build.sh builds from it.)
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { container, controller, render, webhook } from '../chart/helm.ts';
import { CONTROLLER_NODE_FLAGS, GLIBC_TUNABLES, WEBHOOK_NODE_FLAGS } from '@trust-manager/controller/node-flags.ts';
import { ENTRYPOINTS } from '../../scripts/build.ts';

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
      ['debian-package', 'trust-pkg-debian', 'build', 'code-cache', 'trust-manager'],
    );
  });

  it('takes every base image as a build arg: public Node, distroless Node 24 and busybox by default', () => {
    assert.match(ARGS.NODE_IMAGE ?? '', /^docker\.io\/library\/node:24-trixie-slim$/);
    assert.equal(ARGS.RUNTIME_IMAGE, 'gcr.io/distroless/nodejs24-debian13');
    assert.match(ARGS.PACKAGE_BASE_IMAGE ?? '', /^docker\.io\/library\/busybox:/);
    assert.deepEqual(
      STAGES.map((s) => [s.name, s.base]),
      [
        ['debian-package', '${NODE_IMAGE}'],
        ['trust-pkg-debian', '${PACKAGE_BASE_IMAGE}'],
        ['build', '${NODE_IMAGE}'],
        ['code-cache', '${RUNTIME_IMAGE}'],
        ['trust-manager', '${RUNTIME_IMAGE}'],
      ],
    );
  });

  it('runs both images as uid/gid 65532', () => {
    for (const name of ['trust-pkg-debian', 'code-cache', 'trust-manager']) {
      assert.equal(last(stage(name), 'USER')?.args, '65532:65532', name);
    }
  });

  it('operator image: node entrypoint, controller by default, compiled output under /app', () => {
    const s = stage('trust-manager');
    assert.deepEqual(last(s, 'ENTRYPOINT')?.words, ['/nodejs/bin/node']);
    assert.deepEqual(last(s, 'CMD')?.words, [...CONTROLLER_NODE_FLAGS, '/app/controller.js']);
    assert.equal(last(s, 'WORKDIR')?.args, '/app');
    const copies = s.instructions.filter((i) => i.op === 'COPY');
    assert.deepEqual(copies.map((c) => [c.flags.from, c.flags.chown, ...c.words]), [
      ['build', undefined, '/app', '/app'],
      ['code-cache', '65532:65532', '/app/compile-cache', '/app/compile-cache'],
    ]);
    assert.deepEqual(s.instructions.filter((i) => i.op === 'RUN'), [], 'nothing runs in the final stage: RUN would leave /etc/hosts and the like behind');
    assert.ok(s.instructions.some((i) => i.op === 'ENV' && i.args === 'NODE_ENV=production'));
    assert.ok(s.instructions.some((i) => i.op === 'ENV' && i.args === 'NODE_COMPILE_CACHE=/app/compile-cache'));
    assert.ok(s.instructions.some((i) => i.op === 'ENV' && i.args === `GLIBC_TUNABLES=${GLIBC_TUNABLES}`), 'the allocator settings of node-flags.ts');
    const build = stage('build').instructions.filter((i) => i.op === 'RUN').at(-1);
    assert.equal(build?.args.replace(/\s+/g, ' '), 'node scripts/build.ts --outdir /app && mkdir /compile-cache');
  });

  it("operator image: V8's code cache made by the runtime's node, as 65532, with exactly the flags the chart starts each entrypoint with", () => {
    const s = stage('code-cache');
    const copies = s.instructions.filter((i) => i.op === 'COPY');
    assert.deepEqual(copies.map((c) => [c.flags.from, c.flags.chown, ...c.words]), [
      ['build', undefined, '/app', '/app'],
      ['build', '65532:65532', '/compile-cache', '/app/compile-cache'],
    ]);
    const runs = s.instructions.filter((i) => i.op === 'RUN');
    assert.ok(runs.every((r) => r.args.startsWith('[')), 'a distroless runtime has no shell: exec form only');
    assert.deepEqual(
      runs.map((r) => r.words),
      [
        ['/nodejs/bin/node', ...CONTROLLER_NODE_FLAGS, '/app/controller.js', '--help'],
        ['/nodejs/bin/node', ...WEBHOOK_NODE_FLAGS, '/app/webhook.js', '--help'],
      ],
    );
    const position = (predicate: (i: Instruction) => boolean): number => s.instructions.findIndex(predicate);
    const firstRun = position((i) => i.op === 'RUN');
    assert.ok(position((i) => i.op === 'USER' && i.args === '65532:65532') < firstRun, 'made as the user that reads it');
    assert.ok(position((i) => i.op === 'ENV' && i.args === 'NODE_COMPILE_CACHE=/app/compile-cache') < firstRun);
  });

  it('the chart starts both compiled entrypoints of the operator image', async () => {
    const objects = await render();
    const entrypoint = last(stage('trust-manager'), 'ENTRYPOINT')?.words ?? [];
    assert.deepEqual(container(controller(objects)).command, [...entrypoint, ...CONTROLLER_NODE_FLAGS, '/app/controller.js']);
    assert.deepEqual(container(webhook(objects)).command, [...entrypoint, ...WEBHOOK_NODE_FLAGS, '/app/webhook.js']);
    assert.deepEqual(Object.keys(ENTRYPOINTS).sort(), ['controller', 'webhook']);
    for (const source of Object.values(ENTRYPOINTS)) assert.ok(existsSync(join(REPO, source)), source);
  });

  it('gives npm and pnpm the build CA as a secret mount only', () => {
    const runs = STAGES.flatMap((s) => s.instructions).filter((i) => i.op === 'RUN');
    const registry = runs.filter((i) => /\b(npm|pnpm) install\b/.test(i.args));
    assert.equal(registry.length, 2);
    for (const r of registry) {
      assert.equal(r.flags.mount, 'type=secret,id=build-ca');
      assert.match(r.args, /^NODE_EXTRA_CA_CERTS=\/run\/secrets\/build-ca (npm|pnpm) install /);
    }
    assert.doesNotMatch(DOCKERFILE.replace(/^#.*$/gm, ''), /ca-certificates\/|NODE_EXTRA_CA_CERTS=(?!\/run\/secrets\/)|^\s*ENV .*(CA_|_CA\b|CERT)/m);
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

  it('every file it COPYs from the context exists and is in the build context; tests and node_modules are not', () => {
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
    assert.equal(inContext('dist/controller.js'), false);
  });
});
