// The controller process's command line and probes, no cluster needed (the API server address is
// unreachable on purpose): --help, flag errors, default package errors, probes before sync, SIGTERM.
//   node --test test/integration/controller-cli.test.ts
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FLAGS } from '@trust-manager/controller/flags.ts';
import { MAIN, startController, waitFor } from './controller-support.ts';

function run(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8', timeout: 30_000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

test('--help lists every flag with its default and exits 0', () => {
  const help = run(['--help']);
  assert.equal(help.status, 0);
  for (const spec of Object.values(FLAGS)) assert.ok(help.stdout.includes(`--${spec.name}`), `--${spec.name} in help`);
  assert.match(help.stdout, /--leader-election-lease-duration duration +.*\(default 15s\)/);
  assert.match(help.stdout, /--metrics-port int +.*\(default 9402\)/);
  assert.match(help.stdout, /-v, --log-level int/);
});

test('flag errors print "error: <err>" and exit 1', () => {
  const cases: Array<[string[], string]> = [
    [['--log-format=xml'], 'error: invalid argument "xml" for "--log-format" flag: must be one of "text" or "json"\n'],
    [['--nope'], 'error: unknown flag: --nope\n'],
    [['--leader-elect=maybe'], 'error: invalid argument "maybe" for "--leader-elect" flag: strconv.ParseBool: parsing "maybe": invalid syntax\n'],
    [['--leader-election-lease-duration=15'], 'error: invalid argument "15" for "--leader-election-lease-duration" flag: time: missing unit in duration "15"\n'],
    [['--leader-election-renew-deadline=20s'], 'error: --leader-election-lease-duration must be greater than --leader-election-renew-deadline\n'],
    [['--max-concurrent-writes=0'], 'error: invalid argument "0" for "--max-concurrent-writes" flag: must be at least 1\n'],
    [['--metrics-port=70000'], 'error: invalid argument "70000" for "--metrics-port" flag: must be a port number (0-65535)\n'],
    [['--trust-namespace='], 'error: invalid argument "" for "--trust-namespace" flag: must not be empty\n'],
  ];
  for (const [args, stderr] of cases) {
    const result = run(args);
    assert.equal(result.status, 1, args.join(' '));
    assert.equal(result.stderr, stderr);
  }
});

test('a default package that does not load stops the start with the upstream message', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tm-cli-'));
  try {
    const bad = join(dir, 'package.json');
    writeFileSync(bad, '{"name": "", "version": "1", "bundle": ""}');
    const result = run([`--default-package-location=${bad}`]);
    assert.equal(result.status, 1);
    assert.equal(result.stderr, `error: must load default package successfully when default package location is set: failed to load package "${bad}": package may not have an empty 'name'\n`);
    const wrongExtension = run([`--default-package-location=${join(dir, 'package.txt')}`]);
    assert.equal(wrongExtension.status, 1);
    assert.match(wrongExtension.stderr, /^error: must load default package successfully when default package location is set: .*doesn't have the required "\.json" extension/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('before the caches sync /healthz is ok and the readiness path is not; SIGTERM exits 0', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tm-cli-'));
  try {
    const kubeconfig = join(dir, 'kubeconfig');
    // Nothing listens on port 1: the reflectors keep retrying, the process stays up and unready.
    writeFileSync(
      kubeconfig,
      'apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: "https://127.0.0.1:1", insecure-skip-tls-verify: true}}]\n' +
        'users: [{name: u, user: {token: t}}]\ncontexts: [{name: x, context: {cluster: c, user: u}}]\ncurrent-context: x\n',
    );
    const proc = await startController(kubeconfig, ['--leader-elect=false', '--readiness-probe-path=/ready-now']);
    const health = await fetch(`http://127.0.0.1:${proc.healthPort}/healthz`);
    assert.equal(health.status, 200);
    const ready = await fetch(`http://127.0.0.1:${proc.healthPort}/ready-now`);
    assert.equal(ready.status, 503);
    await proc.waitForLog('a logged retry', (line) => line.msg === 'list/watch failed, retrying');
    const metrics = await proc.metrics();
    assert.match(metrics, /^trust_manager_workqueue_depth 0$/m);
    assert.match(metrics, /^process_resident_memory_bytes \d+/m);
    assert.deepEqual(await proc.stop(), { code: 0, signal: null });
    await waitFor('stopped log', () => proc.logs.some((line) => line.msg === 'stopped'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
