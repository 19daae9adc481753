// Admission throughput, latency and memory of the real webhook process over HTTPS on loopback.
//   taskset -c 1 node test/bench/webhook.bench.ts [--duration 10] [--connections 8] [--sources]
// The webhook runs as its own process pinned to core 0: the compiled bundle the image runs (`pnpm
// build`, dist/webhook.js) with the chart's V8 flags (WEBHOOK_NODE_FLAGS in
// controller/src/node-flags.ts; TM_BENCH_WEBHOOK_NODE_OPTIONS overrides them) and the image's
// GLIBC_TUNABLES (TM_BENCH_GLIBC_TUNABLES overrides them, '' for glibc's defaults), or with --sources
// `node webhook/src/main.ts`. autocannon drives it from this process. Cases: a small Bundle, and one
// whose inLine holds 200 distinct CA certificates (every one parsed on every admission). RSS (from
// /proc) at idle, during each case (median and peak of samples every 250 ms), and after a burst of
// maximum-size admissions (a body just under the 4 MiB limit), 5, 30 and 60 s later.

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { get } from 'node:http';
import { request } from 'node:https';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import { WEBHOOK_PATH } from '@trust-manager/shared/api/constants.ts';
import { clearCertificateCache } from '@trust-manager/shared/certs/certificate.ts';
import { makeCA } from '@trust-manager/shared/certs/testing/fixtures.ts';
import { freePort } from '@trust-manager/shared/testing/net.ts';
import { admissionReview, bundleObject } from '@trust-manager/webhook/testing/admission-review.ts';
import { makeServingCertificate, writeServingCertificate } from '@trust-manager/webhook/testing/serving-cert.ts';
import { validateBundle } from '@trust-manager/webhook/validate.ts';
import { WEBHOOK_BODY_LIMIT } from '@trust-manager/webhook/app.ts';
import { WEBHOOK_NODE_FLAGS } from '@trust-manager/controller/node-flags.ts';
import { buildAll } from '../../scripts/build.ts';
import { median, megabytes, overridePrefix, rssBytes, tunablesPrefix, withBenchTunables } from './support.ts';

/** The part of autocannon's API used here (the package ships no type declarations). */
interface AutocannonOptions {
  url: string;
  method: 'POST';
  headers: Record<string, string>;
  body: string;
  connections: number;
  duration?: number;
  amount?: number;
}
interface AutocannonResult {
  requests: { total: number; average: number };
  latency: { p50: number; p99: number };
  errors: number;
  non2xx: number;
  timeouts: number;
}
const autocannon = createRequire(import.meta.url)('autocannon') as (options: AutocannonOptions) => Promise<AutocannonResult>;

const { values } = parseArgs({
  options: { duration: { type: 'string', default: '10' }, connections: { type: 'string', default: '8' }, sources: { type: 'boolean', default: false } },
});
const WEBHOOK_FLAGS = (process.env.TM_BENCH_WEBHOOK_NODE_OPTIONS ?? WEBHOOK_NODE_FLAGS.join(' ')).split(' ').filter((flag) => flag !== '');
const duration = Number(values.duration);
const connections = Number(values.connections);
const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

function review(spec: unknown): string {
  return JSON.stringify(admissionReview(bundleObject('bench', spec)));
}

async function waitReady(port: number): Promise<void> {
  for (let i = 0; i < 300; i++) {
    const ok = await new Promise<boolean>((resolve) => {
      get({ host: '127.0.0.1', port, path: '/readyz' }, (response) => {
        response.resume();
        resolve(response.statusCode === 200);
      }).on('error', () => resolve(false));
    });
    if (ok) return;
    await sleep(100);
  }
  throw new Error('webhook did not become ready');
}

/** One request to check the answer is what we think we measure. */
function admitOnce(port: number, body: string): Promise<{ allowed: boolean; warnings: number }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: WEBHOOK_PATH, method: 'POST', rejectUnauthorized: false, headers: { 'content-type': 'application/json' } }, (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (text += chunk));
      response.on('end', () => {
        const parsed = JSON.parse(text) as { response: { allowed: boolean; warnings?: string[] } };
        resolve({ allowed: parsed.response.allowed, warnings: parsed.response.warnings?.length ?? 0 });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

interface Row {
  name: string;
  bodyBytes: number;
  requests: number;
  perSecond: number;
  p50: number;
  p99: number;
  errors: number;
  rssMedian: number;
  rssPeak: number;
}

/** Samples the RSS of `pid` every 250 ms while `work` runs. */
async function sampledRss<T>(pid: number, work: Promise<T>): Promise<{ result: T; median: number; peak: number }> {
  const samples: number[] = [];
  const timer = setInterval(() => samples.push(rssBytes(pid)), 250);
  try {
    const result = await work;
    samples.push(rssBytes(pid));
    return { result, median: median(samples), peak: Math.max(...samples) };
  } finally {
    clearInterval(timer);
  }
}

async function measure(name: string, port: number, pid: number, body: string): Promise<Row> {
  const check = await admitOnce(port, body);
  if (!check.allowed) throw new Error(`${name}: the bench Bundle is denied`);
  // Warm-up (JIT, TLS sessions), then the measured run.
  await autocannon({ url: `https://127.0.0.1:${port}${WEBHOOK_PATH}`, method: 'POST', headers: { 'content-type': 'application/json' }, body, connections, duration: 2 });
  const { result, median: rssMedian, peak: rssPeak } = await sampledRss(
    pid,
    autocannon({
      url: `https://127.0.0.1:${port}${WEBHOOK_PATH}`,
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
      connections,
      duration,
    }),
  );
  return {
    rssMedian,
    rssPeak,
    name,
    bodyBytes: Buffer.byteLength(body),
    requests: result.requests.total,
    perSecond: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.non2xx + result.timeouts,
  };
}

/**
 * The HTTP runs repeat one body, so after the first request every certificate is a parse-cache hit.
 * This measures the other extreme in-process: every admission parses all 200 certificates anew.
 */
function coldValidation(body: string, runs: number): { median: number; p99: number } {
  const object = (JSON.parse(body) as { request: { object: unknown } }).request.object;
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    clearCertificateCache();
    const started = performance.now();
    if (validateBundle(object, { trustNamespace: 'cert-manager', sourceNamespaces: [] }).errors.length > 0) throw new Error('denied');
    times.push(performance.now() - started);
  }
  times.sort((a, b) => a - b);
  const at = (q: number): number => times[Math.min(times.length - 1, Math.floor(q * times.length))] ?? Number.NaN;
  return { median: at(0.5), p99: at(0.99) };
}

const dir = await mkdtemp(join(tmpdir(), 'webhook-bench-'));
let webhook: ChildProcess | undefined;
try {
  await writeServingCertificate(dir, await makeServingCertificate('webhook-bench'));
  const [webhookPort, probePort, metricsPort] = [await freePort(), await freePort(), await freePort()];
  let entrypoint = join(repoRoot, 'webhook/src/main.ts');
  if (!values.sources) {
    await buildAll(join(dir, 'dist'));
    entrypoint = join(dir, 'dist', 'webhook.js');
  }
  const args = [
    ...(values.sources ? [] : WEBHOOK_FLAGS),
    entrypoint,
    '--webhook-host=127.0.0.1',
    `--webhook-port=${webhookPort}`,
    `--webhook-certificate-dir=${dir}`,
    `--readiness-probe-port=${probePort}`,
    `--metrics-port=${metricsPort}`,
    '--log-format=json',
    '--trust-namespace=cert-manager',
  ];
  // Logs stay on (one line per admission, as in production) and go to /dev/null.
  webhook = spawn('taskset', ['-c', '0', process.execPath, ...args], { stdio: ['ignore', 'ignore', 'inherit'], env: withBenchTunables({ ...process.env, NODE_OPTIONS: '' }) });
  await waitReady(probePort);
  const pid = webhook.pid!; // taskset execs node: the same process
  await sleep(2000);
  const idleRss = rssBytes(pid);

  const root = await makeCA({ cn: 'bench-root', extraName: 'O=cert-manager' });
  const small = review({ sources: [{ inLine: root.pem }, { configMap: { name: 'extra-cas', key: 'ca.crt' } }], target: { configMap: { key: 'ca.crt' }, namespaceSelector: { matchLabels: { 'trust-injection': 'enabled' } } } });
  const cas = await Promise.all(Array.from({ length: 200 }, (_, i) => makeCA({ cn: `bench-ca-${i}`, extraName: 'O=bench' })));
  const large = review({ sources: [{ inLine: cas.map((ca) => ca.pem).join('') }], target: { configMap: { key: 'ca.crt' } } });

  const rows = [await measure('small Bundle (1 inLine CA + 1 ConfigMap source)', webhookPort, pid, small), await measure('200-certificate inLine', webhookPort, pid, large)];

  // A burst of maximum-size admissions: the 200 certificates repeated up to just under the body limit.
  const pems = cas.map((ca) => ca.pem).join('');
  const maximal = review({ sources: [{ inLine: pems.repeat(Math.floor((WEBHOOK_BODY_LIMIT - 64 * 1024) / Buffer.byteLength(pems))) }], target: { configMap: { key: 'ca.crt' } } });
  const burst = await sampledRss(
    pid,
    autocannon({ url: `https://127.0.0.1:${webhookPort}${WEBHOOK_PATH}`, method: 'POST', headers: { 'content-type': 'application/json' }, body: maximal, connections, amount: 64 }),
  );
  const after: Array<[number, number]> = [];
  const burstEnded = Date.now();
  for (const at of [5, 30, 60]) {
    await sleep(burstEnded + at * 1000 - Date.now());
    after.push([at, rssBytes(pid)]);
  }
  // What the RSS left after the burst is made of: the V8 heap (committed and used) and memory outside it.
  const metricsText = await new Promise<string>((resolve, reject) => {
    get({ host: '127.0.0.1', port: metricsPort, path: '/metrics' }, (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (text += chunk));
      response.on('end', () => resolve(text));
    }).on('error', reject);
  });
  const gauge = (name: string): number => Number(new RegExp(`^${name} (\\S+)`, 'm').exec(metricsText)?.[1] ?? Number.NaN);

  const how = tunablesPrefix() + (values.sources ? 'node webhook/src/main.ts' : `node ${WEBHOOK_FLAGS.join(' ')} dist/webhook.js`.replace('  ', ' '));
  console.log(`\n${overridePrefix('TM_BENCH_WEBHOOK_NODE_OPTIONS')}${overridePrefix('TM_BENCH_GLIBC_TUNABLES')}node test/bench/webhook.bench.ts --duration ${duration} --connections ${connections}${values.sources ? ' --sources' : ''}  (webhook: taskset -c 0 ${how}; Node ${process.version})\n`);
  console.log('| case | body bytes | admissions/s | p50 ms | p99 ms | requests | errors | RSS median | RSS peak |');
  console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const row of rows) {
    console.log(`| ${row.name} | ${row.bodyBytes} | ${Math.round(row.perSecond)} | ${row.p50} | ${row.p99} | ${row.requests} | ${row.errors} | ${megabytes(row.rssMedian)} | ${megabytes(row.rssPeak)} |`);
  }
  const burstErrors = burst.result.errors + burst.result.non2xx + burst.result.timeouts;
  console.log(`\nRSS at idle after start: ${megabytes(idleRss)}. Burst of ${burst.result.requests.total} admissions of ${(Buffer.byteLength(maximal) / 1e6).toFixed(2)} MB (${connections} connections, ${burstErrors} errors): peak ${megabytes(burst.peak)}; ${after.map(([at, rss]) => `${at} s later ${megabytes(rss)}`).join(', ')} (V8 heap ${megabytes(gauge('nodejs_heap_size_used_bytes'))} used of ${megabytes(gauge('nodejs_heap_size_total_bytes'))}, external ${megabytes(gauge('nodejs_external_memory_bytes'))})`);
  const cold = coldValidation(large, 200);
  console.log(`\n200-certificate validateBundle in this process, parse cache cleared before each of 200 runs: median ${cold.median.toFixed(2)} ms, p99 ${cold.p99.toFixed(2)} ms`);
} finally {
  webhook?.kill('SIGTERM');
  await rm(dir, { recursive: true, force: true });
}
