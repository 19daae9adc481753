// Certificate core benchmark on the machine's Debian bundle: node test/bench/certs.bench.ts
// Median of RUNS runs per operation (after one warm-up run); results go to docs/performance.md.

import { readFileSync } from 'node:fs';
import { clearCertificateCache } from '@trust-manager/shared/certs/certificate.ts';
import { encodeJks } from '@trust-manager/shared/certs/jks.ts';
import { encodePkcs12, type Pkcs12Profile } from '@trust-manager/shared/certs/pkcs12.ts';
import { CertPool } from '@trust-manager/shared/certs/pool.ts';

const BUNDLE_PATH = process.argv[2] ?? '/etc/ssl/certs/ca-certificates.crt';
const RUNS = 25;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

function measure(run: () => void, before: () => void = () => {}): { median: number; max: number } {
  before();
  run(); // warm-up: JIT, lazy module state
  const times: number[] = [];
  for (let k = 0; k < RUNS; k++) {
    before();
    const start = performance.now();
    run();
    times.push(performance.now() - start);
  }
  return { median: median(times), max: Math.max(...times) };
}

function build(bundle: Buffer): CertPool {
  const pool = new CertPool();
  pool.addPem(bundle);
  pool.toPem();
  return pool;
}

const bundle = readFileSync(BUNDLE_PATH);
const firstStart = performance.now();
const pool = build(bundle);
const firstBuild = performance.now() - firstStart;
const certs = pool.certificates();

const rows: [string, { median: number; max: number }, number | undefined][] = [
  ['cold build (parse, dedup, sort, PEM)', measure(() => build(bundle), clearCertificateCache), 20],
  ['warm rebuild (parse cache hit)', measure(() => build(bundle)), 3],
  ['JKS (changeit)', measure(() => encodeJks(certs, 'changeit')), 5],
];
for (const [profile, password] of [
  ['', ''],
  ['LegacyRC2', 'changeit'],
  ['LegacyDES', 'changeit'],
  ['Modern2023', 'changeit'],
] as [Pkcs12Profile, string][]) {
  const label = password === '' ? 'PKCS#12 password-less' : `PKCS#12 ${profile}`;
  rows.push([label, measure(() => encodePkcs12(certs, password, profile)), profile === 'Modern2023' ? 20 : undefined]);
}

console.log(`command: node test/bench/certs.bench.ts ${BUNDLE_PATH}`);
console.log(`bundle: ${certs.length} certificates, ${bundle.length} bytes; node ${process.version}; median of ${RUNS} runs`);
console.log(`first build in a fresh process (no JIT, empty cache): ${firstBuild.toFixed(2)} ms`);
console.log('| operation | median ms | max ms | target ms |');
console.log('|---|---:|---:|---:|');
for (const [label, { median: m, max }, target] of rows) {
  const verdict = target === undefined ? '-' : `<= ${target}${m <= target ? '' : ' MISSED'}`;
  console.log(`| ${label} | ${m.toFixed(2)} | ${max.toFixed(2)} | ${verdict} |`);
}
