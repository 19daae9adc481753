import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

import https from 'node:https';
import { freePort } from '@trust-manager/shared/testing/net.ts';
import { makeServingCertificate, writeServingCertificate } from './testing/serving-cert.ts';

const main = fileURLToPath(new URL('./main.ts', import.meta.url));

test('main: text logs, ready on the probe port, exits 0 on SIGTERM', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'webhook-main-'));
  await writeServingCertificate(dir, await makeServingCertificate('webhook-main'));
  const [port, probePort, metricsPort] = [await freePort(), await freePort(), await freePort()];
  const child = spawn(process.execPath, [
    main,
    '--webhook-host=127.0.0.1',
    `--webhook-port=${port}`,
    `--webhook-certificate-dir=${dir}`,
    `--readiness-probe-port=${probePort}`,
    `--metrics-port=${metricsPort}`,
    '--log-format=text',
  ]);
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  try {
    let ready = false;
    for (let i = 0; i < 200 && !ready; i++) {
      ready = await fetch(`http://127.0.0.1:${probePort}/readyz`).then((response) => response.ok, () => false);
      if (!ready) await sleep(50);
    }
    assert.ok(ready, output);
    child.kill('SIGTERM');
    // Still serving while the API server learns the pod is gone (TERMINATION_DRAIN_MS), then exits.
    await sleep(500);
    const answer = await new Promise<{ status: number; connection: string | undefined }>((resolve, reject) => {
      https.get({ host: '127.0.0.1', port, path: '/unknown', rejectUnauthorized: false }, (res) => {
        res.resume();
        resolve({ status: res.statusCode ?? 0, connection: res.headers.connection });
      }).on('error', reject);
    });
    // Answered, and told to close the connection rather than have it closed under a later request.
    assert.deepEqual(answer, { status: 404, connection: 'close' });
    assert.equal(await exited, 0, output);
    assert.match(output, /serving certificate loaded/);
    assert.match(output, /shutting down/);
    assert.doesNotMatch(output, /^\{/m, 'text format, not JSON');
  } finally {
    child.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
  }
});
