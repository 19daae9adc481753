// Failure handling of the local control plane: a clear error that names the log to read, and
// nothing left running.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { mkdtempSync, writeFileSync, symlinkSync, readFileSync, readdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { ControlPlane, ControlPlaneError, freePort } from '../cluster/control-plane.ts';
import { scratchDir } from '../cluster/scratch.ts';
import { resolveBinDir } from '../cluster/testbin.ts';

const binDir = resolveBinDir();
/** The failed control planes' work directories (each test's logs) and the fake etcd. */
const scratch = scratchDir('tm-cp-failures-');

/** Processes whose command line mentions the directory: what a failed start could have left behind. */
function processesMentioning(dir: string): string[] {
  const found: string[] = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
      if (cmdline.includes(dir)) found.push(`${pid}: ${cmdline}`);
    } catch {
      // exited meanwhile
    }
  }
  return found;
}

async function expectStartFailure(workDir: string, options: Partial<Parameters<typeof ControlPlane.start>[0]>, logName: string): Promise<ControlPlaneError> {
  const err = await ControlPlane.start({ binDir, workDir, startControllerManager: false, ...options }).then(
    () => assert.fail('the control plane started although it should not have'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof ControlPlaneError, String(err));
  const logPath = join(workDir, 'logs', logName);
  assert.ok(err.message.includes(logPath), `error names ${logPath}: ${err.message}`);
  assert.ok(existsSync(logPath));
  assert.deepEqual(processesMentioning(workDir), []);
  return err;
}

test('a port already in use gives an error naming the kube-apiserver log and leaves nothing running', async () => {
  const blocker = createServer();
  const port = await freePort();
  await new Promise<void>((resolve) => blocker.listen(port, '127.0.0.1', resolve));
  try {
    const workDir = mkdtempSync(join(scratch, 'port-'));
    const err = await expectStartFailure(workDir, { apiServerPort: port }, 'kube-apiserver.log');
    assert.match(err.message, /kube-apiserver exited with code \d+; read its log/);
    const log = readFileSync(join(workDir, 'logs', 'kube-apiserver.log'), 'utf8');
    assert.match(log, /address already in use/, log.split('\n').slice(-15).join('\n'));
  } finally {
    blocker.close();
  }
});

test('a binary that fails to start gives an error naming its log and leaves nothing running', async () => {
  const fakeBin = mkdtempSync(join(scratch, 'bin-'));
  for (const name of ['kube-apiserver', 'kube-controller-manager']) symlinkSync(join(binDir, name), join(fakeBin, name));
  writeFileSync(join(fakeBin, 'etcd'), '#!/bin/sh\necho "etcd: refusing to start for this test" >&2\nexit 3\n', { mode: 0o755 });
  const workDir = mkdtempSync(join(scratch, 'fail-'));
  const err = await expectStartFailure(workDir, { binDir: fakeBin }, 'etcd.log');
  assert.match(err.message, /^etcd exited with code 3; read its log: /);
  assert.match(readFileSync(join(workDir, 'logs', 'etcd.log'), 'utf8'), /refusing to start for this test/);
});

test('an API server that never becomes ready gives an error naming its log and leaves nothing running', async () => {
  const deadEtcd = `http://127.0.0.1:${await freePort()}`;
  const workDir = mkdtempSync(join(scratch, 'never-'));
  const err = await expectStartFailure(workDir, { etcdServers: deadEtcd, readyTimeoutMs: 8000 }, 'kube-apiserver.log');
  assert.match(err.message, /kube-apiserver (did not become ready at https:\/\/127\.0\.0\.1:\d+\/readyz within 8s|exited with)/);
});
