// Side by side: upstream trust-manager (Go, the pinned release built by test/cluster/build-upstream.sh)
// and this project's controller (the compiled bundle the image runs, `pnpm build`, with the chart's V8
// flags from controller/src/node-flags.ts and the image's V8 code cache), in turn on one private local
// control plane (etcd + kube-apiserver), several rounds (A B A B), plus the bare server-side-apply loop
// as the floor.
//   pnpm bench:side-by-side                       (= node test/bench/side-by-side.bench.ts)
//   node test/bench/side-by-side.bench.ts --namespaces 1000,5000 --rounds 2 --unrelated 2000
//   node test/bench/side-by-side.bench.ts --only ours     (skips upstream: a quick look at this project)
// Each subject gets the same Bundle (the machine's Debian CA bundle as the default package plus one
// private CA; PEM + JKS targets) selecting every bench namespace, and per round: start to /readyz,
// RSS at idle (no Bundle), the first rollout and an update (until a watch sees every target with the
// new hash), CPU seconds and API requests (kube-apiserver's count, the bench's own subtracted) for
// both, RSS after them, and the "Forcing ... watcher close" lines kube-apiserver logged meanwhile.
// Then, with 2,000 unrelated 100 KB ConfigMaps in the cluster and the Bundle's targets already correct:
// RSS after a restart, and the writes that resync made. RSS (and its anonymous part, without the
// executable's pages) and CPU come from /proc for both. Prints one Markdown table (medians over the
// rounds) with the ratios.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { BUNDLE_LABEL } from '@trust-manager/shared/api/constants.ts';
import type { Bundle } from '@trust-manager/shared/api/types.ts';
import { makeCA, type TestCertificate } from '@trust-manager/shared/certs/testing/fixtures.ts';
import { Applier } from '@trust-manager/controller/kube/apply.ts';
import { KubeClient, type KubeRequest } from '@trust-manager/shared/kube/client.ts';
import { loadKubeConnection } from '@trust-manager/shared/kube/kubeconfig.ts';
import type { Readable } from 'node:stream';
import { BUNDLES, CONFIGMAPS } from '@trust-manager/shared/kube/resource.ts';
import { forEachBounded } from '@trust-manager/controller/reconciler.ts';
import { ControlPlane, freePort } from '../cluster/control-plane.ts';
import { installBundleCRDFromPath, waitFor } from '../cluster/harness.ts';
import { createCA, issueCertificate } from '../cluster/pki.ts';
import { cleanEnvironment, ManagedProcess } from '../cluster/processes.ts';
import { resolveBinDir } from '../cluster/testbin.ts';
import { TestKube } from '../integration/controller-support.ts';
import { buildAll } from '../../scripts/build.ts';
import { anonymousBytes, applyAll, bareBodies, BENCH_CONTROLLER_FLAGS, codeCachePrefix, compactEtcd, cpuSeconds, createNamespaces, createUnrelatedConfigMaps, debianPackage, expectedTarget, log, median, megabytes, imageCodeCache, overridePrefix, pollUntilReady, rssBytes, seconds, tunablesPrefix, UNRELATED_SIZE, waitForHash, withBenchTunables } from './support.ts';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const { values: args } = parseArgs({
  options: {
    namespaces: { type: 'string', default: '1000' },
    rounds: { type: 'string', default: '2' },
    unrelated: { type: 'string', default: '2000' },
    only: { type: 'string' },
  },
  strict: true,
});
const COUNTS = args.namespaces.split(',').map(Number).filter((n) => n > 0);
const ROUNDS = Number(args.rounds);
const UNRELATED_CONFIGMAPS = Number(args.unrelated);
const TRUST_NS = 'sbs-trust';
/** etcd's quota: 5,000 targets of 442 KiB are 2.2 GB per version, above etcd's default of 2 GiB. */
const ETCD_QUOTA_BYTES = 8 * 1024 ** 3;
/**
 * Above 1,000 targets of 442 KiB, a 24 GB machine runs out of memory: etcd's revisions in /dev/shm, and
 * kube-apiserver's Go heap (18 GB at 5,000 namespaces, twice what it holds, until limited).
 */
const LARGE = Math.max(...COUNTS) > 1000;
const API_SERVER_MEMORY_LIMIT = '9GiB';
/** This project's default --max-concurrent-writes: the bare loop runs at the same concurrency. */
const CONCURRENCY = 32;
const UPSTREAM_VERSION = 'v0.24.0';
/** The row under each RSS row: the part a container's memory.stat rss counts (the executable's pages are shared page cache). */
const ANONYMOUS = 'of which anonymous (RssAnon: without the executable\'s pages)';

type SubjectName = 'upstream' | 'ours';

interface Running {
  pid: number;
  startToReadyMs: number;
  metricsUrl: string;
  stop(): Promise<void>;
}

interface Sample {
  startToReadyMs: number[];
  idleRss: number[];
  idleAnonymous: number[];
  rolloutMs: Map<number, number[]>;
  updateMs: Map<number, number[]>;
  cpu: Map<number, number[]>;
  requests: Map<number, number[]>;
  writes: Map<number, number[]>;
  rssAfter: Map<number, number[]>;
  anonymousAfter: Map<number, number[]>;
  forcedCloses: Map<number, number[]>;
  rssUnrelated: number[];
  anonymousUnrelated: number[];
  resyncWrites: number[];
}

/** The bench's own client: counts its requests, so they can be subtracted from kube-apiserver's count. */
class CountingClient extends KubeClient {
  requests = 0;
  override json<T>(req: KubeRequest): Promise<T> {
    this.requests++;
    return super.json<T>(req);
  }
  override stream(req: KubeRequest): Promise<Readable> {
    this.requests++;
    return super.stream(req);
  }
}

const WRITE_VERBS = new Set(['APPLY', 'PATCH', 'POST', 'PUT', 'DELETE', 'CREATE', 'UPDATE', 'DELETECOLLECTION']);

/**
 * kube-apiserver's request counts so far: all, and the writes among them other than the bench's own
 * Bundle applies. Leases are left out: neither controller takes one here (--leader-elect=false), and
 * kube-apiserver renews its own every 10 s.
 */
async function serverRequests(client: KubeClient): Promise<{ all: number; writes: number }> {
  const chunks: Buffer[] = [];
  for await (const chunk of (await client.stream({ path: '/metrics', accept: 'text/plain' })) as AsyncIterable<Buffer>) chunks.push(chunk);
  let all = 0;
  let writes = 0;
  for (const line of Buffer.concat(chunks).toString('utf8').split('\n')) {
    if (!line.startsWith('apiserver_request_total{')) continue;
    const value = Number(line.slice(line.lastIndexOf(' ') + 1));
    const verb = /verb="([A-Z]+)"/.exec(line)?.[1] ?? '';
    const resource = /resource="([^"]*)"/.exec(line)?.[1] ?? '';
    const subresource = /subresource="([^"]*)"/.exec(line)?.[1] ?? '';
    if (resource === 'leases') continue;
    all += value;
    if (WRITE_VERBS.has(verb) && !(resource === 'bundles' && subresource === '')) writes += value;
  }
  return { all, writes };
}

function forcedCloses(logPath: string): number {
  try {
    return (readFileSync(logPath, 'utf8').match(/Forcing .* watcher close due to unresponsiveness/g) ?? []).length;
  } catch {
    return 0;
  }
}

/** Medians of 7 samples over 3.5 s: RSS, and its anonymous part. */
async function memoryMedians(pid: number): Promise<{ rss: number; anonymous: number }> {
  const rss: number[] = [];
  const anonymous: number[] = [];
  for (let i = 0; i < 7; i++) {
    await sleep(500);
    rss.push(rssBytes(pid));
    anonymous.push(anonymousBytes(pid));
  }
  return { rss: median(rss), anonymous: median(anonymous) };
}

async function main(): Promise<void> {
  const workDir = mkdtempSync(join(tmpdir(), 'tm-sbs-'));
  const subjects: SubjectName[] = args.only === 'ours' ? ['ours'] : args.only === 'upstream' ? ['upstream'] : ['upstream', 'ours'];
  const distDir = join(workDir, 'dist');
  await buildAll(distDir);
  const withCodeCache = subjects.includes('ours') ? imageCodeCache(join(distDir, 'controller.js'), BENCH_CONTROLLER_FLAGS, workDir) : (env: NodeJS.ProcessEnv) => env;
  const upstreamBinary = subjects.includes('upstream') ? join(upstreamDirectory(), 'trust-manager') : '';

  const advertiseAddress = process.env.TM_LOCAL_ADDRESS || undefined;
  const etcdPort = await freePort();
  const plane = await ControlPlane.start({ binDir: resolveBinDir(), etcdPort, startControllerManager: false, etcdQuotaBytes: ETCD_QUOTA_BYTES, ...(LARGE ? { etcdOnDisk: true, apiServerMemoryLimit: API_SERVER_MEMORY_LIMIT } : {}), ...(advertiseAddress ? { advertiseAddress } : {}) });
  const etcdUrl = `http://127.0.0.1:${etcdPort}`;
  const apiServerLog = join(plane.logDir, 'kube-apiserver.log');
  const running = new Set<Running>();
  try {
    await installBundleCRDFromPath(plane.kubeconfigPath);
    const client = new CountingClient(loadKubeConnection({ path: plane.kubeconfigPath }));
    const kube = new TestKube(client);
    const applier = new Applier(client);

    const { packagePath, options } = await debianPackage(workDir, TRUST_NS);
    await createNamespaces(client, [TRUST_NS], {});
    const tlsDir = join(workDir, 'upstream-tls');
    mkdirSync(tlsDir);
    const ca = await createCA('upstream-webhook-ca');
    const leaf = await issueCertificate(ca, { commonName: 'localhost', dnsNames: ['localhost'], usage: 'server' });
    writeFileSync(join(tlsDir, 'tls.crt'), leaf.certPem);
    writeFileSync(join(tlsDir, 'tls.key'), leaf.keyPem, { mode: 0o600 });

    const start = async (subject: SubjectName, label: string): Promise<Running> => {
      const metricsPort = await freePort();
      const probePort = await freePort();
      const common = [`--kubeconfig=${plane.kubeconfigPath}`, `--trust-namespace=${TRUST_NS}`, '--leader-elect=false', `--default-package-location=${packagePath}`, `--metrics-port=${metricsPort}`, `--readiness-probe-port=${probePort}`];
      const logPath = join(workDir, `${label}.log`);
      const spawnedAt = performance.now();
      const proc =
        subject === 'upstream'
          ? new ManagedProcess(label, upstreamBinary, [...common, '--webhook-host=127.0.0.1', `--webhook-port=${await freePort()}`, `--webhook-certificate-dir=${tlsDir}`], logPath)
          : new ManagedProcess(label, process.execPath, [...BENCH_CONTROLLER_FLAGS, join(distDir, 'controller.js'), ...common], logPath, withCodeCache(oursEnvironment()));
      if (!(await pollUntilReady(`http://127.0.0.1:${probePort}/readyz`, () => proc.running))) {
        throw new Error(`${label} exited: ${readFileSync(logPath, 'utf8').slice(-2000)}`);
      }
      const handle: Running = {
        pid: proc.child.pid!,
        startToReadyMs: performance.now() - spawnedAt,
        metricsUrl: `http://127.0.0.1:${metricsPort}/metrics`,
        stop: async () => {
          running.delete(handle);
          await proc.stop();
        },
      };
      running.add(handle);
      return handle;
    };

    const cas: TestCertificate[] = await Promise.all([1, 2, 3].map((i) => makeCA({ cn: `sbs-private-${i}` })));
    const specFor = (caCert: TestCertificate, selector: string): Bundle['spec'] => ({
      sources: [{ useDefaultCAs: true }, { inLine: caCert.pem }],
      target: { configMap: { key: 'ca-certificates.crt' }, additionalFormats: { jks: { key: 'truststore.jks' } }, namespaceSelector: { matchLabels: { sbs: selector } } },
    });
    /** No kube-controller-manager (garbage collector) runs: the bench deletes the targets itself. */
    const deleteObjects = async (bundleName: string, targetName: string, namespaces: readonly string[]): Promise<void> => {
      await kube.delete(BUNDLES, undefined, bundleName);
      await forEachBounded(namespaces, CONCURRENCY, new AbortController().signal, (ns) => kube.delete(CONFIGMAPS, ns, targetName));
    };

    const samples = new Map<SubjectName, Sample>(subjects.map((s) => [s, emptySample()]));
    const bare = new Map<number, number[]>();
    const bytesPerTarget = new Map<number, number>();
    const certificates = { count: 0 };
    let lastNamespaces: string[] = [];
    let lastSelector = '';

    for (const count of COUNTS) {
      const selector = `n${count}`;
      const namespaces = Array.from({ length: count }, (_, i) => `sbs-${selector}-${i}`);
      await createNamespaces(client, namespaces, { sbs: selector });
      lastNamespaces = namespaces;
      lastSelector = selector;
      log(`N=${count}: namespaces created, etcd ${megabytes(await compactEtcd(etcdUrl))}`);

      for (let round = 0; round < ROUNDS; round++) {
        // The floor: the same applies from a bare loop, to objects of their own.
        const bareLabel = 'bench.trust-manager.io/bare';
        const bareV1 = await kube.applyBundle(`sbs-bare-${selector}`, specFor(cas[0]!, 'nothing-selects-this'));
        const bareV2 = await kube.applyBundle(`sbs-bare-${selector}`, specFor(cas[1]!, 'nothing-selects-this'));
        const bodies = (bundle: Bundle) => bareBodies(bundle, options, namespaces, 'sbs-bare', { [bareLabel]: selector });
        const updateBodies = bodies(bareV2);
        bytesPerTarget.set(count, JSON.stringify(updateBodies[0]).length);
        await applyAll(applier, bodies(bareV1), CONCURRENCY);
        const bareStart = Date.now();
        const [bareDone] = await Promise.all([waitForHash(client, `${bareLabel}=${selector}`, count, expectedTarget(bareV2, options).hash), applyAll(applier, updateBodies, CONCURRENCY)]);
        push(bare, count, bareDone - bareStart);
        await deleteObjects(`sbs-bare-${selector}`, 'sbs-bare', namespaces);
        log(`N=${count} round ${round + 1}: bare loop ${bareDone - bareStart} ms, etcd ${megabytes(await compactEtcd(etcdUrl))}`);

        for (const subject of subjects) {
          const sample = samples.get(subject)!;
          const name = `sbs-${subject}-${selector}-r${round}`;
          const proc = await start(subject, name);
          sample.startToReadyMs.push(proc.startToReadyMs);
          await sleep(1000);
          const idle = await memoryMedians(proc.pid);
          sample.idleRss.push(idle.rss);
          sample.idleAnonymous.push(idle.anonymous);

          const cpuBefore = cpuSeconds(proc.pid);
          const forcedBefore = forcedCloses(apiServerLog);
          const benchBefore = client.requests;
          const serverBefore = await serverRequests(client);
          const rolloutStart = Date.now();
          const v1 = await kube.applyBundle(name, specFor(cas[0]!, selector));
          const rolloutDone = await waitForHash(client, `${BUNDLE_LABEL}=${name}`, count, expectedTarget(v1, options).hash);
          const updateStart = Date.now();
          const v2 = await kube.applyBundle(name, specFor(cas[1]!, selector));
          const expected = expectedTarget(v2, options);
          certificates.count = expected.certificates;
          const updateDone = await waitForHash(client, `${BUNDLE_LABEL}=${name}`, count, expected.hash);
          await waitFor('Synced for the update', async () => {
            const condition = (await kube.bundle(name))?.status?.conditions?.find((c) => c.type === 'Synced');
            return condition?.status === 'True' && condition.observedGeneration === v2.metadata.generation ? true : undefined;
          }, 600_000);
          await sleep(2000); // whatever the controller does after the status (its own follow-up reconcile)
          const serverAfter = await serverRequests(client);
          push(sample.cpu, count, cpuSeconds(proc.pid) - cpuBefore);
          push(sample.rolloutMs, count, rolloutDone - rolloutStart);
          push(sample.updateMs, count, updateDone - updateStart);
          push(sample.requests, count, serverAfter.all - serverBefore.all - (client.requests - benchBefore) - 1);
          push(sample.writes, count, serverAfter.writes - serverBefore.writes);
          push(sample.forcedCloses, count, forcedCloses(apiServerLog) - forcedBefore);
          const after = await memoryMedians(proc.pid);
          push(sample.rssAfter, count, after.rss);
          push(sample.anonymousAfter, count, after.anonymous);
          await proc.stop();
          log(`N=${count} round ${round + 1} ${subject}: ready ${proc.startToReadyMs.toFixed(0)} ms, rollout ${rolloutDone - rolloutStart} ms, update ${updateDone - updateStart} ms, RSS idle ${megabytes(sample.idleRss.at(-1)!)} after ${megabytes(sample.rssAfter.get(count)!.at(-1)!)}, CPU ${sample.cpu.get(count)!.at(-1)!.toFixed(1)} s, requests ${sample.requests.get(count)!.at(-1)}, forced watch closes ${sample.forcedCloses.get(count)!.at(-1)}`);
          await deleteObjects(name, name, namespaces);
          log(`etcd ${megabytes(await compactEtcd(etcdUrl))}`);
        }
      }
    }

    // Restart with unrelated ConfigMaps: the Bundle's targets are correct already, nothing needs writing.
    if (UNRELATED_CONFIGMAPS > 0) {
      await createUnrelatedConfigMaps(client, 'sbs-unrelated', UNRELATED_CONFIGMAPS, CONCURRENCY);
      const name = 'sbs-restart';
      const bundle = await kube.applyBundle(name, specFor(cas[2]!, lastSelector));
      // The targets are written once beforehand (not measured), by this project if it runs (faster).
      const writer = await start(subjects.includes('ours') ? 'ours' : 'upstream', 'sbs-restart-writer');
      await waitForHash(client, `${BUNDLE_LABEL}=${name}`, lastNamespaces.length, expectedTarget(bundle, options).hash);
      await writer.stop();
      log(`unrelated ConfigMaps created, etcd ${megabytes(await compactEtcd(etcdUrl))}`);
      for (let round = 0; round < ROUNDS; round++) {
        for (const subject of subjects) {
          const sample = samples.get(subject)!;
          const serverBefore = await serverRequests(client);
          const proc = await start(subject, `sbs-${subject}-restart-r${round}`);
          await waitFor('Synced after the restart', async () => ((await kube.bundle(name))?.status?.conditions?.find((c) => c.type === 'Synced')?.status === 'True' ? true : undefined), 300_000);
          await sleep(3000);
          const restarted = await memoryMedians(proc.pid);
          sample.rssUnrelated.push(restarted.rss);
          sample.anonymousUnrelated.push(restarted.anonymous);
          sample.resyncWrites.push((await serverRequests(client)).writes - serverBefore.writes);
          await proc.stop();
          log(`restart round ${round + 1} ${subject}: RSS ${megabytes(sample.rssUnrelated.at(-1)!)}, writes ${sample.resyncWrites.at(-1)}`);
        }
      }
    }
    await client.close();
    printTable(samples, bare, bytesPerTarget, certificates.count);
  } finally {
    for (const proc of running) await proc.stop().catch(() => undefined);
    await plane.stop();
    rmSync(workDir, { recursive: true, force: true });
  }
}

function emptySample(): Sample {
  return {
    startToReadyMs: [],
    idleRss: [],
    idleAnonymous: [],
    rolloutMs: new Map(),
    updateMs: new Map(),
    cpu: new Map(),
    requests: new Map(),
    writes: new Map(),
    rssAfter: new Map(),
    anonymousAfter: new Map(),
    forcedCloses: new Map(),
    rssUnrelated: [],
    anonymousUnrelated: [],
    resyncWrites: [],
  };
}

function push(map: Map<number, number[]>, key: number, value: number): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

/** Our controller's environment: no NODE_OPTIONS of the bench's, the image's allocator settings. */
function oursEnvironment(): NodeJS.ProcessEnv {
  const env = cleanEnvironment();
  delete env.NODE_OPTIONS;
  return withBenchTunables(env);
}

/** build-upstream.sh prints the directory on its last line; a warm cache costs nothing. */
function upstreamDirectory(): string {
  const out = execFileSync('bash', [join(REPO, 'test', 'cluster', 'build-upstream.sh')], { env: { ...process.env, UPSTREAM_VERSION }, stdio: ['ignore', 'pipe', 'inherit'] }).toString().trim();
  return out.split('\n').at(-1)!;
}

function printTable(samples: Map<SubjectName, Sample>, bare: Map<number, number[]>, bytesPerTarget: Map<number, number>, certificateCount: number): void {
  const up = samples.get('upstream');
  const ours = samples.get('ours');
  type Cell = { value: number; text: string };
  const rows: Array<[string, Cell | undefined, Cell | undefined, 'lower' | 'higher' | 'none']> = [];
  // The median, and the range over the rounds when there are several.
  const cell = (values: number[] | undefined, format: (value: number) => string): Cell | undefined => {
    if (!values?.length) return undefined;
    const range = values.length > 1 ? ` (${format(Math.min(...values))}-${format(Math.max(...values))})` : '';
    return { value: median(values), text: `${format(median(values))}${range}` };
  };
  const ms = (values: number[] | undefined): Cell | undefined => cell(values, seconds);
  const mb = (values: number[] | undefined): Cell | undefined => cell(values, megabytes);
  const num = (values: number[] | undefined, digits = 0): Cell | undefined => cell(values, (value) => value.toFixed(digits));
  const milliseconds = (values: number[] | undefined): Cell | undefined => cell(values, (value) => `${value.toFixed(0)} ms`);
  rows.push(['start to ready (spawn to /readyz 200)', milliseconds(up?.startToReadyMs), milliseconds(ours?.startToReadyMs), 'lower']);
  rows.push(['RSS at idle, before any Bundle', mb(up?.idleRss), mb(ours?.idleRss), 'lower']);
  rows.push([ANONYMOUS, mb(up?.idleAnonymous), mb(ours?.idleAnonymous), 'lower']);
  for (const count of COUNTS) {
    rows.push([`first rollout to ${count} namespaces`, ms(up?.rolloutMs.get(count)), ms(ours?.rolloutMs.get(count)), 'lower']);
    rows.push([`update (source changed) of ${count} targets`, ms(up?.updateMs.get(count)), ms(ours?.updateMs.get(count)), 'lower']);
    rows.push([`bare SSA loop, same ${count} updates, concurrency ${CONCURRENCY} (floor)`, undefined, ms(bare.get(count)), 'none']);
    rows.push([`CPU seconds, rollout + update of ${count}`, num(up?.cpu.get(count), 1), num(ours?.cpu.get(count), 1), 'lower']);
    rows.push([`API requests, rollout + update of ${count}`, num(up?.requests.get(count)), num(ours?.requests.get(count)), 'lower']);
    rows.push([`of which writes`, num(up?.writes.get(count)), num(ours?.writes.get(count)), 'lower']);
    rows.push([`RSS after rollout + update of ${count}`, mb(up?.rssAfter.get(count)), mb(ours?.rssAfter.get(count)), 'lower']);
    rows.push([ANONYMOUS, mb(up?.anonymousAfter.get(count)), mb(ours?.anonymousAfter.get(count)), 'lower']);
    rows.push([`"Forcing ... watcher close" in kube-apiserver's log meanwhile`, num(up?.forcedCloses.get(count)), num(ours?.forcedCloses.get(count)), 'none']);
  }
  if (UNRELATED_CONFIGMAPS > 0) {
    rows.push([`RSS after a restart with ${UNRELATED_CONFIGMAPS} unrelated ${UNRELATED_SIZE / 1024} KB ConfigMaps (${COUNTS.at(-1)} targets synced)`, mb(up?.rssUnrelated), mb(ours?.rssUnrelated), 'lower']);
    rows.push([ANONYMOUS, mb(up?.anonymousUnrelated), mb(ours?.anonymousUnrelated), 'lower']);
    rows.push(['writes by that resync', num(up?.resyncWrites), num(ours?.resyncWrites), 'none']);
  }
  const ratio = (a: Cell | undefined, b: Cell | undefined, better: 'lower' | 'higher' | 'none'): string => {
    if (a === undefined || b === undefined || better === 'none' || a.value === 0 || b.value === 0) return '';
    return `${(b.value / a.value).toFixed(2)}x`;
  };
  const flags = BENCH_CONTROLLER_FLAGS.join(' ');
  process.stdout.write(
    `\nCommand: \`${overridePrefix('TM_BENCH_CONTROLLER_NODE_OPTIONS')}${overridePrefix('TM_BENCH_GLIBC_TUNABLES')}node test/bench/side-by-side.bench.ts --namespaces ${COUNTS.join(',')} --rounds ${ROUNDS} --unrelated ${UNRELATED_CONFIGMAPS}\`\n` +
      `(upstream trust-manager ${UPSTREAM_VERSION}, Go; this project: \`${tunablesPrefix()}${codeCachePrefix()}node ${flags} dist/controller.js\`, Node ${process.version}; medians of ${ROUNDS} rounds (range in brackets), A B A B; ` +
      `${certificateCount} certificates, PEM + JKS, ${[...bytesPerTarget.values()].map((b) => `${(b / 1024).toFixed(0)} KiB per target`)[0] ?? ''}; ` +
      `etcd${LARGE ? ' (data on disk)' : ''}, kube-apiserver${LARGE ? ` (GOMEMLIMIT=${API_SERVER_MEMORY_LIMIT})` : ''}, both controllers and this bench share one machine)\n\n`,
  );
  process.stdout.write('| measurement | upstream | this project | this project / upstream |\n|---|---:|---:|---:|\n');
  for (const [what, a, b, better] of rows) process.stdout.write(`| ${what} | ${a?.text ?? ''} | ${b?.text ?? ''} | ${ratio(a, b, better)} |\n`);
  for (const count of COUNTS) {
    const b = ms(bare.get(count));
    const o = ms(ours?.updateMs.get(count));
    if (b && o) process.stdout.write(`\nUpdate of ${count} targets, this project / bare loop: ${(o.value / b.value).toFixed(2)}x\n`);
  }
}

await main();
