// ClusterTrustBundle targets and sources against a real control plane that serves the beta API
// (kube-apiserver --runtime-config=certificates.k8s.io/v1beta1/clustertrustbundles=true
// --feature-gates=ClusterTrustBundle=true), with kube-controller-manager's garbage collector.
// The controller runs as a ServiceAccount holding exactly the chart's RBAC for
// clusterTrustBundles.enabled=true and signerNames=[example.com/allowed], so these tests also prove
// that RBAC is enough, and that attest is limited to that signer.
//   bash test/cluster/with-cluster.sh node --test test/integration/cluster-trust-bundles.test.ts
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BUNDLE_LABEL, KIND } from '@trust-manager/shared/api/constants.ts';
import type { Bundle } from '@trust-manager/shared/api/types.ts';
import { makeCA, type TestCertificate } from '@trust-manager/shared/certs/testing/fixtures.ts';
import { KubeClient } from '@trust-manager/shared/kube/client.ts';
import { BUNDLES, CLUSTER_TRUST_BUNDLES, CONFIGMAPS } from '@trust-manager/shared/kube/resource.ts';
import type { KubeObject } from '@trust-manager/controller/kube/object.ts';
import { render } from '../chart/helm.ts';
import { useCluster, uniqueName, type TestCluster } from '../cluster/harness.ts';
import { serviceAccountKubeconfig } from '../e2e/support/trust-manager.ts';
import { certsIn, certsOf, startController, TestKube, waitFor, type ControllerProcess } from './controller-support.ts';

const SELECT = 'ctb-test.trust-manager.io/select';
const ALLOWED_SIGNER = 'example.com/allowed';

interface ClusterTrustBundle extends KubeObject {
  spec: { signerName?: string; trustBundle: string };
}

let cluster: TestCluster;
let kube: TestKube;
let trustNs: string;
let selectedNs: string;
let workDir: string;
let controller: ControllerProcess;
let caA: TestCertificate;
let caB: TestCertificate;
let caC: TestCertificate;
let caD: TestCertificate;
let leaf: TestCertificate;

const ctb = (name: string): Promise<ClusterTrustBundle | undefined> => kube.get<ClusterTrustBundle>(CLUSTER_TRUST_BUNDLES, undefined, name);

async function waitForCtbCerts(name: string, expected: string[]): Promise<ClusterTrustBundle> {
  return waitFor(`ClusterTrustBundle ${name} to hold ${expected.length} certificate(s)`, async () => {
    const object = await ctb(name);
    return object !== undefined && JSON.stringify(certsIn(object.spec.trustBundle)) === JSON.stringify(expected) ? object : undefined;
  });
}

async function waitForConfigMapCerts(namespace: string, name: string, expected: string[]): Promise<void> {
  await waitFor(`ConfigMap ${namespace}/${name} to hold ${expected.length} certificate(s)`, async () => {
    const got = certsIn((await kube.configMap(namespace, name))?.data?.['ca.pem']);
    return JSON.stringify(got) === JSON.stringify(expected) ? true : undefined;
  });
}

/** A source ClusterTrustBundle, written as the test's admin (who may attest for any signer). */
async function sourceCtb(name: string, certs: TestCertificate[], options: { signerName?: string; labels?: Record<string, string> } = {}): Promise<void> {
  await kube.apply<ClusterTrustBundle>(CLUSTER_TRUST_BUNDLES, {
    apiVersion: 'certificates.k8s.io/v1beta1',
    kind: 'ClusterTrustBundle',
    metadata: { name, ...(options.labels ? { labels: options.labels } : {}) },
    spec: { ...(options.signerName ? { signerName: options.signerName } : {}), trustBundle: certs.map((c) => c.pem).join('') },
  });
}

/** The chart's RBAC for this test's release, applied to the cluster; returns the controller's ServiceAccount. */
async function installChartRbac(release: string): Promise<string> {
  const objects = await render({
    release,
    namespace: trustNs,
    values: {
      nameOverride: release,
      app: { trust: { namespace: trustNs } },
      clusterTrustBundles: { enabled: true, signerNames: [ALLOWED_SIGNER] },
    },
  });
  const rbac = objects.filter((o) => ['ServiceAccount', 'ClusterRole', 'ClusterRoleBinding', 'Role', 'RoleBinding'].includes(o.kind));
  await cluster.kubectl(['apply', '-f', '-'], { input: JSON.stringify({ apiVersion: 'v1', kind: 'List', items: rbac }) });
  return release;
}

before(async () => {
  cluster = await useCluster();
  await cluster.installBundleCRD();
  kube = new TestKube(new KubeClient(cluster.kubeConfig));
  [caA, caB, caC, caD] = await Promise.all([makeCA({ cn: 'ctb-root-a' }), makeCA({ cn: 'ctb-root-b' }), makeCA({ cn: 'ctb-root-c' }), makeCA({ cn: 'ctb-root-d' })]);
  leaf = await makeCA({ cn: 'ctb-leaf', isCA: false, issuer: caA });
  trustNs = await cluster.newNamespace('ctb-trust');
  selectedNs = await cluster.newNamespace('ctb-target', { [SELECT]: 'yes' });
  workDir = mkdtempSync(join(tmpdir(), 'tm-ctb-'));
  const serviceAccount = await installChartRbac(uniqueName('tm-ctb'));
  const kubeconfig = await serviceAccountKubeconfig(cluster, trustNs, serviceAccount, workDir);
  controller = await startController(kubeconfig, [`--trust-namespace=${trustNs}`, '--leader-elect=false', '--cluster-trust-bundles-enabled', '-v=2']);
  await waitFor('controller ready', () => controller.ready());
});

after(async () => {
  const exit = await controller?.stop();
  await kube?.client.close();
  rmSync(workDir, { recursive: true, force: true });
  assert.deepEqual(exit, { code: 0, signal: null }, 'SIGTERM ends the controller cleanly');
});

test('target: one ClusterTrustBundle with only the CA certificates, owned by the Bundle, metadata copied; status and a Warning report what was left out; changes follow; deleting the Bundle removes it', async (t) => {
  const name = uniqueName('ctb-target');
  const spec = (inLine: string): Bundle['spec'] => ({
    sources: [{ inLine }],
    target: {
      configMap: { key: 'ca.pem' },
      namespaceSelector: { matchLabels: { [SELECT]: 'yes' } },
      clusterTrustBundle: { metadata: { labels: { team: 'platform' }, annotations: { 'example.com/note': 'from trust-manager' } } },
    },
  });
  const started = Date.now();
  await kube.applyBundle(name, spec(caA.pem + leaf.pem));
  const object = await waitForCtbCerts(name, certsOf(caA));
  t.diagnostic(`Bundle applied -> ClusterTrustBundle written: ${Date.now() - started} ms`);
  const bundle = (await kube.bundle(name))!;
  assert.equal(object.spec.signerName, undefined);
  assert.equal(object.metadata.labels?.[BUNDLE_LABEL], name);
  assert.equal(object.metadata.labels?.team, 'platform');
  assert.equal(object.metadata.annotations?.['example.com/note'], 'from trust-manager');
  assert.deepEqual(object.metadata.ownerReferences, [
    { apiVersion: 'trust.cert-manager.io/v1alpha1', kind: KIND, name, uid: bundle.metadata.uid, controller: true, blockOwnerDeletion: true },
  ]);
  assert.doesNotMatch(object.spec.trustBundle, /:/, 'no PEM headers');
  // The ConfigMap target carries every certificate; only the ClusterTrustBundle leaves the leaf out.
  await waitForConfigMapCerts(selectedNs, name, certsOf(caA, leaf));

  const condition = await kube.waitForCondition(name, 'Synced');
  assert.equal(
    condition.message,
    `Successfully synced Bundle to namespaces that match this label selector: ${SELECT}=yes and to ClusterTrustBundle "${name}"; ` +
      `1 certificate(s) left out of ClusterTrustBundle "${name}": not CA certificates (basicConstraints CA is not true), which the ClusterTrustBundle API does not accept`,
  );
  const status = await waitFor('status.clusterTrustBundle', async () => (await kube.bundle(name))?.status?.clusterTrustBundle);
  assert.deepEqual(status, { name, certificateCount: 1, nonCACertificatesLeftOut: 1 });
  const leftOut = await waitFor('left-out Event', async () => (await kube.events(name)).find((e) => e.reason === 'ClusterTrustBundleCertificatesLeftOut'));
  assert.equal(leftOut.type, 'Warning');
  assert.match(leftOut.note, /^1 certificate\(s\) left out of ClusterTrustBundle/);

  // A source change reaches the object.
  const changed = Date.now();
  await kube.applyBundle(name, spec(caA.pem + caB.pem + leaf.pem));
  await waitForCtbCerts(name, certsOf(caA, caB));
  t.diagnostic(`Bundle source changed -> ClusterTrustBundle updated: ${Date.now() - changed} ms`);
  await waitFor('certificateCount 2', async () => ((await kube.bundle(name))?.status?.clusterTrustBundle?.certificateCount === 2 ? true : undefined));

  // A hand edit is reverted.
  await kube.patch(CLUSTER_TRUST_BUNDLES, undefined, name, { spec: { trustBundle: caD.pem } });
  await waitForCtbCerts(name, certsOf(caA, caB));

  // Deleting the Bundle: the garbage collector removes its ClusterTrustBundle.
  await kube.delete(BUNDLES, undefined, name);
  await waitFor('ClusterTrustBundle garbage-collected', async () => ((await ctb(name)) === undefined ? true : undefined));
});

test('signerName: the object name carries the signer prefix; attest is granted for the chart signer only; a signer change replaces the object', async () => {
  const allowed = uniqueName('ctb-signer');
  await kube.applyBundle(allowed, { sources: [{ inLine: caA.pem }], target: { clusterTrustBundle: { signerName: ALLOWED_SIGNER } } });
  const prefixed = `example.com:allowed:${allowed}`;
  const object = await waitForCtbCerts(prefixed, certsOf(caA));
  assert.equal(object.spec.signerName, ALLOWED_SIGNER);
  const synced = await kube.waitForCondition(allowed, 'Synced');
  assert.equal(synced.message, `Successfully synced Bundle to ClusterTrustBundle "${prefixed}"`);

  // Another signer: the API server refuses trust-manager (no attest), and the Bundle says so.
  const refused = uniqueName('ctb-other-signer');
  await kube.applyBundle(refused, { sources: [{ inLine: caB.pem }], target: { clusterTrustBundle: { signerName: 'example.com/other' } } });
  const failed = await kube.waitForCondition(refused, 'SyncClusterTrustBundleTargetFailed');
  assert.equal(failed.status, 'False');
  assert.match(failed.message, new RegExp(`^Failed to sync bundle to ClusterTrustBundle "example.com:other:${refused}": .*user not permitted to attest for signerName "example.com/other"`));
  assert.equal(await ctb(`example.com:other:${refused}`), undefined);
  const warning = await waitFor('failure Event', async () => (await kube.events(refused)).find((e) => e.reason === 'SyncClusterTrustBundleTargetFailed'));
  assert.equal(warning.type, 'Warning');

  // Dropping the signer: the old object goes, one without the prefix comes. (A merge patch: server-side
  // apply of `clusterTrustBundle: {}` over the same manager's `{signerName}` sends null, see the docs.)
  await kube.patch(BUNDLES, undefined, allowed, { spec: { target: { clusterTrustBundle: { signerName: null } } } });
  await waitForCtbCerts(allowed, certsOf(caA));
  await waitFor('prefixed object deleted', async () => ((await ctb(prefixed)) === undefined ? true : undefined));
  await kube.delete(BUNDLES, undefined, allowed);
  await kube.delete(BUNDLES, undefined, refused);
});

test('target with no CA certificate at all: nothing is written, the Bundle says why, namespaced targets are still written', async () => {
  const name = uniqueName('ctb-leaf-only');
  await kube.applyBundle(name, {
    sources: [{ inLine: leaf.pem }],
    target: { configMap: { key: 'ca.pem' }, namespaceSelector: { matchLabels: { [SELECT]: 'yes' } }, clusterTrustBundle: {} },
  });
  const condition = await kube.waitForCondition(name, 'ClusterTrustBundleTargetInvalid');
  assert.equal(
    condition.message,
    `ClusterTrustBundle "${name}" not written: none of the 1 certificate(s) of the bundle is a CA certificate, and the ClusterTrustBundle API accepts only CA certificates`,
  );
  await waitForConfigMapCerts(selectedNs, name, certsOf(leaf));
  assert.equal(await ctb(name), undefined);
  await kube.delete(BUNDLES, undefined, name);
});

test('sources: by name, and by signer + label selector (projected-volume semantics), stay in sync as the objects change', async (t) => {
  const id = uniqueName('src');
  const plain = `${id}-plain`;
  const signer = `${id}.example.com/src`;
  const prefix = `${id}.example.com:src`;
  await sourceCtb(plain, [caA]);
  await sourceCtb(`${prefix}:one`, [caB], { signerName: signer, labels: { group: 'x' } });
  await sourceCtb(`${prefix}:two`, [caC], { signerName: signer, labels: { group: 'y' } });
  // Same label, other signer: never selected.
  await sourceCtb(`${id}.example.org:other:one`, [caD], { signerName: `${id}.example.org/other`, labels: { group: 'x' } });

  const target = { configMap: { key: 'ca.pem' }, namespaceSelector: { matchLabels: { [SELECT]: 'yes' } } };
  const byName = `${id}-by-name`;
  const bySigner = `${id}-by-signer`;
  await kube.applyBundle(byName, { sources: [{ clusterTrustBundle: { name: plain } }], target });
  await kube.applyBundle(bySigner, { sources: [{ clusterTrustBundle: { signerName: signer, labelSelector: { matchLabels: { group: 'x' } } } }], target });
  await waitForConfigMapCerts(selectedNs, byName, certsOf(caA));
  await waitForConfigMapCerts(selectedNs, bySigner, certsOf(caB));

  // The named object changes.
  const changed = Date.now();
  await sourceCtb(plain, [caA, caD]);
  await waitForConfigMapCerts(selectedNs, byName, certsOf(caA, caD));
  t.diagnostic(`source ClusterTrustBundle changed -> ConfigMap target updated: ${Date.now() - changed} ms`);
  // A label change brings an object into the selection; a delete takes one out.
  await sourceCtb(`${prefix}:two`, [caC], { signerName: signer, labels: { group: 'x' } });
  await waitForConfigMapCerts(selectedNs, bySigner, certsOf(caB, caC));
  await kube.delete(CLUSTER_TRUST_BUNDLES, undefined, `${prefix}:one`);
  await waitForConfigMapCerts(selectedNs, bySigner, certsOf(caC));

  // The named object disappears: SourceNotFound, targets untouched; it comes back: Synced.
  await kube.delete(CLUSTER_TRUST_BUNDLES, undefined, plain);
  const missing = await kube.waitForCondition(byName, 'SourceNotFound');
  assert.equal(missing.message, `Bundle source was not found: failed to get ClusterTrustBundle ${plain}: clustertrustbundles.certificates.k8s.io "${plain}" not found`);
  assert.deepEqual(certsIn((await kube.configMap(selectedNs, byName))?.data?.['ca.pem']), certsOf(caA, caD));
  await sourceCtb(plain, [caB]);
  await kube.waitForCondition(byName, 'Synced');
  await waitForConfigMapCerts(selectedNs, byName, certsOf(caB));

  for (const bundle of [byName, bySigner]) await kube.delete(BUNDLES, undefined, bundle);
  for (const object of [plain, `${prefix}:two`, `${id}.example.org:other:one`]) await kube.delete(CLUSTER_TRUST_BUNDLES, undefined, object);
  await kube.delete(CONFIGMAPS, selectedNs, byName);
});

test('a ClusterTrustBundle target fed by a ClusterTrustBundle source', async () => {
  const id = uniqueName('chain');
  await sourceCtb(`${id}-in`, [caC]);
  await kube.applyBundle(`${id}-out`, { sources: [{ clusterTrustBundle: { name: `${id}-in` } }, { inLine: caD.pem }], target: { clusterTrustBundle: {} } });
  await waitForCtbCerts(`${id}-out`, certsOf(caC, caD));
  await sourceCtb(`${id}-in`, [caA]);
  await waitForCtbCerts(`${id}-out`, certsOf(caA, caD));
  await kube.delete(BUNDLES, undefined, `${id}-out`);
  await kube.delete(CLUSTER_TRUST_BUNDLES, undefined, `${id}-in`);
});

test('the CRD: upstream messages unchanged without clusterTrustBundle, ours with it', async () => {
  const rejected = async (spec: unknown): Promise<string> => {
    try {
      await kube.applyBundle(uniqueName('crd'), spec as Bundle['spec']);
    } catch (err) {
      return (err as Error).message;
    }
    throw new Error('the API server accepted the Bundle');
  };
  assert.match(await rejected({ sources: [{ inLine: caA.pem }], target: {} }), /spec\.target: Invalid value: (?:"object": )?at least one of the fields in \[configMap secret\] must be set/);
  assert.match(
    await rejected({ sources: [{ inLine: caA.pem, clusterTrustBundle: { name: 'x' } }], target: { clusterTrustBundle: {} } }),
    /exactly one of the fields in \[configMap secret inLine useDefaultCAs clusterTrustBundle\] must be set/,
  );
  assert.match(await rejected({ sources: [{ clusterTrustBundle: { name: 'x', signerName: 'example.com/s' } }] }), /exactly one of the fields in \[name signerName\] must be set/);
  assert.match(await rejected({ sources: [{ clusterTrustBundle: { name: 'x', labelSelector: {} } }] }), /labelSelector may only be set together with signerName/);
});
