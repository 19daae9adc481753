// Oversized input against a real control plane: 10,000 certificates (about 4.6 MB of PEM, spread
// over five source ConfigMaps because one object may hold at most 1 MiB) make a target the API
// server refuses. Expected: a clear condition and Event, retries with backoff, no crash, the
// existing target untouched; removing the sources heals it.
//   bash test/cluster/with-cluster.sh node --test test/integration/controller-limits.test.ts
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import { makeCA, type TestCertificate } from '@trust-manager/shared/certs/testing/fixtures.ts';
import { KubeClient } from '@trust-manager/shared/kube/client.ts';
import { BUNDLES, CONFIGMAPS } from '@trust-manager/shared/kube/resource.ts';
import { useCluster, uniqueName, type TestCluster } from '../cluster/harness.ts';
import { startController, TestKube, waitFor, type ControllerProcess } from './controller-support.ts';

x509.cryptoProvider.set(webcrypto);

const CERTIFICATES = 10_000;
const PER_CONFIGMAP = 2_000;

let cluster: TestCluster;
let kube: TestKube;
let controller: ControllerProcess;
let trustNs: string;
let small: TestCertificate;

/** Many distinct self-signed CAs, fast: one key pair signs them all. */
async function bulkPem(count: number): Promise<string[]> {
  const algorithm = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
  const keys = await webcrypto.subtle.generateKey(algorithm, true, ['sign', 'verify']);
  const pems: string[] = [];
  for (let i = 0; i < count; i++) {
    const cert = await x509.X509CertificateGenerator.createSelfSigned({
      name: `CN=bulk-${i}`,
      serialNumber: (i + 1).toString(16).padStart(6, '0'),
      notBefore: new Date('2024-01-01T00:00:00Z'),
      notAfter: new Date('2124-01-01T00:00:00Z'),
      keys,
      signingAlgorithm: algorithm,
      extensions: [new x509.BasicConstraintsExtension(true, undefined, true)],
    });
    pems.push(`${cert.toString('pem')}\n`);
  }
  return pems;
}

before(async () => {
  cluster = await useCluster();
  await cluster.installBundleCRD();
  kube = new TestKube(new KubeClient(cluster.kubeConfig));
  small = await makeCA({ cn: 'limits-small' });
  trustNs = await cluster.newNamespace('lim-trust');
  controller = await startController(cluster.kubeconfigPath, [`--trust-namespace=${trustNs}`, '--leader-elect=false']);
  await waitFor('ready', () => controller.ready());
});

after(async () => {
  const exit = await controller?.stop();
  await kube?.client.close();
  assert.deepEqual(exit, { code: 0, signal: null });
});

test('10,000 certificates (4.6 MB PEM): the oversized target is refused with a clear condition and Event, the old target stays, the controller lives', async () => {
  const name = uniqueName('huge');
  const targetNs = await cluster.newNamespace('lim-target', { 'limits-test.trust-manager.io/select': name });
  const bulk = { 'limits-test.trust-manager.io/bulk': name };
  const target = { configMap: { key: 'ca.pem' }, namespaceSelector: { matchLabels: { 'limits-test.trust-manager.io/select': name } } };
  await kube.applyBundle(name, { sources: [{ inLine: small.pem }], target });
  await kube.waitForCondition(name, 'Synced');
  const before = await waitFor('small target', () => kube.configMap(targetNs, name));

  const pems = await bulkPem(CERTIFICATES);
  let bytes = 0;
  for (let i = 0; i < CERTIFICATES; i += PER_CONFIGMAP) {
    const data = pems.slice(i, i + PER_CONFIGMAP).join('');
    bytes += data.length;
    await kube.apply(CONFIGMAPS, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `${name}-bulk-${i}`, namespace: trustNs, labels: bulk }, data: { 'ca.crt': data } });
  }
  process.stdout.write(`# ${CERTIFICATES} certificates, ${(bytes / 1e6).toFixed(1)} MB of PEM in ${CERTIFICATES / PER_CONFIGMAP} ConfigMaps\n`);
  // All at once: the Bundle starts selecting every bulk ConfigMap in one change.
  await kube.applyBundle(name, { sources: [{ inLine: small.pem }, { configMap: { selector: { matchLabels: bulk }, key: 'ca.crt' } }], target });

  const failed = await kube.waitForCondition(name, 'SyncConfigMapTargetFailed', 120_000);
  assert.equal(failed.status, 'False');
  assert.ok(failed.message.startsWith(`Failed to sync bundle ConfigMap to namespace "${targetNs}": `), failed.message);
  assert.match(failed.message, /too large|Too long|exceeds/i);
  const event = await waitFor('warning event', async () => (await kube.events(name)).find((e) => e.reason === 'SyncConfigMapTargetFailed'));
  assert.equal(event.type, 'Warning');
  assert.ok(event.note.startsWith(`Failed to sync target ConfigMap in Namespace "${targetNs}": `), event.note);
  await waitFor('a retry with backoff', async () => ((await controller.metric('trust_manager_reconcile_total', { result: 'error' })) >= 2 ? true : undefined));
  assert.equal((await kube.configMap(targetNs, name))?.metadata.resourceVersion, before.metadata.resourceVersion, 'the existing target is untouched');
  assert.equal(controller.child.exitCode, null);
  const rss = await controller.metric('process_resident_memory_bytes');
  const heap = await controller.metric('nodejs_heap_size_used_bytes');
  process.stdout.write(`# controller RSS while holding 4.6 MB of sources: ${(rss / 1e6).toFixed(0)} MB (heap used ${(heap / 1e6).toFixed(0)} MB)\n`);

  // Sources gone: healthy again.
  for (let i = 0; i < CERTIFICATES; i += PER_CONFIGMAP) await kube.delete(CONFIGMAPS, trustNs, `${name}-bulk-${i}`);
  await kube.waitForCondition(name, 'Synced', 120_000);
  await kube.delete(BUNDLES, undefined, name);
});
