// Controller flags that change reconciling, against a real control plane: secret targets disabled,
// --filter-expired-certificates, --filter-non-ca-certs, --target-namespaces and (ours)
// --source-namespaces. One controller process with all of them serves the file.
//   bash test/cluster/with-cluster.sh node --test test/integration/controller-options.test.ts
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { makeCA, type TestCertificate } from '@trust-manager/shared/certs/testing/fixtures.ts';
import { KubeClient } from '@trust-manager/shared/kube/client.ts';
import { BUNDLES, CONFIGMAPS, SECRETS } from '@trust-manager/shared/kube/resource.ts';
import { useCluster, uniqueName, type TestCluster } from '../cluster/harness.ts';
import { startController, TestKube, waitFor, type ControllerProcess } from './controller-support.ts';

const SELECT = 'options-test.trust-manager.io/select';

let cluster: TestCluster;
let kube: TestKube;
let controller: ControllerProcess;
let trustNs: string;
let extraSourceNs: string;
let forbiddenNs: string;
let allowedA: string;
let allowedB: string;
let outside: string;
let valid: TestCertificate;
let expired: TestCertificate;
let leaf: TestCertificate;

function certCount(pem: string | undefined): number {
  return (pem ?? '').split('-----BEGIN CERTIFICATE-----').length - 1;
}

before(async () => {
  cluster = await useCluster();
  await cluster.installBundleCRD();
  kube = new TestKube(new KubeClient(cluster.kubeConfig));
  valid = await makeCA({ cn: 'options-valid' });
  expired = await makeCA({ cn: 'options-expired', notBefore: new Date('2020-01-01T00:00:00Z'), notAfter: new Date('2021-01-01T00:00:00Z') });
  leaf = await makeCA({ cn: 'options-leaf', isCA: false, issuer: valid });
  trustNs = await cluster.newNamespace('opt-trust');
  extraSourceNs = await cluster.newNamespace('opt-src');
  forbiddenNs = await cluster.newNamespace('opt-forbidden');
  allowedA = await cluster.newNamespace('opt-a', { [SELECT]: 'a' });
  allowedB = await cluster.newNamespace('opt-b', { [SELECT]: 'b' });
  outside = await cluster.newNamespace('opt-outside', { [SELECT]: 'a' });
  controller = await startController(cluster.kubeconfigPath, [
    `--trust-namespace=${trustNs}`,
    `--source-namespaces=${extraSourceNs}`,
    `--target-namespaces=${allowedA},${allowedB}`,
    '--filter-expired-certificates',
    '--filter-non-ca-certs',
    '--leader-elect=false',
  ]);
  await waitFor('ready', () => controller.ready());
});

after(async () => {
  const exit = await controller?.stop();
  await kube?.client.close();
  assert.deepEqual(exit, { code: 0, signal: null });
});

test('secret targets disabled: a Bundle with a Secret target writes nothing at all, not even its ConfigMap', async () => {
  const name = uniqueName('no-secrets');
  await kube.applyBundle(name, { sources: [{ inLine: valid.pem }], target: { configMap: { key: 'ca.pem' }, secret: { key: 'ca.pem' } } });
  const condition = await kube.waitForCondition(name, 'SecretTargetsDisabled');
  assert.equal(condition.status, 'False');
  assert.equal(condition.message, 'Bundle has Secret targets but the feature is disabled');
  await waitFor('event', async () => (await kube.events(name)).find((e) => e.reason === 'SecretTargetsDisabled' && e.type === 'Warning'));
  for (const ns of [allowedA, allowedB]) {
    assert.equal(await kube.configMap(ns, name), undefined);
    assert.equal(await kube.secret(ns, name), undefined);
  }
  await kube.delete(BUNDLES, undefined, name);
});

test('--target-namespaces: targets only in the allowed namespaces, with the "allowed" messages', async () => {
  const all = uniqueName('allowed-all');
  await kube.applyBundle(all, { sources: [{ inLine: valid.pem }], target: { configMap: { key: 'ca.pem' } } });
  assert.equal((await kube.waitForCondition(all, 'Synced')).message, 'Successfully synced Bundle to all allowed namespaces');
  for (const ns of [allowedA, allowedB]) await waitFor(`target in ${ns}`, () => kube.configMap(ns, all));
  for (const ns of [outside, trustNs]) assert.equal(await kube.configMap(ns, all), undefined, `nothing in ${ns}`);

  const some = uniqueName('allowed-some');
  await kube.applyBundle(some, { sources: [{ inLine: valid.pem }], target: { configMap: { key: 'ca.pem' }, namespaceSelector: { matchLabels: { [SELECT]: 'a' } } } });
  assert.equal((await kube.waitForCondition(some, 'Synced')).message, `Successfully synced Bundle to allowed namespaces that match this label selector: ${SELECT}=a`);
  await waitFor('target in a', () => kube.configMap(allowedA, some));
  assert.equal(await kube.configMap(allowedB, some), undefined);
  assert.equal(await kube.configMap(outside, some), undefined, 'matching but not allowed');
  await kube.delete(BUNDLES, undefined, all);
  await kube.delete(BUNDLES, undefined, some);
});

test('--filter-expired-certificates and --filter-non-ca-certs drop those certificates; nothing left is SourceNotFound', async () => {
  const name = uniqueName('filtered');
  const target = { configMap: { key: 'ca.pem' }, namespaceSelector: { matchLabels: { [SELECT]: 'a' } } };
  await kube.applyBundle(name, { sources: [{ inLine: valid.pem + expired.pem + leaf.pem }], target });
  await kube.waitForCondition(name, 'Synced');
  const cm = await waitFor('target', () => kube.configMap(allowedA, name));
  assert.equal(certCount(cm.data?.['ca.pem']), 1);
  assert.equal((await kube.bundle(name))?.status?.certificateCount, 1);

  await kube.applyBundle(name, { sources: [{ inLine: expired.pem + leaf.pem }], target });
  assert.equal((await kube.waitForCondition(name, 'SourceNotFound')).message, "Bundle source was not found: couldn't find any valid certificates in bundle");
  await kube.delete(BUNDLES, undefined, name);
});

test('--source-namespaces: a source in an allowed extra namespace is read and watched; any other namespace is refused', async () => {
  const name = uniqueName('src-ns');
  const target = { configMap: { key: 'ca.pem' }, namespaceSelector: { matchLabels: { [SELECT]: 'b' } } };
  await kube.apply(SECRETS, { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'ca', namespace: extraSourceNs }, data: { 'ca.crt': Buffer.from(valid.pem).toString('base64') } });
  await kube.applyBundle(name, { sources: [{ secret: { name: 'ca', key: 'ca.crt', namespace: extraSourceNs } }], target });
  await kube.waitForCondition(name, 'Synced');
  await waitFor('target', () => kube.configMap(allowedB, name));

  // Watched there: deleting the source is noticed.
  await kube.delete(SECRETS, extraSourceNs, 'ca');
  assert.equal(
    (await kube.waitForCondition(name, 'SourceNotFound')).message,
    `Bundle source was not found: failed to get Secret ${extraSourceNs}/ca: secrets "ca" not found`,
  );

  await kube.apply(CONFIGMAPS, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'ca', namespace: forbiddenNs }, data: { 'ca.crt': valid.pem } });
  await kube.applyBundle(name, { sources: [{ configMap: { name: 'ca', key: 'ca.crt', namespace: forbiddenNs } }], target });
  const refused = await kube.waitForCondition(name, 'SourceNamespaceNotAllowed');
  assert.match(refused.message, new RegExp(`"${forbiddenNs}" is not an allowed source namespace`));
  assert.match(refused.message, /--source-namespaces/);
  await kube.delete(BUNDLES, undefined, name);
});
