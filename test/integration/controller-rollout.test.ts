// Crash safety of a rollout, against a real control plane: kill -9 the controller in the middle of
// writing 200 namespaces, start it again, and every target must end up correct (PEM and JKS), with
// a Synced status, and a second resync must write nothing.
//   bash test/cluster/with-cluster.sh node --test test/integration/controller-rollout.test.ts
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { BUNDLE_LABEL, HASH_ANNOTATION } from '@trust-manager/shared/api/constants.ts';
import { makeCA, type TestCertificate } from '@trust-manager/shared/certs/testing/fixtures.ts';
import { runOnStore } from '@trust-manager/shared/certs/testing/tools.ts';
import { KubeClient } from '@trust-manager/shared/kube/client.ts';
import { BUNDLES, CONFIGMAPS, NAMESPACES, resourcePath } from '@trust-manager/shared/kube/resource.ts';
import { useCluster, uniqueName, type TestCluster } from '../cluster/harness.ts';
import { startController, TestKube, waitFor, type ConfigMapObject, type ControllerProcess } from './controller-support.ts';

const SELECT = 'rollout-test.trust-manager.io/select';
const NAMESPACE_COUNT = 200;

let cluster: TestCluster;
let kube: TestKube;
let trustNs: string;
let selectorValue: string;
let namespaces: string[] = [];
let first: TestCertificate;
let second: TestCertificate;
let controller: ControllerProcess | undefined;

async function targets(name: string): Promise<ConfigMapObject[]> {
  const list = await kube.client.json<{ items: ConfigMapObject[] }>({ path: resourcePath(CONFIGMAPS), query: { labelSelector: `${BUNDLE_LABEL}=${name}` } });
  return list.items;
}

function holds(cm: ConfigMapObject, cert: TestCertificate): boolean {
  return cm.data?.['ca.pem']?.includes(cert.pem.split('\n').slice(1, 3).join('\n')) ?? false;
}

before(async () => {
  cluster = await useCluster();
  await cluster.installBundleCRD();
  kube = new TestKube(new KubeClient(cluster.kubeConfig));
  first = await makeCA({ cn: 'rollout-1' });
  second = await makeCA({ cn: 'rollout-2' });
  trustNs = await cluster.newNamespace('roll-trust');
  selectorValue = uniqueName('roll');
  const names = Array.from({ length: NAMESPACE_COUNT }, (_, i) => `${selectorValue}-${i}`);
  // Created in parallel batches through the API (kubectl per namespace would take minutes).
  for (let i = 0; i < names.length; i += 25) {
    await Promise.all(
      names.slice(i, i + 25).map((ns) =>
        kube.client.json({ method: 'POST', path: resourcePath(NAMESPACES), body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns, labels: { [SELECT]: selectorValue } } } }),
      ),
    );
  }
  namespaces = names;
});

after(async () => {
  await controller?.kill9();
  // Leave no 200 namespaces behind for the rest of the run.
  await Promise.all(namespaces.map((ns) => kube.delete(NAMESPACES, undefined, ns)));
  await kube?.client.close();
});

test('kill -9 mid-rollout over 200 namespaces, then restart: every target correct, then a free resync', async () => {
  const name = uniqueName('rollout');
  const spec = (cert: TestCertificate) => ({
    sources: [{ inLine: cert.pem }],
    target: { configMap: { key: 'ca.pem' }, additionalFormats: { jks: { key: 'ca.jks' } }, namespaceSelector: { matchLabels: { [SELECT]: selectorValue } } },
  });
  await kube.applyBundle(name, spec(first));

  // One write at a time, so the kill lands mid-rollout.
  const args = [`--trust-namespace=${trustNs}`, '--leader-elect=false'];
  controller = await startController(cluster.kubeconfigPath, [...args, '--max-concurrent-writes=1']);
  await waitFor('some targets written', async () => ((await targets(name)).length >= 20 ? true : undefined));
  await controller.kill9();
  const written = (await targets(name)).length;
  process.stdout.write(`# killed after ${written} of ${NAMESPACE_COUNT} targets\n`);
  assert.ok(written < NAMESPACE_COUNT, 'the kill landed mid-rollout');

  // The Bundle changes while no controller runs; the restarted one must converge on the new state.
  await kube.applyBundle(name, spec(second));
  const started = Date.now();
  controller = await startController(cluster.kubeconfigPath, args);
  await waitFor(
    'every target updated',
    async () => {
      const all = await targets(name);
      return all.length === NAMESPACE_COUNT && all.every((cm) => holds(cm, second) && !holds(cm, first)) ? all : undefined;
    },
    180_000,
  );
  process.stdout.write(`# restart to ${NAMESPACE_COUNT} correct targets: ${Date.now() - started} ms\n`);
  const condition = await kube.waitForCondition(name, 'Synced');
  assert.equal(condition.status, 'True');

  const all = await targets(name);
  const hashes = new Set(all.map((cm) => cm.metadata.annotations?.[HASH_ANNOTATION]));
  assert.equal(hashes.size, 1, 'every target carries the same hash');
  const jks = Buffer.from(all[0]?.binaryData?.['ca.jks'] ?? '', 'base64');
  const keytool = runOnStore(jks, 'keytool', ['-list', '-keystore', '{}', '-storepass', 'changeit', '-storetype', 'JKS']);
  assert.equal(keytool.status, 0, keytool.stderr);
  assert.match(keytool.stdout, /contains 1 entry/);

  // Once settled, a metadata-only change to the Bundle costs no write.
  await waitFor('settled', async () => ((await controller!.metric('trust_manager_workqueue_depth')) === 0 ? true : undefined));
  const writes = await controller.metric('trust_manager_api_writes_total');
  const reconciles = await controller.metric('trust_manager_reconcile_total');
  await kube.patch(BUNDLES, undefined, name, { metadata: { labels: { resync: 'please' } } });
  await waitFor('reconciled again', async () => ((await controller!.metric('trust_manager_reconcile_total')) > reconciles ? true : undefined));
  assert.equal(await controller.metric('trust_manager_api_writes_total'), writes);
  await kube.delete(BUNDLES, undefined, name);
  assert.deepEqual(await controller.stop(), { code: 0, signal: null });
  controller = undefined;
});
