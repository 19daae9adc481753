import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type TLSSocket } from 'node:tls';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';

import { pino } from 'pino';

import { WEBHOOK_PATH } from '@trust-manager/shared/api/constants.ts';
import { listenHost } from '@trust-manager/shared/http/plain-server.ts';

import { CertificateReloader } from './certificate-reloader.ts';
import { startWebhook, type RunningWebhook } from './server.ts';
import { makeServingCertificate, writeServingCertificate } from './testing/serving-cert.ts';

const silent = pino({ level: 'silent' });

const reviewBody = JSON.stringify({
  apiVersion: 'admission.k8s.io/v1',
  kind: 'AdmissionReview',
  request: {
    uid: 'tls-test',
    operation: 'CREATE',
    kind: { group: 'trust.cert-manager.io', version: 'v1alpha1', kind: 'Bundle' },
    object: { apiVersion: 'trust.cert-manager.io/v1alpha1', kind: 'Bundle', metadata: { name: 'b' }, spec: { sources: [{ useDefaultCAs: true }] } },
  },
});

/** One admission over a fresh TLS connection; returns the served certificate's fingerprint. */
function admitOverTls(port: number, tls: { maxVersion?: 'TLSv1.2' } = {}, host = '127.0.0.1'): Promise<{ allowed: boolean; fingerprint: string }> {
  return new Promise((resolve, reject) => {
    const request = httpsRequest(
      { host, port, path: WEBHOOK_PATH, method: 'POST', rejectUnauthorized: false, agent: false, headers: { 'content-type': 'application/json' }, ...tls },
      (response) => {
        const fingerprint = (response.socket as TLSSocket).getPeerCertificate().fingerprint256;
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (text += chunk));
        response.on('end', () => resolve({ allowed: (JSON.parse(text) as { response: { allowed: boolean } }).response.allowed, fingerprint }));
      },
    );
    request.on('error', reject);
    request.end(reviewBody);
  });
}

function getPlain(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    httpRequest({ host: '127.0.0.1', port, path }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
    })
      .on('error', reject)
      .end();
  });
}

async function start(dir: string, overrides: { tlsMinVersion?: string; webhookHost?: string } = {}): Promise<RunningWebhook> {
  return startWebhook(
    {
      webhookHost: overrides.webhookHost ?? '127.0.0.1',
      webhookPort: 0,
      certificateDir: dir,
      tlsMinVersion: overrides.tlsMinVersion ?? '',
      tlsCipherSuites: [],
      trustNamespace: 'trust',
      sourceNamespaces: [],
      readinessProbePort: 0,
      readinessProbePath: '/readyz',
      metricsPort: 0,
    },
    silent,
    { certificatePollIntervalMs: 100 },
  );
}

test('the default host 0.0.0.0 serves IPv4 and, where the host has IPv6, IPv6 too (as upstream\'s Go server)', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'webhook-dual-'));
  await writeServingCertificate(dir, await makeServingCertificate('webhook-dual'));
  const webhook = await start(dir, { webhookHost: '0.0.0.0' });
  try {
    assert.equal((await admitOverTls(webhook.webhookPort)).allowed, true);
    if ((await listenHost('0.0.0.0')) !== '::') {
      t.diagnostic('this host has no IPv6: the IPv6 half is not exercised');
      return;
    }
    assert.equal((await admitOverTls(webhook.webhookPort, {}, '::1')).allowed, true);
  } finally {
    await webhook.close();
    await rm(dir, { recursive: true, force: true });
  }
});

test('HTTPS with real files: rotation is served without restart while requests keep succeeding', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'webhook-tls-'));
  const first = await makeServingCertificate('webhook-first');
  const second = await makeServingCertificate('webhook-second');
  await writeServingCertificate(dir, first);
  const webhook = await start(dir);
  try {
    assert.equal((await admitOverTls(webhook.webhookPort)).fingerprint, first.fingerprint256);
    assert.deepEqual(await getPlain(webhook.probePort, '/readyz'), { status: 200, body: 'ok\n' });
    assert.equal((await getPlain(webhook.probePort, '/healthz')).status, 200);
    assert.equal((await getPlain(webhook.probePort, '/nope')).status, 404);

    // Keep admitting on fresh connections during the rotation; every one must succeed.
    let stop = false;
    const seen = new Set<string>();
    let admissions = 0;
    const traffic = (async () => {
      while (!stop) {
        const result = await admitOverTls(webhook.webhookPort);
        assert.equal(result.allowed, true);
        seen.add(result.fingerprint);
        admissions++;
      }
    })();
    await writeServingCertificate(dir, second);
    // Bounded wait for the new certificate (watch or 100 ms poll), not a timing assertion.
    for (let i = 0; i < 200 && !seen.has(second.fingerprint256); i++) await sleep(50);
    stop = true;
    await traffic;
    assert.ok(seen.has(second.fingerprint256), 'the rotated certificate is served');
    assert.ok(admissions > 1);
    assert.equal((await admitOverTls(webhook.webhookPort)).fingerprint, second.fingerprint256);

    const metrics = await getPlain(webhook.metricsPort, '/metrics');
    assert.equal(metrics.status, 200);
    assert.match(metrics.body, /trust_manager_webhook_admissions_total\{operation="CREATE",result="allowed"\} \d+/);
    assert.match(metrics.body, /trust_manager_webhook_admission_duration_seconds_bucket/);
  } finally {
    await webhook.close();
    await rm(dir, { recursive: true, force: true });
  }
  assert.equal(webhook.isReady(), false);
  await assert.rejects(admitOverTls(webhook.webhookPort));
});

test('a slow client and a dropped client do not stop the server', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'webhook-slow-'));
  await writeServingCertificate(dir, await makeServingCertificate('webhook-slow'));
  const webhook = await start(dir);
  try {
    const slow = connect({ host: '127.0.0.1', port: webhook.webhookPort, rejectUnauthorized: false });
    await new Promise((resolve) => slow.once('secureConnect', resolve));
    slow.write(`POST ${WEBHOOK_PATH} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{"apiVersion":`);
    slow.on('error', () => undefined);

    const dropped = connect({ host: '127.0.0.1', port: webhook.webhookPort, rejectUnauthorized: false });
    await new Promise((resolve) => dropped.once('secureConnect', resolve));
    dropped.write(`POST ${WEBHOOK_PATH} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 5000\r\n\r\n{"apiVer`);
    dropped.destroy();

    const results = await Promise.all(Array.from({ length: 20 }, () => admitOverTls(webhook.webhookPort)));
    assert.ok(results.every((result) => result.allowed));
    slow.destroy();
  } finally {
    await webhook.close();
    await rm(dir, { recursive: true, force: true });
  }
});

test('--tls-min-version VersionTLS13 refuses a TLS 1.2-only client', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'webhook-tls13-'));
  await writeServingCertificate(dir, await makeServingCertificate('webhook-13'));
  const webhook = await start(dir, { tlsMinVersion: 'VersionTLS13' });
  try {
    await assert.rejects(admitOverTls(webhook.webhookPort, { maxVersion: 'TLSv1.2' }));
    assert.equal((await admitOverTls(webhook.webhookPort)).allowed, true);
  } finally {
    await webhook.close();
    await rm(dir, { recursive: true, force: true });
  }
});

test('the reloader waits for missing files and ignores a mismatched pair', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'webhook-reload-'));
  const changes: string[] = [];
  const reloader = new CertificateReloader({ dir, logger: silent, pollIntervalMs: 50, onChange: (pair) => changes.push(pair.cert.toString()) });
  try {
    const loaded = reloader.start();
    const a = await makeServingCertificate('reload-a');
    const b = await makeServingCertificate('reload-b');
    await writeServingCertificate(dir, a);
    assert.equal((await loaded).cert.toString(), a.cert);
    // A key from b with the certificate of a: inconsistent, keep serving a.
    await writeServingCertificate(dir, { ...a, key: b.key });
    await reloader.check();
    assert.equal(reloader.current?.key.toString(), a.key);
    await writeServingCertificate(dir, b);
    await reloader.check();
    assert.equal(reloader.current?.cert.toString(), b.cert);
    assert.deepEqual(changes, [a.cert, b.cert]);
  } finally {
    reloader.close();
    await rm(dir, { recursive: true, force: true });
  }
});
