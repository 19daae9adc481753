// The controller process against a real control plane (kube-apiserver + etcd + kube-controller-manager):
// the behaviours of upstream-compatibility.md section 4 and what upstream's integration and smoke tests check.
//   bash test/cluster/with-cluster.sh node --test test/integration/controller.test.ts
// One controller process (secret targets on, a default CA package) serves every test of this file;
// each test uses its own Bundle and namespaces selected by a label unique to it.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BUNDLE_LABEL, FIELD_MANAGER, HASH_ANNOTATION, KIND } from '@trust-manager/shared/api/constants.ts';
import type { Bundle } from '@trust-manager/shared/api/types.ts';
import { makeCA, type TestCertificate } from '@trust-manager/shared/certs/testing/fixtures.ts';
import { runOnStore } from '@trust-manager/shared/certs/testing/tools.ts';
import { KubeClient } from '@trust-manager/shared/kube/client.ts';
import { BUNDLES, CONFIGMAPS, NAMESPACES, SECRETS } from '@trust-manager/shared/kube/resource.ts';
import { packageStringID, type DefaultPackage } from '@trust-manager/controller/package/package.ts';
import { useCluster, uniqueName, type TestCluster } from '../cluster/harness.ts';
import { certsIn, certsOf, startController, TestKube, waitFor, type ControllerProcess } from './controller-support.ts';

const SELECT = 'controller-test.trust-manager.io/select';

let cluster: TestCluster;
let kube: TestKube;
let trustNs: string;
let controller: ControllerProcess;
let packageDir: string;
let defaultPackage: DefaultPackage;
let caA: TestCertificate;
let caB: TestCertificate;
let caC: TestCertificate;
let caD: TestCertificate;
let caPkg: TestCertificate;

/** Namespaces selected through a label unique to the calling test. */
async function selectedNamespaces(count: number): Promise<{ id: string; namespaces: string[]; selector: { matchLabels: Record<string, string> } }> {
  const id = uniqueName('sel');
  const namespaces: string[] = [];
  for (let i = 0; i < count; i++) namespaces.push(await cluster.newNamespace('ctl', { [SELECT]: id }));
  return { id, namespaces, selector: { matchLabels: { [SELECT]: id } } };
}

async function sourceConfigMap(name: string, data: Record<string, string>, labels?: Record<string, string>, binaryData?: Record<string, string>): Promise<void> {
  await kube.apply(CONFIGMAPS, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: trustNs, ...(labels ? { labels } : {}) }, data, ...(binaryData ? { binaryData } : {}) });
}

async function targetCerts(namespace: string, name: string, key: string): Promise<string[]> {
  return certsIn((await kube.configMap(namespace, name))?.data?.[key]);
}

async function waitForTargetCerts(namespace: string, name: string, key: string, expected: string[]): Promise<void> {
  await waitFor(`target ${namespace}/${name}[${key}] to hold ${expected.length} certificate(s)`, async () => {
    const got = await targetCerts(namespace, name, key);
    return JSON.stringify(got) === JSON.stringify(expected) ? true : undefined;
  });
}

before(async () => {
  cluster = await useCluster();
  await cluster.installBundleCRD();
  kube = new TestKube(new KubeClient(cluster.kubeConfig));
  caA = await makeCA({ cn: 'root-a' });
  caB = await makeCA({ cn: 'root-b' });
  caC = await makeCA({ cn: 'root-c' });
  caD = await makeCA({ cn: 'root-d' });
  caPkg = await makeCA({ cn: 'root-pkg' });
  trustNs = await cluster.newNamespace('trust');
  packageDir = mkdtempSync(join(tmpdir(), 'tm-package-'));
  defaultPackage = { name: 'asd', version: '123', bundle: caPkg.pem };
  writeFileSync(join(packageDir, 'package.json'), JSON.stringify(defaultPackage));
  controller = await startController(cluster.kubeconfigPath, [
    `--trust-namespace=${trustNs}`,
    '--leader-elect=false',
    '--secret-targets-enabled',
    `--default-package-location=${join(packageDir, 'package.json')}`,
    '-v=2',
  ]);
  await waitFor('controller ready', () => controller.ready());
});

after(async () => {
  const exit = await controller?.stop();
  rmSync(packageDir, { recursive: true, force: true });
  await kube?.client.close();
  assert.deepEqual(exit, { code: 0, signal: null }, 'SIGTERM ends the controller cleanly');
});

test('configMap source by name: every selected namespace gets the target, status and Event report it; source changes follow; a missing source leaves targets alone', async () => {
  const { namespaces, selector, id } = await selectedNamespaces(2);
  const other = await cluster.newNamespace('ctl-other');
  const name = uniqueName('by-name');
  await sourceConfigMap(`${name}-src`, { 'ca.crt': caA.pem });
  await kube.applyBundle(name, { sources: [{ configMap: { name: `${name}-src`, key: 'ca.crt' } }], target: { configMap: { key: 'ca.pem' }, namespaceSelector: selector } });

  const condition = await kube.waitForCondition(name, 'Synced');
  assert.equal(condition.status, 'True');
  assert.equal(condition.message, `Successfully synced Bundle to namespaces that match this label selector: ${SELECT}=${id}`);
  const bundle = (await kube.bundle(name))!;
  for (const ns of namespaces) {
    const target = (await kube.configMap(ns, name))!;
    assert.deepEqual(certsIn(target.data?.['ca.pem']), certsOf(caA));
    assert.ok(!target.data?.['ca.pem']?.endsWith('\n'), 'no trailing newline');
    assert.equal(target.metadata.labels?.[BUNDLE_LABEL], name);
    assert.match(target.metadata.annotations?.[HASH_ANNOTATION] ?? '', /^[0-9a-f]{64}$/);
    assert.deepEqual(target.metadata.ownerReferences, [
      { apiVersion: 'trust.cert-manager.io/v1alpha1', kind: KIND, name, uid: bundle.metadata.uid, controller: true, blockOwnerDeletion: true },
    ]);
    assert.deepEqual(target.metadata.managedFields?.map((m) => m.manager), [FIELD_MANAGER]);
  }
  assert.equal(await kube.configMap(other, name), undefined, 'unselected namespaces get nothing');
  assert.equal(await kube.configMap(trustNs, name), undefined, 'the trust namespace is not special (and not selected here)');
  const synced = await waitFor('Synced event', async () => (await kube.events(name)).find((e) => e.reason === 'Synced'));
  assert.equal(synced.type, 'Normal');
  assert.equal(synced.action, 'Synced');
  assert.equal(synced.note, condition.message);
  assert.equal(synced.reportingController, 'bundles');
  assert.equal(synced.regarding.kind, 'Bundle');
  assert.equal(synced.metadata.namespace, 'default');

  // The source changes: every target follows.
  await sourceConfigMap(`${name}-src`, { 'ca.crt': caA.pem + caB.pem });
  for (const ns of namespaces) await waitForTargetCerts(ns, name, 'ca.pem', certsOf(caA, caB));

  // The source disappears: SourceNotFound, a Warning, targets untouched.
  await kube.delete(CONFIGMAPS, trustNs, `${name}-src`);
  const missing = await kube.waitForCondition(name, 'SourceNotFound');
  assert.equal(missing.status, 'False');
  assert.equal(missing.message, `Bundle source was not found: failed to get ConfigMap ${trustNs}/${name}-src: configmaps "${name}-src" not found`);
  const warning = await waitFor('SourceNotFound event', async () => (await kube.events(name)).find((e) => e.reason === 'SourceNotFound'));
  assert.equal(warning.type, 'Warning');
  assert.equal(warning.action, 'SyncFailed');
  assert.equal(warning.note, missing.message);
  for (const ns of namespaces) assert.deepEqual(await targetCerts(ns, name, 'ca.pem'), certsOf(caA, caB));

  // It comes back: the watch on the trust namespace brings the Bundle back to Synced.
  await sourceConfigMap(`${name}-src`, { 'ca.crt': caC.pem });
  await kube.waitForCondition(name, 'Synced');
  for (const ns of namespaces) await waitForTargetCerts(ns, name, 'ca.pem', certsOf(caC));
  await kube.delete(BUNDLES, undefined, name);
});

test('secret, includeAllKeys, selector and inLine sources combine (deduplicated); adding keys and unlabelling sources are followed', async () => {
  const { namespaces, selector } = await selectedNamespaces(1);
  const ns = namespaces[0]!;
  const name = uniqueName('mixed');
  const pick = { 'controller-test.trust-manager.io/pick': name };
  await kube.apply(SECRETS, { apiVersion: 'v1', kind: 'Secret', metadata: { name: `${name}-secret`, namespace: trustNs }, data: { 'tls.crt': Buffer.from(caA.pem).toString('base64') } });
  await sourceConfigMap(`${name}-all`, { one: caB.pem }, undefined, { two: Buffer.from(caA.pem).toString('base64') });
  await sourceConfigMap(`${name}-picked`, { ca: caC.pem }, pick);
  await kube.applyBundle(name, {
    sources: [
      { secret: { name: `${name}-secret`, key: 'tls.crt' } },
      { configMap: { name: `${name}-all`, includeAllKeys: true } },
      { configMap: { selector: { matchLabels: pick }, key: 'ca' } },
      { inLine: caD.pem },
    ],
    target: { configMap: { key: 'bundle.pem' }, namespaceSelector: selector },
  });
  await kube.waitForCondition(name, 'Synced');
  await waitForTargetCerts(ns, name, 'bundle.pem', certsOf(caA, caB, caC, caD));
  assert.equal((await kube.bundle(name))?.status?.certificateCount, 4, 'duplicates count once');

  // includeAllKeys picks up a new key; a source that loses its label drops out.
  await sourceConfigMap(`${name}-all`, { one: caB.pem, three: caPkg.pem }, undefined, { two: Buffer.from(caA.pem).toString('base64') });
  await waitForTargetCerts(ns, name, 'bundle.pem', certsOf(caA, caB, caC, caD, caPkg));
  await sourceConfigMap(`${name}-picked`, { ca: caC.pem });
  await waitForTargetCerts(ns, name, 'bundle.pem', certsOf(caA, caB, caD, caPkg));
  await kube.delete(BUNDLES, undefined, name);
});

test('default CAs: the package certificates are added and status.defaultCAVersion follows useDefaultCAs', async () => {
  const { namespaces, selector } = await selectedNamespaces(1);
  const ns = namespaces[0]!;
  const name = uniqueName('defaults');
  await kube.applyBundle(name, { sources: [{ useDefaultCAs: true }, { inLine: caA.pem }], target: { configMap: { key: 'ca.pem' }, namespaceSelector: selector } });
  await kube.waitForCondition(name, 'Synced');
  await waitForTargetCerts(ns, name, 'ca.pem', certsOf(caA, caPkg));
  assert.equal((await kube.bundle(name))?.status?.defaultCAVersion, packageStringID(defaultPackage));

  await kube.applyBundle(name, { sources: [{ inLine: caA.pem }], target: { configMap: { key: 'ca.pem' }, namespaceSelector: selector } });
  await waitForTargetCerts(ns, name, 'ca.pem', certsOf(caA));
  await waitFor('defaultCAVersion cleared', async () => ((await kube.bundle(name))?.status?.defaultCAVersion === undefined ? true : undefined));
  await kube.delete(BUNDLES, undefined, name);
});

test('JKS and PKCS#12 targets decode with keytool and openssl; a target key change replaces the old key', async () => {
  const { namespaces, selector } = await selectedNamespaces(1);
  const ns = namespaces[0]!;
  const name = uniqueName('formats');
  const spec = (key: string): Bundle['spec'] => ({
    sources: [{ inLine: caA.pem + caB.pem }],
    target: { configMap: { key }, additionalFormats: { jks: { key: 'truststore.jks' }, pkcs12: { key: 'truststore.p12' } }, namespaceSelector: selector },
  });
  await kube.applyBundle(name, spec('ca.pem'));
  await kube.waitForCondition(name, 'Synced');
  const target = await waitFor('binaryData', async () => {
    const cm = await kube.configMap(ns, name);
    return cm?.binaryData?.['truststore.jks'] !== undefined ? cm : undefined;
  });
  const jks = Buffer.from(target.binaryData?.['truststore.jks'] ?? '', 'base64');
  const keytool = runOnStore(jks, 'keytool', ['-list', '-keystore', '{}', '-storepass', 'changeit', '-storetype', 'JKS']);
  assert.equal(keytool.status, 0, keytool.stderr);
  assert.match(keytool.stdout, /contains 2 entries/);
  assert.equal((keytool.stdout.match(/trustedCertEntry/g) ?? []).length, 2);
  const p12 = Buffer.from(target.binaryData?.['truststore.p12'] ?? '', 'base64');
  const openssl = runOnStore(p12, 'openssl', ['pkcs12', '-in', '{}', '-nokeys', '-passin', 'pass:']);
  assert.equal(openssl.status, 0, openssl.stderr);
  assert.deepEqual(certsIn(openssl.stdout), certsOf(caA, caB));

  await kube.applyBundle(name, spec('renamed.pem'));
  await waitFor('renamed key', async () => {
    const cm = await kube.configMap(ns, name);
    return cm?.data?.['renamed.pem'] !== undefined && cm.data['ca.pem'] === undefined ? true : undefined;
  });
  assert.deepEqual(await targetCerts(ns, name, 'renamed.pem'), certsOf(caA, caB));
  await kube.delete(BUNDLES, undefined, name);
});

test('owner reference and tampered data are restored; foreign keys survive; unselected targets are cleaned up or deleted', async () => {
  const { namespaces, selector, id } = await selectedNamespaces(2);
  const [keep, drop] = namespaces as [string, string];
  const name = uniqueName('guard');
  await kube.applyBundle(name, { sources: [{ inLine: caA.pem }], target: { configMap: { key: 'ca.pem' }, namespaceSelector: selector } });
  await kube.waitForCondition(name, 'Synced');
  await waitForTargetCerts(keep, name, 'ca.pem', certsOf(caA));
  await waitForTargetCerts(drop, name, 'ca.pem', certsOf(caA));

  // Someone removes the owner reference: restored.
  await kube.patch(CONFIGMAPS, keep, name, [{ op: 'remove', path: '/metadata/ownerReferences' }], 'application/json-patch+json');
  await waitFor('owner reference restored', async () => ((await kube.configMap(keep, name))?.metadata.ownerReferences?.length === 1 ? true : undefined));

  // Someone else edits our key: reverted (they took field ownership, so it is no longer ours).
  await kube.patch(CONFIGMAPS, keep, name, { data: { 'ca.pem': 'tampered' } });
  await waitForTargetCerts(keep, name, 'ca.pem', certsOf(caA));

  // Someone adds a key of their own: it stays, also through the cleanup below.
  await kube.patch(CONFIGMAPS, keep, name, { data: { 'foreign.txt': 'mine' } });

  // Both namespaces leave the selection.
  for (const ns of [keep, drop]) await kube.patch(NAMESPACES, undefined, ns, { metadata: { labels: { [SELECT]: `${id}-gone` } } });
  await waitFor('empty target deleted', async () => ((await kube.configMap(drop, name)) === undefined ? true : undefined));
  const cleaned = await waitFor('our keys dropped', async () => {
    const cm = await kube.configMap(keep, name);
    return cm !== undefined && cm.data?.['ca.pem'] === undefined ? cm : undefined;
  });
  assert.deepEqual(cleaned.data, { 'foreign.txt': 'mine' });
  assert.equal(cleaned.metadata.annotations?.[HASH_ANNOTATION], undefined);
  await kube.delete(BUNDLES, undefined, name);
});

test('a new matching namespace gets its target; deleting the Bundle garbage-collects every target', async () => {
  const { namespaces, selector, id } = await selectedNamespaces(1);
  const name = uniqueName('lifecycle');
  await kube.applyBundle(name, { sources: [{ inLine: caB.pem }], target: { configMap: { key: 'ca.pem' }, namespaceSelector: selector } });
  await kube.waitForCondition(name, 'Synced');
  const late = await cluster.newNamespace('ctl-late', { [SELECT]: id });
  for (const ns of [...namespaces, late]) await waitForTargetCerts(ns, name, 'ca.pem', certsOf(caB));

  await kube.delete(BUNDLES, undefined, name);
  // kube-controller-manager's garbage collector follows the owner references.
  for (const ns of [...namespaces, late]) {
    await waitFor(`target in ${ns} garbage-collected`, async () => ((await kube.configMap(ns, name)) === undefined ? true : undefined), 120_000);
  }
});

test('switching the target from ConfigMap to Secret removes the ConfigMap and writes the Secret', async () => {
  const { namespaces, selector } = await selectedNamespaces(1);
  const ns = namespaces[0]!;
  const name = uniqueName('switch');
  await kube.applyBundle(name, { sources: [{ inLine: caA.pem }], target: { configMap: { key: 'ca.pem' }, namespaceSelector: selector } });
  await kube.waitForCondition(name, 'Synced');
  await waitForTargetCerts(ns, name, 'ca.pem', certsOf(caA));

  await kube.applyBundle(name, { sources: [{ inLine: caA.pem }], target: { secret: { key: 'ca.pem' }, namespaceSelector: selector } });
  const secret = await waitFor('secret target', () => kube.secret(ns, name));
  assert.deepEqual(certsIn(Buffer.from(secret.data?.['ca.pem'] ?? '', 'base64').toString()), certsOf(caA));
  assert.equal(secret.type, 'Opaque');
  await waitFor('configmap target removed', async () => ((await kube.configMap(ns, name)) === undefined ? true : undefined));
  await kube.delete(BUNDLES, undefined, name);
});

test('bad sources: a clear condition and Event, no crash, existing targets untouched', async () => {
  const { namespaces, selector } = await selectedNamespaces(1);
  const ns = namespaces[0]!;
  const name = uniqueName('bad');
  const target = { configMap: { key: 'ca.pem' }, namespaceSelector: selector };
  await kube.applyBundle(name, { sources: [{ inLine: caA.pem }], target });
  await kube.waitForCondition(name, 'Synced');
  await waitForTargetCerts(ns, name, 'ca.pem', certsOf(caA));
  const before = (await kube.configMap(ns, name))!.metadata.resourceVersion;

  const privateKey = '-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIDzUh7Zvq3v0nNf6zqzbRrfl1lT+1pC5uGwqQkGJ3tYBoAoGCCqGSM49\n-----END EC PRIVATE KEY-----\n';
  const cases: Array<{ sources: Bundle['spec']['sources']; reason: string; message: string | RegExp; setup?: () => Promise<void> }> = [
    {
      sources: [{ inLine: caA.pem + privateKey }],
      reason: 'SourceBuildError',
      message: "Failed to build bundle sources: inline source contains invalid PEM data: invalid PEM block in bundle: only CERTIFICATE blocks are permitted but found 'EC PRIVATE KEY'",
    },
    { sources: [{ inLine: 'this is not PEM at all' }], reason: 'SourceNotFound', message: "Bundle source was not found: couldn't find any valid certificates in bundle" },
    {
      sources: [{ configMap: { name: `${name}-empty`, key: 'ca.crt' } }],
      reason: 'SourceNotFound',
      message: "Bundle source was not found: couldn't find any valid certificates in bundle",
      setup: () => sourceConfigMap(`${name}-empty`, { 'ca.crt': '' }),
    },
    {
      sources: [{ configMap: { name: `${name}-empty`, key: 'nope' } }],
      reason: 'SourceNotFound',
      message: `Bundle source was not found: no data found in ConfigMap ${trustNs}/${name}-empty at key "nope"`,
    },
  ];
  for (const bad of cases) {
    await bad.setup?.();
    await kube.applyBundle(name, { sources: bad.sources, target });
    const condition = await kube.waitForCondition(name, bad.reason);
    if (typeof bad.message === 'string') assert.equal(condition.message, bad.message);
    else assert.match(condition.message, bad.message);
    await waitFor(`${bad.reason} event`, async () => (await kube.events(name)).find((e) => e.type === 'Warning' && e.note === condition.message));
    assert.equal((await kube.configMap(ns, name))?.metadata.resourceVersion, before, 'the existing target is untouched');
  }
  assert.equal(controller.child.exitCode, null, 'the controller is still running');
  assert.ok(await controller.ready());

  // Fixed again: synced.
  await kube.applyBundle(name, { sources: [{ inLine: caB.pem }], target });
  await waitForTargetCerts(ns, name, 'ca.pem', certsOf(caB));
  await kube.delete(BUNDLES, undefined, name);
});

test('a synced cluster costs nothing: a restarted controller resyncs with zero writes and unchanged resourceVersions', async () => {
  const { namespaces, selector } = await selectedNamespaces(3);
  const name = uniqueName('stable');
  await kube.applyBundle(name, {
    sources: [{ inLine: caA.pem }, { useDefaultCAs: true }],
    target: { configMap: { key: 'ca.pem' }, additionalFormats: { jks: { key: 'ca.jks' }, pkcs12: { key: 'ca.p12', password: 'secret' } }, namespaceSelector: selector },
  });
  await kube.waitForCondition(name, 'Synced');
  for (const ns of namespaces) await waitForTargetCerts(ns, name, 'ca.pem', certsOf(caA, caPkg));
  const versions = async (): Promise<string[]> => Promise.all(namespaces.map(async (ns) => (await kube.configMap(ns, name))?.metadata.resourceVersion ?? ''));
  const targetVersions = await versions();

  // A metadata-only change to the Bundle triggers a reconcile that must write nothing.
  const reconcilesBefore = await controller.metric('trust_manager_reconcile_total');
  const writesBefore = await controller.metric('trust_manager_api_writes_total');
  await kube.patch(BUNDLES, undefined, name, { metadata: { labels: { touched: 'yes' } } });
  await waitFor('reconcile after touch', async () => ((await controller.metric('trust_manager_reconcile_total')) > reconcilesBefore ? true : undefined));
  assert.equal(await controller.metric('trust_manager_api_writes_total'), writesBefore, 'no writes for an unchanged Bundle');
  const bundleVersion = (await kube.bundle(name))?.metadata.resourceVersion;

  // A fresh controller process reconciles every Bundle from scratch.
  const exit = await controller.stop();
  assert.deepEqual(exit, { code: 0, signal: null });
  controller = await startController(cluster.kubeconfigPath, [
    `--trust-namespace=${trustNs}`,
    '--leader-elect=false',
    '--secret-targets-enabled',
    `--default-package-location=${join(packageDir, 'package.json')}`,
  ]);
  await waitFor('ready', () => controller.ready());
  await waitFor('this Bundle reconciled', () => controller.logs.some((l) => l.msg === 'reconciling Bundles') && controller.metric('trust_manager_bundle_targets_synced', { bundle: name }).then((n) => (n === 3 ? true : undefined)));
  assert.equal(await controller.metric('trust_manager_api_writes_total', { kind: 'ConfigMap' }), 0, 'no target writes on resync');
  assert.deepEqual(await versions(), targetVersions);
  assert.equal((await kube.bundle(name))?.metadata.resourceVersion, bundleVersion, 'no status write on resync');
  await kube.delete(BUNDLES, undefined, name);
});
