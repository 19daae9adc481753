// What the controller benchmarks share: etcd compaction between phases, namespaces in bulk, waiting
// for a rollout through a watch, the bare server-side-apply loop (the floor a controller is compared
// with), /proc readings that work for any process (Node or Go), the image's V8 code cache for our
// controller, and polling readiness.
import { execFileSync } from 'node:child_process';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { get } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { join } from 'node:path';
import { HASH_ANNOTATION } from '@trust-manager/shared/api/constants.ts';
import type { Bundle } from '@trust-manager/shared/api/types.ts';
import type { Applier } from '@trust-manager/controller/kube/apply.ts';
import type { KubeClient } from '@trust-manager/shared/kube/client.ts';
import type { KubeObject } from '@trust-manager/controller/kube/object.ts';
import { Reflector } from '@trust-manager/controller/kube/reflector.ts';
import { CONFIGMAPS, NAMESPACES, resourcePath } from '@trust-manager/shared/kube/resource.ts';
import type { ReconcileOptions } from '@trust-manager/controller/core/options.ts';
import { buildBundleSources, type SourceReader } from '@trust-manager/controller/core/sources.ts';
import { buildTargetApply, encodeBundle, encodingFormatsFor, targetHashFor } from '@trust-manager/controller/core/targets.ts';
import { forEachBounded } from '@trust-manager/controller/reconciler.ts';
import { loadPackage } from '@trust-manager/controller/package/package.ts';
import { CONTROLLER_NODE_FLAGS, GLIBC_TUNABLES } from '@trust-manager/controller/node-flags.ts';
import { waitFor } from '../cluster/harness.ts';

/** The middle value; of an even count, the mean of the two middle values. */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  if (sorted.length === 0) return 0;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
export const seconds = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;
export const megabytes = (bytes: number): string => `${(bytes / 1e6).toFixed(0)} MB`;
export const log = (line: string): void => void process.stderr.write(`[bench] ${line}\n`);

/**
 * The allocator environment of a process under test: the image's (GLIBC_TUNABLES in
 * controller/src/node-flags.ts), or TM_BENCH_GLIBC_TUNABLES's value when set ('' for glibc's defaults).
 */
function benchTunables(): { GLIBC_TUNABLES?: string } {
  const value = process.env.TM_BENCH_GLIBC_TUNABLES ?? GLIBC_TUNABLES;
  return value === '' ? {} : { GLIBC_TUNABLES: value };
}
/**
 * `env` with those allocator settings in place of any it carries, and without NODE_EXTRA_CA_CERTS, as
 * in a pod: node parses that file's certificates when it loads TLS (where it names the system bundle,
 * about half a megabyte at idle, which upstream's Go process, ignoring the variable, never pays).
 */
export function withBenchTunables(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const { GLIBC_TUNABLES: _inherited, NODE_EXTRA_CA_CERTS: _notInAPod, ...rest } = env;
  return { ...rest, ...benchTunables() };
}
/**
 * Our controller's node flags in a benchmark: TM_BENCH_CONTROLLER_NODE_OPTIONS's when set ('' for none),
 * else the chart's. They go on node's command line (V8 flags are refused in NODE_OPTIONS).
 */
export const BENCH_CONTROLLER_FLAGS: readonly string[] = (process.env.TM_BENCH_CONTROLLER_NODE_OPTIONS ?? CONTROLLER_NODE_FLAGS.join(' '))
  .split(' ')
  .filter((flag) => flag !== '');
/** The same as a command line's prefix, for the tables the benchmarks print. */
export function tunablesPrefix(): string {
  const { GLIBC_TUNABLES: value } = benchTunables();
  return value === undefined ? '' : `GLIBC_TUNABLES=${value} `;
}
/** The override, when set, as the prefix of the benchmark's own command line. */
export function overridePrefix(name: string): string {
  const value = process.env[name];
  return value === undefined ? '' : `${name}='${value}' `;
}

/** TM_BENCH_COMPILE_CACHE=0: our controller starts without a code cache. */
const WITHOUT_CODE_CACHE = process.env.TM_BENCH_COMPILE_CACHE === '0';
/**
 * V8's code cache of a compiled entrypoint, made the way the operator image makes it (the Dockerfile runs
 * `node <flags> <entrypoint> --help` once under NODE_COMPILE_CACHE). The returned function gives the
 * environment for one start with a fresh copy of it: the image's cache is read-only, and a process here
 * would write a warmer one back at exit. TM_BENCH_COMPILE_CACHE=0 starts without a cache.
 */
export function imageCodeCache(entrypoint: string, nodeFlags: readonly string[], directory: string): (env: NodeJS.ProcessEnv) => NodeJS.ProcessEnv {
  if (WITHOUT_CODE_CACHE) return (env) => env;
  const made = join(directory, 'compile-cache');
  const { NODE_OPTIONS: _options, ...env } = process.env;
  execFileSync(process.execPath, [...nodeFlags, entrypoint, '--help'], { env: { ...env, NODE_COMPILE_CACHE: made }, stdio: 'ignore' });
  let copies = 0;
  return (startEnv) => {
    const copy = join(directory, `compile-cache-${++copies}`);
    cpSync(made, copy, { recursive: true });
    return { ...startEnv, NODE_COMPILE_CACHE: copy };
  };
}
/** The same as a command line's prefix, for the tables the benchmarks print. */
export function codeCachePrefix(): string {
  return WITHOUT_CODE_CACHE ? '' : "NODE_COMPILE_CACHE=<the image's> ";
}

/**
 * Polls `url` every 2 ms with node:http (nothing to warm up, no pooled connection to wait for) until it
 * answers 200; false as soon as `running()` is false.
 */
export async function pollUntilReady(url: string, running: () => boolean): Promise<boolean> {
  const status = (): Promise<number> =>
    new Promise((resolve) => {
      get(url, { agent: false }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      }).on('error', () => resolve(0));
    });
  while (running()) {
    if ((await status()) === 200) return true;
    await sleep(2);
  }
  return false;
}

/** etcd keeps every revision until compaction; compact and defragment between phases so a run stays far below the 2 GiB quota. */
export async function compactEtcd(etcdUrl: string): Promise<number> {
  const post = async (path: string, body: unknown): Promise<Record<string, unknown>> =>
    (await (await fetch(`${etcdUrl}${path}`, { method: 'POST', body: JSON.stringify(body) })).json()) as Record<string, unknown>;
  const status = (await post('/v3/maintenance/status', {})) as { header: { revision: string } };
  await post('/v3/kv/compaction', { revision: status.header.revision, physical: true });
  await post('/v3/maintenance/defragment', {});
  const after = (await post('/v3/maintenance/status', {})) as { dbSize: string };
  return Number(after.dbSize);
}

export async function createNamespaces(client: KubeClient, names: string[], labels: Record<string, string>): Promise<void> {
  await forEachBounded(names, 25, new AbortController().signal, async (name) => {
    await client.json({ method: 'POST', path: resourcePath(NAMESPACES), body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels } } });
  });
}

/** The size of each unrelated ConfigMap the benchmarks put in the cluster (objects no controller should cache). */
export const UNRELATED_SIZE = 100 * 1024;

/** `count` unrelated ConfigMaps of UNRELATED_SIZE, spread over ten namespaces `<prefix>-0..9`. */
export async function createUnrelatedConfigMaps(client: KubeClient, prefix: string, count: number, concurrency: number): Promise<void> {
  const namespaces = Array.from({ length: 10 }, (_, i) => `${prefix}-${i}`);
  await createNamespaces(client, namespaces, {});
  const filler = 'x'.repeat(UNRELATED_SIZE);
  await forEachBounded(Array.from({ length: count }, (_, i) => i), concurrency, new AbortController().signal, async (i) => {
    await client.json({ method: 'POST', path: resourcePath(CONFIGMAPS, { namespace: namespaces[i % 10] }), body: { metadata: { name: `unrelated-${i}` }, data: { blob: filler } } });
  });
}

/** Watches ConfigMap metadata matching `labelSelector` and resolves (with the time) when `count` of them carry `hash`. */
export async function waitForHash(client: KubeClient, labelSelector: string, count: number, hash: string): Promise<number> {
  const reflector = new Reflector<KubeObject>({ client, resource: CONFIGMAPS, labelSelector, metadataOnly: true });
  reflector.start();
  try {
    await waitFor(`${count} objects (${labelSelector}) with the new hash`, () => reflector.list().filter((t) => t.metadata.annotations?.[HASH_ANNOTATION] === hash).length === count || undefined, 1_800_000);
    return Date.now();
  } finally {
    await reflector.stop();
  }
}

export const NO_SOURCES: SourceReader = { getConfigMap: () => undefined, listConfigMaps: () => [], getSecret: () => undefined, listSecrets: () => [] };

/** The target hash and PEM the core computes for `bundle` (its sources must not need the cluster). */
export function expectedTarget(bundle: Bundle, options: ReconcileOptions): { hash: string; pem: string; certificates: number } {
  const sources = buildBundleSources(bundle, NO_SOURCES, options, new Date());
  if (!sources.ok) throw new Error(sources.message);
  return { hash: targetHashFor(bundle, 'ConfigMap', sources.pem), pem: sources.pem, certificates: sources.certificates.length };
}

/**
 * The bare loop: the apply bodies the core builds for `bundle`, to objects of their own (a label of
 * their own, no owner: no controller adopts or prunes them), `concurrency` in flight.
 */
export function bareBodies(bundle: Bundle, options: ReconcileOptions, namespaces: readonly string[], name: string, labels: Record<string, string>): KubeObject[] {
  const sources = buildBundleSources(bundle, NO_SOURCES, options, new Date());
  if (!sources.ok) throw new Error(sources.message);
  const encoded = encodeBundle({ pem: sources.pem, certificates: sources.certificates }, encodingFormatsFor(bundle));
  return namespaces.map((namespace) => {
    const body = buildTargetApply({ kind: 'ConfigMap', namespace, name }, bundle, encoded) as unknown as KubeObject;
    body.metadata = { name, namespace, labels, ...(body.metadata.annotations ? { annotations: body.metadata.annotations } : {}) };
    return body;
  });
}

export async function applyAll(applier: Applier, bodies: readonly KubeObject[], concurrency: number): Promise<void> {
  await forEachBounded(bodies, concurrency, new AbortController().signal, async (body) => {
    await applier.apply(CONFIGMAPS, body, { metadataOnlyResponse: true });
  });
}

/** Resident set size of a process (any language), from /proc. */
export function rssBytes(pid: number): number {
  return statusBytes(pid, 'VmRSS');
}

/**
 * The anonymous part of it (heaps, stacks): what the process itself allocated, without the resident
 * pages of its executable and libraries, which the page cache shares between processes (and which a
 * container's memory.stat rss leaves out).
 */
export function anonymousBytes(pid: number): number {
  return statusBytes(pid, 'RssAnon');
}

function statusBytes(pid: number, field: string): number {
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) * 1024 : 0;
}

/** User + system CPU time of a process so far, in seconds, from /proc. */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // Fields after the command: state is index 0, utime 11, stime 12 (clock ticks, 100 per second on Linux).
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/**
 * Default CAs: the machine's Debian bundle written as a package into `dir` (like the chart's package
 * image), and the reconcile options the core computes expected targets with.
 */
export async function debianPackage(dir: string, trustNamespace: string): Promise<{ packagePath: string; options: ReconcileOptions }> {
  const packagePath = join(dir, 'package.json');
  writeFileSync(packagePath, JSON.stringify({ name: 'cert-manager-debian-bench', version: '1', bundle: readFileSync('/etc/ssl/certs/ca-certificates.crt', 'utf8') }));
  const options: ReconcileOptions = {
    trustNamespace,
    sourceNamespaces: [],
    secretTargetsEnabled: false,
    filterExpiredCertificates: false,
    filterNonCACerts: false,
    targetNamespaces: [],
    defaultPackage: await loadPackage(packagePath),
  };
  return { packagePath, options };
}
