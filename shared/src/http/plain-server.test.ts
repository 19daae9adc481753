import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';

import { listenHost, metricsRoutes, probeRoutes, servePlain, type RunningServer } from './plain-server.ts';

interface Answer {
  status: number;
  body: string;
  headers: Record<string, string | string[] | undefined>;
}

function call(port: number, path: string, method = 'GET', host = '127.0.0.1'): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ host, port, path, method }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
    });
    req.on('error', reject);
    req.end();
  });
}

async function withServer(fn: (server: RunningServer, setReady: (ready: boolean) => void) => Promise<void>): Promise<void> {
  let ready = false;
  const server = await servePlain({
    port: 0,
    routes: {
      ...probeRoutes({ readinessPath: '/readyz', isReady: () => ready, notReadyReason: 'caches not synced' }),
      ...metricsRoutes({ metrics: () => Promise.resolve('up 1\n'), contentType: 'text/plain; version=0.0.4; charset=utf-8' }),
      '/broken': () => Promise.reject(new Error('collector failed')),
    },
  });
  try {
    await fn(server, (value) => (ready = value));
  } finally {
    await server.close();
  }
}

test('probes: /healthz always, the readiness path once ready, with the reason while not', async () => {
  await withServer(async (server, setReady) => {
    assert.deepEqual(await call(server.port, '/healthz').then(({ status, body }) => ({ status, body })), { status: 200, body: 'ok\n' });
    const notReady = await call(server.port, '/readyz?verbose');
    assert.equal(notReady.status, 503);
    assert.equal(notReady.body, 'caches not synced\n');
    assert.equal(notReady.headers['content-type'], 'text/plain; charset=utf-8');
    setReady(true);
    assert.deepEqual(await call(server.port, '/readyz').then(({ status, body }) => ({ status, body })), { status: 200, body: 'ok\n' });
  });
});

test('metrics: the registry text with its content type; a failing collector is a 500 with the reason', async () => {
  await withServer(async (server) => {
    const metrics = await call(server.port, '/metrics');
    assert.equal(metrics.status, 200);
    assert.equal(metrics.body, 'up 1\n');
    assert.equal(metrics.headers['content-type'], 'text/plain; version=0.0.4; charset=utf-8');
    assert.deepEqual(await call(server.port, '/broken').then(({ status, body }) => ({ status, body })), { status: 500, body: 'collector failed\n' });
  });
});

test('only GET and HEAD; unknown paths are 404', async () => {
  await withServer(async (server) => {
    const head = await call(server.port, '/healthz', 'HEAD');
    assert.equal(head.status, 200);
    assert.equal(head.body, '');
    assert.equal(head.headers['content-length'], '3');
    const post = await call(server.port, '/healthz', 'POST');
    assert.equal(post.status, 405);
    assert.equal(post.headers.allow, 'GET, HEAD');
    assert.deepEqual(await call(server.port, '/nope').then(({ status, body }) => ({ status, body })), { status: 404, body: 'not found\n' });
    assert.equal((await call(server.port, '/constructor')).status, 404);
  });
});

test('all interfaces means IPv6 and IPv4 (as Go serves 0.0.0.0), or IPv4 alone where there is no IPv6', async (t) => {
  assert.equal(await listenHost('127.0.0.1'), '127.0.0.1');
  const wildcard = await listenHost('0.0.0.0');
  assert.equal(await listenHost(undefined), wildcard);
  assert.equal(await listenHost(''), wildcard);
  await withServer(async (server) => {
    assert.equal((await call(server.port, '/healthz', 'GET', '127.0.0.1')).status, 200);
    if (wildcard !== '::') {
      assert.equal(wildcard, '0.0.0.0');
      t.diagnostic('this host has no IPv6: the IPv6 half is not exercised');
      return;
    }
    assert.equal((await call(server.port, '/healthz', 'GET', '::1')).status, 200);
  });
});
