// CA rotation without downtime (keepHistory, docs/ca-rotation.md), end to end: the controller process
// against the real API server, a CA Secret shaped as cert-manager writes it (ca.crt, tls.crt, tls.key;
// new key and certificate on each rotation), and `openssl verify` against the target file.
//   bash test/cluster/with-cluster.sh node --test test/integration/cert-history.test.ts
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash, webcrypto } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Bundle, KeepHistory, SourceCertHistory } from '@trust-manager/shared/api/types.ts';
import { parseCertificate } from '@trust-manager/shared/certs/certificate.ts';
import { makeCA, type TestCertificate } from '@trust-manager/shared/certs/testing/fixtures.ts';
import { KubeClient } from '@trust-manager/shared/kube/client.ts';
import { BUNDLES, CONFIGMAPS, SECRETS } from '@trust-manager/shared/kube/resource.ts';
import { useCluster, uniqueName, type TestCluster } from '../cluster/harness.ts';
import { fastLeaderElectionFlags, startController, TestKube, waitFor, type ControllerProcess, type SecretObject } from './controller-support.ts';

const SELECT = 'cert-history-test.trust-manager.io/select';
const TARGET_KEY = 'ca.pem';
/** Long enough to rotate, verify and restart the controller before it expires on a busy machine. */
const SHORT_LIFETIME_MS = 45_000;

let cluster: TestCluster;
let kube: TestKube;
let trustNs: string;
let controller: ControllerProcess;
let workDir: string;
/** Bundles this file created: removed at the end, so that later test files' controllers never see them. */
const createdBundles = new Set<string>();

const controllerArgs = (): string[] => [`--trust-namespace=${trustNs}`, '--leader-elect=false', '-v=2'];

before(async () => {
  cluster = await useCluster();
  await cluster.installBundleCRD();
  kube = new TestKube(new KubeClient(cluster.kubeConfig));
  trustNs = await cluster.newNamespace('trust');
  workDir = mkdtempSync(join(tmpdir(), 'tm-cert-history-'));
  controller = await startController(cluster.kubeconfigPath, controllerArgs());
  await waitFor('controller ready', () => controller.ready());
});

after(async () => {
  for (const name of createdBundles) await kube.delete(BUNDLES, undefined, name);
  await controller?.stop();
  rmSync(workDir, { recursive: true, force: true });
  await kube?.client.close();
});

/** A CA as cert-manager issues a self-signed CA Certificate: a fresh key each time. */
async function newCA(label: string, lifetimeMs = 10 * 365 * 24 * 3600_000): Promise<TestCertificate> {
  const notBefore = new Date(Date.now() - 60_000);
  return makeCA({ cn: uniqueName(label), extraName: 'O=cert-manager', notBefore, notAfter: new Date(Date.now() + lifetimeMs) });
}

async function leafOf(ca: TestCertificate): Promise<TestCertificate> {
  return makeCA({ cn: uniqueName('workload'), isCA: false, issuer: ca, notBefore: new Date(Date.now() - 60_000), notAfter: new Date(Date.now() + 3600_000) });
}

async function keyPem(ca: TestCertificate): Promise<string> {
  const der = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', ca.keys.privateKey));
  return `-----BEGIN PRIVATE KEY-----\n${der.toString('base64').replace(/.{64}/g, '$&\n').trimEnd()}\n-----END PRIVATE KEY-----\n`;
}

/** What cert-manager writes for a self-signed CA Certificate (and rewrites in place on renewal). */
async function applyCASecret(name: string, ca: TestCertificate): Promise<string> {
  const b64 = (text: string): string => Buffer.from(text).toString('base64');
  const secret = await kube.apply<SecretObject>(SECRETS, {
    apiVersion: 'v1',
    kind: 'Secret',
    type: 'kubernetes.io/tls',
    metadata: { name, namespace: trustNs, annotations: { 'cert-manager.io/certificate-name': name, 'cert-manager.io/issuer-kind': 'Issuer' } },
    data: { 'ca.crt': b64(ca.pem), 'tls.crt': b64(ca.pem), 'tls.key': b64(await keyPem(ca)) },
  });
  return secret.metadata.resourceVersion ?? '';
}

async function applyBundle(name: string, secretName: string, namespaceLabel: string, keepHistory?: KeepHistory): Promise<Bundle> {
  createdBundles.add(name);
  return kube.applyBundle(name, {
    sources: [{ secret: { name: secretName, key: 'ca.crt', ...(keepHistory !== undefined ? { keepHistory } : {}) } }],
    target: { configMap: { key: TARGET_KEY }, namespaceSelector: { matchLabels: { [SELECT]: namespaceLabel } } },
  });
}

/** The certificates of a PEM text as sorted base64 bodies. */
function certsIn(pem: string | undefined): string[] {
  return [...(pem ?? '').matchAll(/-----BEGIN CERTIFICATE-----\n([\s\S]*?)\n-----END CERTIFICATE-----/g)].map((m) => (m[1] ?? '').replace(/\s/g, '')).sort();
}

function certsOf(...cas: TestCertificate[]): string[] {
  return certsIn(cas.map((ca) => ca.pem).join(''));
}

function fingerprint(ca: TestCertificate): string {
  return createHash('sha256').update(ca.der).digest('hex');
}

async function targetPem(namespace: string, name: string): Promise<string | undefined> {
  return (await kube.configMap(namespace, name))?.data?.[TARGET_KEY];
}

async function waitForTarget(namespace: string, name: string, expected: string[], what: string): Promise<string> {
  return waitFor(`${what}: target ${namespace}/${name} holds ${expected.length} certificate(s)`, async () => {
    const pem = await targetPem(namespace, name);
    return JSON.stringify(certsIn(pem)) === JSON.stringify(expected) ? (pem ?? '') : undefined;
  });
}

/** `openssl verify -CAfile <target file> <leaf>`: the real tool a workload's TLS stack stands for. */
function opensslVerify(caFile: string, leaf: TestCertificate): { ok: boolean; output: string } {
  const leafFile = join(workDir, `${uniqueName('leaf')}.pem`);
  writeFileSync(leafFile, leaf.pem);
  const result = spawnSync('openssl', ['verify', '-CAfile', caFile, leafFile], { encoding: 'utf8' });
  return { ok: result.status === 0 && /: OK\s*$/.test(result.stdout), output: `${result.stdout}${result.stderr}` };
}

function writeTargetFile(pem: string): string {
  const file = join(workDir, `${uniqueName('target')}.pem`);
  writeFileSync(file, pem);
  return file;
}

/** status.certHistory once `ready` holds for it (the status apply follows the target writes). */
async function historyWhen(name: string, ready: (history: SourceCertHistory[] | undefined) => boolean): Promise<SourceCertHistory[] | undefined> {
  return waitFor(`Bundle ${name} status.certHistory`, async () => {
    const history = (await kube.bundle(name))?.status?.certHistory;
    return ready(history) ? { history } : undefined;
  }).then(({ history }) => history);
}

/** Metrics are updated once the status and the Events are written: wait for the value rather than race it. */
async function metricIs(metric: string, labels: Record<string, string>, value: number): Promise<void> {
  await waitFor(`${metric} ${JSON.stringify(labels)} = ${value}`, async () => (await controller.metric(metric, labels)) === value);
}

async function namespacesFor(count: number): Promise<{ label: string; namespaces: string[] }> {
  const label = uniqueName('sel');
  const namespaces: string[] = [];
  for (let i = 0; i < count; i++) namespaces.push(await cluster.newNamespace('hist', { [SELECT]: label }));
  return { label, namespaces };
}

/** A Bundle over a fresh CA Secret, targeting one fresh namespace: the first of `caCount` CAs in place and synced. */
async function rotationSetUp(prefix: string, caCount: number, keepHistory?: KeepHistory): Promise<{ ns: string; label: string; name: string; secretName: string; cas: TestCertificate[] }> {
  const { label, namespaces } = await namespacesFor(1);
  const [ns = ''] = namespaces;
  const name = uniqueName(prefix);
  const secretName = `${name}-ca`;
  const cas: TestCertificate[] = [];
  for (let i = 1; i <= caCount; i++) cas.push(await newCA(`ca-${i}`));
  const [first] = cas;
  assert.ok(first);
  await applyCASecret(secretName, first);
  await applyBundle(name, secretName, label, keepHistory);
  await waitForTarget(ns, name, certsOf(first), 'first CA');
  return { ns, label, name, secretName, cas };
}

test('rotation keeps the old CA until its notAfter: both leaves verify, a restart keeps it, expiry drops it with no other change', async (t) => {
  const { label, namespaces } = await namespacesFor(2);
  const [ns1 = '', ns2 = ''] = namespaces;
  const name = uniqueName('rotate');
  const secretName = `${name}-ca`;
  const oldCA = await newCA('old-ca', SHORT_LIFETIME_MS);
  const oldLeaf = await leafOf(oldCA);

  await applyCASecret(secretName, oldCA);
  await applyBundle(name, secretName, label, {});
  await kube.waitForCondition(name, 'Synced');
  for (const ns of namespaces) await waitForTarget(ns, name, certsOf(oldCA), 'before rotation');
  const before = await historyWhen(name, (history) => history?.[0]?.seen?.length === 1);
  assert.deepEqual(before?.map((entry) => [entry.source, entry.seen?.map((record) => record.fingerprint), entry.retired]), [
    [`Secret ${trustNs}/${secretName}, key ca.crt`, [fingerprint(oldCA)], undefined],
  ]);

  // cert-manager renews the CA: new key, new certificate, same Secret.
  const newCa = await newCA('new-ca');
  const newLeaf = await leafOf(newCa);
  const rotatedVersion = await applyCASecret(secretName, newCa);
  const pem = await waitForTarget(ns1, name, certsOf(oldCA, newCa), 'after rotation');
  await waitForTarget(ns2, name, certsOf(oldCA, newCa), 'after rotation');

  const caFile = writeTargetFile(pem);
  const unrelated = await leafOf(await newCA('unrelated'));
  assert.deepEqual(opensslVerify(caFile, oldLeaf).ok, true, 'a workload still presenting a leaf of the old CA is trusted');
  assert.deepEqual(opensslVerify(caFile, newLeaf).ok, true, 'a leaf of the new CA is trusted');
  assert.equal(opensslVerify(caFile, unrelated).ok, false, 'the check can fail: an unrelated leaf is refused');

  // Visible in status, with when and from where (the status is written after the targets).
  await historyWhen(name, (history) => history?.[0]?.retired?.length === 1);
  const bundle = await kube.bundle(name);
  t.diagnostic(`status.certHistory with one seen and one retired CA: ${JSON.stringify(bundle?.status?.certHistory).length} bytes of JSON`);
  const [history] = bundle?.status?.certHistory ?? [];
  assert.equal(history?.source, `Secret ${trustNs}/${secretName}, key ca.crt`);
  assert.deepEqual(history?.seen?.map((record) => record.fingerprint), [fingerprint(newCa)]);
  const [retired] = history?.retired ?? [];
  assert.equal(retired?.fingerprint, fingerprint(oldCA));
  assert.match(retired?.subject ?? '', /^CN=old-ca-[0-9a-f]+,O=cert-manager$/);
  assert.equal(retired?.notAfter, parseCertificate(oldCA.der).notAfter.toISOString().replace('.000Z', 'Z'));
  assert.match(retired?.retiredAt ?? '', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  assert.equal(bundle?.status?.certificateCount, 2);
  const retiredEvent = await waitFor('CertificateRetired event', async () => (await kube.events(name)).find((event) => event.reason === 'CertificateRetired'));
  assert.equal(retiredEvent.type, 'Normal');
  assert.match(retiredEvent.note, new RegExp(`SHA-256 ${fingerprint(oldCA)}\\) is no longer in Secret ${trustNs}/${secretName}, key ca\\.crt; it stays in the bundle until it expires at `));
  await metricIs('trust_manager_bundle_certificate_history', { bundle: name }, 1);
  await metricIs('trust_manager_certificate_history_retired_total', { bundle: name }, 1);

  // Restart between rotation and expiry; while it is down a target disappears. The new process rebuilds
  // it from the Bundle status alone, old CA included.
  assert.deepEqual(await controller.stop(), { code: 0, signal: null });
  await kube.delete(CONFIGMAPS, ns2, name);
  controller = await startController(cluster.kubeconfigPath, controllerArgs());
  await waitFor('restarted controller ready', () => controller.ready());
  await waitForTarget(ns2, name, certsOf(oldCA, newCa), 'rebuilt after restart');
  assert.equal(opensslVerify(writeTargetFile((await targetPem(ns2, name)) ?? ''), oldLeaf).ok, true, 'after the restart the old leaf still verifies');
  await metricIs('trust_manager_bundle_certificate_history', { bundle: name }, 1);
  const generation = (await kube.bundle(name))?.metadata.generation;

  // Nothing else happens: at the old CA's notAfter the controller drops it by itself.
  for (const ns of namespaces) await waitForTarget(ns, name, certsOf(newCa), 'after the old CA expired');
  t.diagnostic(`old CA gone from both targets ${Date.now() - Date.parse(retired?.notAfter ?? '')} ms after its notAfter (drop due 1000 ms after it)`);
  assert.ok(Date.now() > Date.parse(retired?.notAfter ?? ''), 'dropped only after notAfter');
  assert.equal((await kube.secret(trustNs, secretName))?.metadata.resourceVersion, rotatedVersion, 'the source did not change');
  assert.equal((await kube.bundle(name))?.metadata.generation, generation, 'the Bundle spec did not change');
  await historyWhen(name, (history) => history?.[0]?.retired === undefined);
  const after = await kube.bundle(name);
  assert.deepEqual(after?.status?.certHistory?.map((entry) => [entry.seen?.map((record) => record.fingerprint), entry.retired]), [[[fingerprint(newCa)], undefined]]);
  assert.equal(after?.status?.certificateCount, 1);
  const dropped = await waitFor('CertificateHistoryDropped event', async () => (await kube.events(name)).find((event) => event.reason === 'CertificateHistoryDropped'));
  assert.match(dropped.note, /was dropped from the bundle: it expired$/);
  await metricIs('trust_manager_certificate_history_dropped_total', { bundle: name, reason: 'Expired' }, 1);
  await metricIs('trust_manager_bundle_certificate_history', { bundle: name }, 0);
  assert.equal(opensslVerify(writeTargetFile((await targetPem(ns1, name)) ?? ''), newLeaf).ok, true);
});

test('three rotations with a limit of one keep only the newest previous CA', async () => {
  const { ns, name, secretName, cas } = await rotationSetUp('limit', 4, { limit: 1 });
  const [ca1, ca2, ca3, ca4] = cas as [TestCertificate, TestCertificate, TestCertificate, TestCertificate];
  await applyCASecret(secretName, ca2);
  await waitForTarget(ns, name, certsOf(ca1, ca2), 'rotation 1');
  await applyCASecret(secretName, ca3);
  await waitForTarget(ns, name, certsOf(ca2, ca3), 'rotation 2');
  await applyCASecret(secretName, ca4);
  await waitForTarget(ns, name, certsOf(ca3, ca4), 'rotation 3');
  const history = await historyWhen(name, (entries) => entries?.[0]?.seen?.[0]?.fingerprint === fingerprint(ca4));
  assert.deepEqual(history?.[0]?.retired?.map((record) => record.fingerprint), [fingerprint(ca3)]);
  await metricIs('trust_manager_certificate_history_dropped_total', { bundle: name, reason: 'Limit' }, 2);
  await metricIs('trust_manager_bundle_certificate_history', { bundle: name }, 1);

  // Settled history costs nothing: a reconcile of the unchanged Bundle writes neither targets nor status.
  const bundleVersion = (await kube.bundle(name))?.metadata.resourceVersion;
  const reconcilesBefore = await controller.metric('trust_manager_reconcile_total');
  const writesBefore = await controller.metric('trust_manager_api_writes_total');
  await kube.patch(BUNDLES, undefined, name, { metadata: { labels: { touched: 'yes' } } });
  await waitFor('reconcile after touch', async () => (await controller.metric('trust_manager_reconcile_total')) > reconcilesBefore);
  assert.equal(await controller.metric('trust_manager_api_writes_total'), writesBefore, 'no writes for an unchanged history');
  const touched = await kube.bundle(name);
  assert.notEqual(touched?.metadata.resourceVersion, bundleVersion);
  assert.deepEqual(touched?.status?.certHistory, history, 'status unchanged');
});

test('removing keepHistory drops the history at once; a status patch clears it deliberately', async () => {
  const { ns, label, name, secretName, cas } = await rotationSetUp('optout', 3, {});
  const [ca1, ca2, ca3] = cas as [TestCertificate, TestCertificate, TestCertificate];
  await applyCASecret(secretName, ca2);
  await waitForTarget(ns, name, certsOf(ca1, ca2), 'rotation');

  await applyBundle(name, secretName, label);
  await waitForTarget(ns, name, certsOf(ca2), 'keepHistory removed');
  // The status follows the targets in the same reconcile.
  await historyWhen(name, (history) => history === undefined);
  await metricIs('trust_manager_certificate_history_dropped_total', { bundle: name, reason: 'HistoryOff' }, 1);

  // Opt in again and rotate, then clear the history with kubectl, as the docs show.
  await applyBundle(name, secretName, label, {});
  await historyWhen(name, (history) => history?.[0]?.seen?.length === 1);
  await applyCASecret(secretName, ca3);
  await waitForTarget(ns, name, certsOf(ca2, ca3), 'rotation after opting in again');
  await cluster.kubectl(['patch', 'bundle', name, '--subresource=status', '--type=json', '-p', '[{"op":"remove","path":"/status/certHistory"}]']);
  await waitForTarget(ns, name, certsOf(ca3), 'history cleared by a status patch');
  const cleared = await historyWhen(name, (history) => history?.[0]?.seen?.[0]?.fingerprint === fingerprint(ca3));
  assert.deepEqual(cleared?.map((entry) => [entry.seen?.map((record) => record.fingerprint), entry.retired]), [[[fingerprint(ca3)], undefined]]);
});

test('without keepHistory the old CA is dropped immediately, exactly as upstream', async () => {
  const { ns, name, secretName, cas } = await rotationSetUp('plain', 2);
  const [ca1, ca2] = cas as [TestCertificate, TestCertificate];
  const oldLeaf = await leafOf(ca1);
  await applyCASecret(secretName, ca2);
  const pem = await waitForTarget(ns, name, certsOf(ca2), 'rotation');
  // Byte for byte: the one certificate, canonical PEM, no trailing newline.
  assert.equal(pem, ca2.pem.trimEnd());
  assert.equal(opensslVerify(writeTargetFile(pem), oldLeaf).ok, false, 'the old leaf no longer verifies');
  const bundle = await kube.bundle(name);
  assert.equal(bundle?.status?.certHistory, undefined);
  assert.deepEqual(
    (await kube.events(name)).filter((event) => event.reason.startsWith('Certificate')),
    [],
  );
});

test('the API server itself refuses out-of-range keepHistory fields, naming the field (the CRD schema, no webhook involved)', async () => {
  const name = uniqueName('invalid');
  const refused = async (keepHistory: unknown): Promise<string> => {
    try {
      await applyBundle(name, 'any-ca', 'none', keepHistory as KeepHistory);
    } catch (err) {
      return err instanceof Error ? err.message : String(err);
    }
    return 'accepted';
  };
  assert.match(await refused({ limit: 11 }), /spec\.sources\[0\]\.secret\.keepHistory\.limit: Invalid value: 11: spec\.sources\[0\]\.secret\.keepHistory\.limit in body should be less than or equal to 10/);
  assert.match(await refused({ limit: 0 }), /spec\.sources\[0\]\.secret\.keepHistory\.limit: Invalid value: 0: .*greater than or equal to 1/);
  assert.match(await refused({ maxAge: '30d' }), /spec\.sources\[0\]\.secret\.keepHistory\.maxAge: Invalid value: "30d": .*should match/);
  // The default limit is stored, so `kubectl get` shows what applies.
  const created = await applyBundle(name, 'any-ca', 'none', {});
  assert.deepEqual(created.spec.sources[0]?.secret?.keepHistory, { limit: 5 });
});

test('a new leader continues the history of the old one (state in the Bundle status only)', async () => {
  // Two replicas with leader election replace the single controller of this file.
  assert.deepEqual(await controller.stop(), { code: 0, signal: null });
  const leaseNs = await cluster.newNamespace('hist-lease');
  const replica = (): Promise<ControllerProcess> => startController(cluster.kubeconfigPath, [`--trust-namespace=${trustNs}`, ...fastLeaderElectionFlags(leaseNs)]);
  const a = await replica();
  const b = await replica();
  try {
    await a.waitForLog('a leads', (line) => line.msg === 'acquired leadership');
    await waitFor('b ready as a follower', () => b.ready());

    const { ns, name, secretName, cas } = await rotationSetUp('leader', 3, {});
    const [ca1, ca2, ca3] = cas as [TestCertificate, TestCertificate, TestCertificate];
    await applyCASecret(secretName, ca2);
    await waitForTarget(ns, name, certsOf(ca1, ca2), 'rotation, leader a');
    await historyWhen(name, (history) => history?.[0]?.retired?.length === 1);

    // The leader dies without handing over; meanwhile the target disappears and the CA rotates again.
    await a.kill9();
    await kube.delete(CONFIGMAPS, ns, name);
    await applyCASecret(secretName, ca3);
    await b.waitForLog('b takes over', (line) => line.msg === 'acquired leadership');
    await waitForTarget(ns, name, certsOf(ca1, ca2, ca3), 'leader b: CA 1 retired by a, CA 2 retired by b');
    const history = await historyWhen(name, (entries) => entries?.[0]?.retired?.length === 2);
    assert.deepEqual(history?.[0]?.retired?.map((record) => record.fingerprint), [fingerprint(ca2), fingerprint(ca1)]);
    await waitFor('b retired CA 2 (metrics follow the Events)', async () => (await b.metric('trust_manager_bundle_certificate_history', { bundle: name })) === 2);
    assert.equal(await b.metric('trust_manager_certificate_history_retired_total', { bundle: name }), 1, 'b retired only CA 2');
  } finally {
    await a.kill9();
    await b.stop();
  }
});
