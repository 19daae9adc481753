// How the watch events the controller's cache receives turn into reconciles, against the real API server.
//
// A Bundle change the cache missed: while the Bundle watch is down, the Bundle's spec changes and a new
// namespace makes the controller reconcile the Bundle it still has cached: it writes the old certificates
// and its status write lands on top of the new spec. The watch then comes back with a LIST (its
// resourceVersion compacted, as after a kube-apiserver restart), which shows the Bundle at the
// resourceVersion of that status write. That is not only our write: the new spec must still reach every
// target. (Seen as a flaky kube-apiserver restart test before the fix.)
//
// The targets of a Bundle that no longer exists (the garbage collector deleting them by the thousand)
// queue no reconcile.
//   bash test/cluster/with-cluster.sh node --test test/integration/controller-cache-events.test.ts
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { KubeConfig } from '@kubernetes/client-node';
import { API_VERSION, BUNDLE_LABEL, KIND } from '@trust-manager/shared/api/constants.ts';
import type { Bundle } from '@trust-manager/shared/api/types.ts';
import { makeCA, type TestCertificate } from '@trust-manager/shared/certs/testing/fixtures.ts';
import { KubeClient } from '@trust-manager/shared/kube/client.ts';
import { BUNDLES, CONFIGMAPS, NAMESPACES, resourcePath } from '@trust-manager/shared/kube/resource.ts';
import { ControlPlane } from '../cluster/control-plane.ts';
import { installBundleCRDFromPath } from '../cluster/harness.ts';
import { resolveBinDir } from '../cluster/testbin.ts';
import type { Controller } from '@trust-manager/controller/controller.ts';
import { CuttableWatchClient, startInProcessController, sumMetric, TestKube, waitFor, type InProcessController } from './controller-support.ts';

const SELECT = 'stale-bundle-test.trust-manager.io/select';
let plane: ControlPlane | undefined;
let kube: TestKube;
let client: CuttableWatchClient;
let running: InProcessController | undefined;

before(async () => {
  // A control plane of its own: the controller here reconciles every Bundle it finds.
  plane = await ControlPlane.start({ binDir: resolveBinDir(), startControllerManager: false, beforeControllerManager: (p) => installBundleCRDFromPath(p.kubeconfigPath) });
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromFile(plane.kubeconfigPath);
  kube = new TestKube(new KubeClient(kubeConfig));
  client = new CuttableWatchClient(kubeConfig, (req) => req.path === resourcePath(BUNDLES));
});

after(async () => {
  await running?.stop();
  await client?.close();
  await kube?.client.close();
  await plane?.stop();
});

async function createNamespace(name: string, labels: Record<string, string> = {}): Promise<void> {
  await kube.client.json({ method: 'POST', path: resourcePath(NAMESPACES), body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels } } });
}

/** Whether the target ConfigMap in `namespace` holds `cert` (and so was written from a spec naming it). */
async function targetHolds(namespace: string, cert: TestCertificate): Promise<boolean> {
  const pem = (await kube.configMap(namespace, 'stale'))?.data?.['ca.pem'];
  return pem?.includes(cert.pem.split('\n').slice(1, 3).join('\n')) ?? false;
}

/** Waits until the controller's caches hold the Bundle and its targets as the API server has them: every write seen. */
async function cachesShowEverything(controller: Controller): Promise<void> {
  await waitFor('the caches to show every write', async () => {
    const bundle = await kube.bundle('stale');
    const targets = await Promise.all(['trust', 'team-1'].map(async (namespace) => [namespace, (await kube.configMap(namespace, 'stale'))?.metadata.resourceVersion] as const));
    const same = controller.caches.bundles.get(undefined, 'stale')?.metadata.resourceVersion === bundle?.metadata.resourceVersion && targets.every(([namespace, version]) => controller.caches.targetResourceVersion('ConfigMap', namespace, 'stale') === version);
    return same && controller.queue.length === 0 && controller.queue.processing === 0 ? true : undefined;
  });
}

test('a status write on top of a spec the cache missed does not hide that spec once the watch relists', async () => {
  const [oldCA, newCA] = [await makeCA({ cn: 'stale-old' }), await makeCA({ cn: 'stale-new' })];
  const spec = (cert: TestCertificate): Bundle['spec'] => ({ sources: [{ inLine: cert.pem }], target: { configMap: { key: 'ca.pem' }, namespaceSelector: { matchLabels: { [SELECT]: 'yes' } } } });
  await createNamespace('trust');
  await createNamespace('team-1', { [SELECT]: 'yes' });
  let statusWrites = 0;
  running = await startInProcessController(client, 'trust', {
    onWrite: ({ resource, ok }) => {
      if (resource === BUNDLES && ok) statusWrites++;
    },
  });
  await kube.applyBundle('stale', spec(oldCA));
  await waitFor('the first rollout', async () => ((await targetHolds('team-1', oldCA)) ? true : undefined));
  await kube.waitForCondition('stale', 'Synced');
  await cachesShowEverything(running.controller);

  client.cut();
  await kube.applyBundle('stale', spec(newCA));
  const statusWritesBefore = statusWrites;
  await createNamespace('team-2', { [SELECT]: 'yes' });
  await waitFor('a reconcile from the cached (old) spec, with a status write', async () =>
    (await targetHolds('team-2', oldCA)) && statusWrites > statusWritesBefore ? true : undefined,
  );
  const watchesBefore = client.watchesOpened;
  client.release({ expired: true });

  for (const namespace of ['team-1', 'team-2']) {
    await waitFor(`the new spec's certificate in ${namespace}`, async () => ((await targetHolds(namespace, newCA)) ? true : undefined), 60_000);
  }
  assert.ok(client.watchesOpened > watchesBefore, 'the Bundle watch was reopened');
  const condition = await kube.waitForCondition('stale', 'Synced');
  assert.equal(condition.status, 'True');
});

test('target events of a Bundle that does not exist queue no reconcile', async () => {
  const { controller, metrics } = running!;
  const reconciles = async (): Promise<number> => sumMetric(await metrics.registry.metrics(), 'trust_manager_reconcile_total');
  const quiet = (): true | undefined => (controller.queue.length === 0 && controller.queue.processing === 0 ? true : undefined);
  await waitFor('an idle queue', quiet);
  const before = await reconciles();
  const names = Array.from({ length: 20 }, (_, i) => `orphan-${i}`);
  const ownerReferences = [{ apiVersion: API_VERSION, kind: KIND, name: 'deleted-bundle', uid: '00000000-0000-0000-0000-000000000000', controller: true, blockOwnerDeletion: true }];
  for (const name of names) {
    await kube.apply(CONFIGMAPS, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'team-1', labels: { [BUNDLE_LABEL]: 'deleted-bundle' }, ownerReferences }, data: { 'ca.pem': '' } });
  }
  await waitFor('the orphans in the cache', () => (controller.caches.targetsOf('deleted-bundle').length === names.length ? true : undefined));
  for (const name of names) await kube.delete(CONFIGMAPS, 'team-1', name);
  await waitFor('the orphans gone from the cache', () => (controller.caches.targetsOf('deleted-bundle').length === 0 ? true : undefined));
  await waitFor('an idle queue', quiet);
  assert.equal((await reconciles()) - before, 0);
});
