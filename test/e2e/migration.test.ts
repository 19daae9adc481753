// Migration between upstream cert-manager trust-manager v0.24.0 (the Go binary, built by
// test/cluster/build-upstream.sh) and this controller, both ways, over the same objects on a real API
// server: 50 targets (25 namespaces x a ConfigMap and a Secret Bundle) synced by upstream are taken
// over without one rewrite, by the same field manager, with byte-identical PEM/JKS/PKCS#12 output;
// status stays current while upstream's CRD is installed; the rollback is as clean; with both
// running, the shared Lease keeps one writer.
//   bash test/cluster/build-upstream.sh   # needs the network; cached
//   bash test/cluster/with-cluster.sh node --test test/e2e/migration.test.ts
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LEADER_ELECTION_LEASE_NAME } from '@trust-manager/shared/api/constants.ts';
import type { Bundle } from '@trust-manager/shared/api/types.ts';
import { makeCA, type TestCertificate } from '@trust-manager/shared/certs/testing/fixtures.ts';
import { KubeClient } from '@trust-manager/shared/kube/client.ts';
import type { Lease } from '@trust-manager/controller/kube/leader-election.ts';
import type { KubeObject } from '@trust-manager/controller/kube/object.ts';
import { BUNDLES, CONFIGMAPS, LEASES, SECRETS } from '@trust-manager/shared/kube/resource.ts';
import { useCluster, uniqueName, waitFor, type TestCluster } from '../cluster/harness.ts';
import { scratchDir } from '../cluster/scratch.ts';
import { startController, sumMetric, TestKube, type ControllerProcess } from '../integration/controller-support.ts';
import { installUpstreamCRD, startUpstream, type UpstreamProcess } from './support/upstream.ts';

const NAMESPACES = 25;
const SELECT = 'migration-test.trust-manager.io/select';
const UPSTREAM_CRD_NOTICE = /Bundle CRD is upstream cert-manager trust-manager's/;
const LEASE_FLAGS = ['--leader-election-lease-duration=6s', '--leader-election-renew-deadline=4s'];

let cluster: TestCluster;
let kube: TestKube;
let workDir: string;
let trustNs: string;
let leaseNs: string;
let targetNamespaces: string[];
let packagePath: string;
let caSource: TestCertificate;
let caInline: TestCertificate;
const names = { configMap: uniqueName('mig-cm'), secret: uniqueName('mig-secret'), status: uniqueName('mig-status') };
const running: Array<{ stop(): Promise<unknown> }> = [];

interface TargetSnapshot {
  resourceVersion: string;
  data: Record<string, string>;
  managers: string[];
  labels: Record<string, string>;
  annotations: Record<string, string>;
  owners: string[];
}

type Snapshot = Map<string, TargetSnapshot>;

function describeTarget(object: KubeObject & { data?: Record<string, string>; binaryData?: Record<string, string> }): TargetSnapshot {
  return {
    resourceVersion: object.metadata.resourceVersion ?? '',
    data: { ...object.data, ...object.binaryData },
    managers: (object.metadata.managedFields ?? []).map((m) => `${m.manager}/${m.operation}`).sort(),
    labels: object.metadata.labels ?? {},
    annotations: object.metadata.annotations ?? {},
    owners: (object.metadata.ownerReferences ?? []).map((o) => `${o.kind}/${o.name}/${o.uid}/${o.controller}`),
  };
}

/** Every target of the two Bundles, keyed kind/namespace; fails if one is missing. */
async function snapshot(): Promise<Snapshot> {
  const out: Snapshot = new Map();
  for (const ns of targetNamespaces) {
    const cm = await kube.configMap(ns, names.configMap);
    const secret = await kube.secret(ns, names.secret);
    assert.ok(cm, `ConfigMap ${ns}/${names.configMap} exists`);
    assert.ok(secret, `Secret ${ns}/${names.secret} exists`);
    out.set(`ConfigMap/${ns}`, describeTarget(cm));
    out.set(`Secret/${ns}`, describeTarget(secret));
  }
  return out;
}

async function allTargetsPresent(): Promise<boolean> {
  for (const ns of targetNamespaces) {
    if (!(await kube.configMap(ns, names.configMap)) || !(await kube.secret(ns, names.secret))) return false;
  }
  return true;
}

async function bundleVersions(): Promise<Record<string, string | undefined>> {
  const out: Record<string, string | undefined> = {};
  for (const name of Object.values(names)) out[name] = (await kube.bundle(name))?.metadata.resourceVersion;
  return out;
}

async function waitForSynced(name: string): Promise<Bundle> {
  return waitFor(`Bundle ${name} Synced at its generation`, async () => {
    const bundle = await kube.bundle(name);
    const synced = bundle?.status?.conditions?.find((c) => c.type === 'Synced');
    return synced?.status === 'True' && synced.observedGeneration === bundle?.metadata.generation ? bundle : undefined;
  });
}

async function lease(): Promise<Lease | undefined> {
  return kube.get<Lease>(LEASES, leaseNs, LEADER_ELECTION_LEASE_NAME);
}

async function metricsOf(url: string): Promise<string> {
  return (await fetch(url)).text();
}

async function bundleCount(): Promise<number> {
  return (await kube.client.json<{ items: unknown[] }>({ path: '/apis/trust.cert-manager.io/v1alpha1/bundles' })).items.length;
}

/** This controller as the leader with the same flags as upstream; returns once its first pass over every Bundle is done. */
async function startOurs(expectLeader = true): Promise<ControllerProcess> {
  const proc = await startController(cluster.kubeconfigPath, [
    `--trust-namespace=${trustNs}`,
    '--secret-targets-enabled',
    `--default-package-location=${packagePath}`,
    '--leader-elect=true',
    `--leader-election-namespace=${leaseNs}`,
    ...LEASE_FLAGS,
  ]);
  running.push(proc);
  await waitFor('our controller ready', () => proc.ready());
  if (expectLeader) await initialPassDone(proc);
  return proc;
}

async function initialPassDone(proc: ControllerProcess): Promise<void> {
  await proc.waitForLog('our controller leads', (line) => line.msg === 'acquired leadership', 30_000);
  const bundles = await bundleCount();
  await waitFor('our controller reconciled every Bundle once', async () => {
    const text = await proc.metrics();
    return sumMetric(text, 'trust_manager_reconcile_total') >= bundles && sumMetric(text, 'trust_manager_workqueue_depth') === 0;
  });
}

async function startUpstreamController(): Promise<UpstreamProcess> {
  const upstream = await startUpstream({
    kubeconfigPath: cluster.kubeconfigPath,
    podNamespace: leaseNs,
    logDir: workDir,
    args: [`--trust-namespace=${trustNs}`, '--secret-targets-enabled', `--default-package-location=${packagePath}`, '--leader-elect=true', ...LEASE_FLAGS],
  });
  running.push(upstream);
  return upstream;
}

/** Upstream leads and its controller has reconciled every Bundle once (controller-runtime's metrics). */
async function upstreamPassDone(upstream: UpstreamProcess): Promise<void> {
  const bundles = await bundleCount();
  await waitFor(`upstream leads and reconciled every Bundle (log: ${upstream.proc.logPath})`, async () => {
    const text = await metricsOf(upstream.metricsUrl);
    return (
      sumMetric(text, 'leader_election_master_status') === 1 &&
      sumMetric(text, 'controller_runtime_reconcile_total') >= bundles &&
      sumMetric(text, 'workqueue_depth') === 0
    );
  });
}

/** Failed reconciles and status writes of this test's Bundles (other test files may leave failing Bundles behind). */
function failuresOf(proc: ControllerProcess): string[] {
  const ours = new Set<unknown>(Object.values(names));
  return proc.logs
    .filter((line) => ours.has(line.bundle) && (line.msg === 'reconcile failed' || line.msg === 'failed to write Bundle status'))
    .map((line) => JSON.stringify(line));
}

function assertSameTargets(now: Snapshot, before: Snapshot, what: string): void {
  assert.equal(now.size, before.size, `${what}: no target lost`);
  for (const [key, was] of before) assert.deepEqual(now.get(key), was, `${what}: ${key} untouched`);
}

before(async () => {
  cluster = await useCluster();
  kube = new TestKube(new KubeClient(cluster.kubeConfig));
  workDir = scratchDir('tm-migration-');
  await installUpstreamCRD(cluster.kubeConfig);

  caSource = await makeCA({ cn: 'migration-source' });
  caInline = await makeCA({ cn: 'migration-inline' });
  const caPackage = await makeCA({ cn: 'migration-package' });
  packagePath = join(workDir, 'package.json');
  writeFileSync(packagePath, JSON.stringify({ name: 'cert-manager-debian-test', version: '20250419.1', bundle: caPackage.pem }));

  trustNs = await cluster.newNamespace('mig-trust');
  leaseNs = await cluster.newNamespace('mig-lease');
  const selectValue = uniqueName('mig');
  targetNamespaces = await Promise.all(Array.from({ length: NAMESPACES }, () => cluster.newNamespace('mig-target', { [SELECT]: selectValue })));
  const namespaceSelector = { matchLabels: { [SELECT]: selectValue } };

  await kube.apply(CONFIGMAPS, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'mig-source', namespace: trustNs }, data: { 'ca.crt': caSource.pem } } as KubeObject);
  await kube.apply(SECRETS, {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: 'mig-source', namespace: trustNs },
    data: { 'ca.crt': Buffer.from(caInline.pem).toString('base64') },
  } as KubeObject);
  await kube.applyBundle(names.configMap, {
    sources: [{ configMap: { name: 'mig-source', key: 'ca.crt' } }, { inLine: caInline.pem }, { useDefaultCAs: true }],
    target: {
      configMap: { key: 'ca.crt' },
      additionalFormats: { jks: { key: 'truststore.jks' }, pkcs12: { key: 'truststore.p12' } },
      namespaceSelector,
    },
  });
  await kube.applyBundle(names.secret, {
    sources: [{ secret: { name: 'mig-source', key: 'ca.crt' } }, { configMap: { name: 'mig-source', key: 'ca.crt' } }],
    target: {
      secret: { key: 'ca.crt', metadata: { labels: { team: 'payments' }, annotations: { note: 'migrated' } } },
      // No pkcs12.profile: v0.24.0 leaves the profile out of the target hash, this controller does not (a
      // profile change alone must be written), so a target with a profile is rewritten once either way.
      additionalFormats: { jks: { key: 'truststore.jks', password: 'hunter22' }, pkcs12: { key: 'truststore.p12', password: 's3cret' } },
      namespaceSelector,
    },
  });
  await kube.applyBundle(names.status, { sources: [{ inLine: caSource.pem }] });
});

after(async () => {
  for (const proc of running.reverse()) await proc.stop().catch(() => undefined);
  for (const name of Object.values(names)) await kube?.delete(BUNDLES, undefined, name).catch(() => undefined);
  // Later test files expect this project's CRD.
  if (cluster) await cluster.installBundleCRD();
  await kube?.client.close();
});

test('upstream v0.24.0 -> this controller -> upstream: nothing rewritten, nothing lost, one Lease writer', async () => {
  // 1. Upstream syncs 50 targets.
  let upstream = await startUpstreamController();
  await waitFor('upstream wrote all 50 targets', allTargetsPresent, 120_000);
  const upstreamStatus = await waitForSynced(names.configMap);
  await waitForSynced(names.secret);
  await waitForSynced(names.status);
  assert.match(upstreamStatus.status?.defaultCAVersion ?? '', /^cert-manager-debian-test-20250419\.1-[0-9a-f]{16}$/);
  await upstreamPassDone(upstream);
  const byUpstream = await snapshot();
  for (const [key, target] of byUpstream) assert.deepEqual(target.managers, ['trust-manager/Apply'], `${key}: written by field manager trust-manager`);
  const bundlesByUpstream = await bundleVersions();
  await upstream.stop();

  // 2. This controller over the same objects, upstream's CRD still installed (a half-done migration).
  let ours = await startOurs();
  assertSameTargets(await snapshot(), byUpstream, 'takeover');
  assert.deepEqual(await bundleVersions(), bundlesByUpstream, 'no Bundle status rewritten: same conditions, same defaultCAVersion');
  let metrics = await ours.metrics();
  assert.equal(sumMetric(metrics, 'trust_manager_api_writes_total', { kind: 'ConfigMap' }), 0);
  assert.equal(sumMetric(metrics, 'trust_manager_api_writes_total', { kind: 'Secret' }), 0);
  assert.deepEqual(failuresOf(ours), [], 'status writes do not fail against upstream\'s CRD');
  const notices = () => ours.logs.filter((line) => UPSTREAM_CRD_NOTICE.test(line.msg));
  assert.equal(notices().length, 1, 'says once that the CRD is upstream\'s');
  assert.equal(notices()[0]?.level, 'warn');

  // Status stays current against upstream's CRD: a spec change is reported at its generation, no retries.
  await kube.applyBundle(names.status, { sources: [{ inLine: caInline.pem }] });
  const updated = await waitForSynced(names.status);
  assert.equal(updated.status?.certificateCount, undefined, 'only the fields upstream\'s CRD declares');
  assert.deepEqual(failuresOf(ours), []);
  assert.equal(notices().length, 1, 'still said once');

  // Byte-identical output: targets this controller writes from scratch equal upstream's.
  const [first, second] = targetNamespaces as [string, string];
  await kube.delete(CONFIGMAPS, first, names.configMap);
  await kube.delete(SECRETS, first, names.secret);
  await waitFor('our controller recreated the deleted targets', async () => (await kube.configMap(first, names.configMap)) && (await kube.secret(first, names.secret)));
  const byOurs = await snapshot();
  const ourConfigMap = byOurs.get(`ConfigMap/${first}`)!;
  const theirConfigMap = byUpstream.get(`ConfigMap/${first}`)!;
  assert.deepEqual(ourConfigMap.data, theirConfigMap.data, 'PEM, JKS and password-less PKCS#12 byte for byte');
  assert.deepEqual(ourConfigMap.annotations, theirConfigMap.annotations, 'same hash annotation');
  assert.deepEqual(ourConfigMap.labels, theirConfigMap.labels);
  assert.deepEqual(ourConfigMap.managers, theirConfigMap.managers, 'same field manager');
  const ourSecret = byOurs.get(`Secret/${first}`)!;
  const theirSecret = byUpstream.get(`Secret/${first}`)!;
  assert.equal(ourSecret.data['ca.crt'], theirSecret.data['ca.crt'], 'PEM byte for byte');
  assert.equal(ourSecret.data['truststore.jks'], theirSecret.data['truststore.jks'], 'JKS with a password byte for byte');
  assert.ok(ourSecret.data['truststore.p12'], 'PKCS#12 with a password (random salt: not comparable byte for byte)');
  assert.deepEqual(ourSecret.annotations, theirSecret.annotations, 'same hash annotation');
  assert.deepEqual(ourSecret.labels, theirSecret.labels);
  assert.deepEqual(ourSecret.managers, theirSecret.managers);
  assert.deepEqual(byOurs.get(`ConfigMap/${second}`), byUpstream.get(`ConfigMap/${second}`), 'the others still untouched');
  await ours.stop();

  // 3. The migration completes: this project's CRD; after a restart our status fields are written, targets untouched.
  await cluster.installBundleCRD();
  ours = await startOurs();
  await waitFor('certificateCount written with our CRD', async () => (await kube.bundle(names.configMap))?.status?.certificateCount === 3);
  assertSameTargets(await snapshot(), byOurs, 'restart with our CRD');
  assert.equal(ours.logs.filter((line) => UPSTREAM_CRD_NOTICE.test(line.msg)).length, 0, 'no notice with our CRD');
  metrics = await ours.metrics();
  assert.equal(sumMetric(metrics, 'trust_manager_api_writes_total', { kind: 'ConfigMap' }) + sumMetric(metrics, 'trust_manager_api_writes_total', { kind: 'Secret' }), 0);
  await ours.stop();

  // 4. Rollback: upstream's CRD and binary again; nothing rewritten; upstream recreates byte-identical targets.
  await installUpstreamCRD(cluster.kubeConfig);
  upstream = await startUpstreamController();
  await upstreamPassDone(upstream);
  await waitForSynced(names.configMap);
  assertSameTargets(await snapshot(), byOurs, 'rollback');
  await kube.delete(CONFIGMAPS, first, names.configMap);
  await waitFor('upstream recreated the deleted target', () => kube.configMap(first, names.configMap));
  const afterRollback = await snapshot();
  assert.deepEqual(afterRollback.get(`ConfigMap/${first}`)?.data, ourConfigMap.data, 'upstream writes what this controller wrote, byte for byte');
  assert.deepEqual(afterRollback.get(`ConfigMap/${first}`)?.managers, ['trust-manager/Apply']);

  // 5. Both running: upstream holds the Lease; this controller waits, reconciles and writes nothing.
  const holder = (await lease())?.spec?.holderIdentity;
  assert.ok(holder, 'upstream holds the Lease');
  const follower = await startOurs(false);
  await kube.applyBundle(names.status, { sources: [{ inLine: caSource.pem }] });
  await waitForSynced(names.status);
  assert.equal((await lease())?.spec?.holderIdentity, holder, 'the Lease keeps its holder');
  metrics = await follower.metrics();
  assert.equal(sumMetric(metrics, 'trust_manager_leader'), 0);
  assert.equal(sumMetric(metrics, 'trust_manager_reconcile_total'), 0, 'the follower reconciles nothing');
  assert.equal(sumMetric(metrics, 'trust_manager_api_writes_total'), 0, 'the follower writes nothing');
  assertSameTargets(await snapshot(), afterRollback, 'both running');

  // Upstream releases the Lease on SIGTERM: this controller takes over and is the only writer.
  await upstream.stop();
  await follower.waitForLog('our controller takes over', (line) => line.msg === 'acquired leadership', 30_000);
  assert.notEqual((await lease())?.spec?.holderIdentity, holder);
  await kube.applyBundle(names.status, { sources: [{ inLine: caInline.pem }] });
  await waitForSynced(names.status);
  assertSameTargets(await snapshot(), afterRollback, 'takeover from a running upstream');
});
