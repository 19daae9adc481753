// A target watch that restarts in the middle of a rollout, against the real API server: the
// controller runs in this process on a client whose target watch the test cuts half-way through the
// writes and lets reconnect only after the last write. The reflector resumes from its last
// resourceVersion and the API server replays the missed half in a burst. That must cost at most one
// extra reconcile of the Bundle (not one per replayed event), and no extra write. Also: the Synced
// condition is stamped when the status is written, after the last target, not when the reconcile began.
//   bash test/cluster/with-cluster.sh node --test test/integration/controller-watch-restart.test.ts
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { BUNDLE_LABEL, HASH_ANNOTATION } from '@trust-manager/shared/api/constants.ts';
import type { Bundle } from '@trust-manager/shared/api/types.ts';
import { makeCA, type TestCertificate } from '@trust-manager/shared/certs/testing/fixtures.ts';
import { KubeClient, type KubeRequest } from '@trust-manager/shared/kube/client.ts';
import { CONFIGMAPS, NAMESPACES, resourcePath } from '@trust-manager/shared/kube/resource.ts';
import { KubeConfig } from '@kubernetes/client-node';
import { installBundleCRDFromPath, uniqueName } from '../cluster/harness.ts';
import { ControlPlane } from '../cluster/control-plane.ts';
import { resolveBinDir } from '../cluster/testbin.ts';
import { CuttableWatchClient, startInProcessController, sumMetric, TestKube, waitFor, type InProcessController } from './controller-support.ts';

const SELECT = 'watch-restart-test.trust-manager.io/select';
const NAMESPACE_COUNT = 300;

/** Each ConfigMap write waits this long before it is sent: a rollout then spans seconds on any machine. */
const WRITE_DELAY_MS = 100;
const MAX_CONCURRENT_WRITES = 16;

/** Its ConfigMap writes are held back a little, so that the rollout's start and end are seconds apart. */
class SlowWritesClient extends CuttableWatchClient {
  override async json<T>(req: KubeRequest): Promise<T> {
    if (req.method === 'PATCH' && req.path.includes('/configmaps/')) await sleep(WRITE_DELAY_MS);
    return super.json<T>(req);
  }
}

let plane: ControlPlane | undefined;
let kube: TestKube;
let client: SlowWritesClient;
let running: InProcessController | undefined;
let trustNs: string;
let namespaces: string[] = [];

before(async () => {
  // A control plane of its own: the reconcile counter counts every Bundle, and on the run's shared plane the
  // targets of earlier files' deleted Bundles are still being removed (namespace deletion, garbage
  // collection). Those events once queued a reconcile each (23-42 counted here); they queue none now
  // (controller-cache-events.test.ts), but the count stays this file's alone.
  plane = await ControlPlane.start({
    binDir: resolveBinDir(),
    startControllerManager: false,
    beforeControllerManager: (p) => installBundleCRDFromPath(p.kubeconfigPath),
  });
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromFile(plane.kubeconfigPath);
  kube = new TestKube(new KubeClient(kubeConfig));
  // The cluster-wide target ConfigMap watch is the one the test cuts.
  client = new SlowWritesClient(kubeConfig, (req) => req.path === resourcePath(CONFIGMAPS) && req.query?.labelSelector === BUNDLE_LABEL);
  trustNs = uniqueName('watch-trust');
  await kube.client.json({ method: 'POST', path: resourcePath(NAMESPACES), body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: trustNs } } });
  const selectorValue = uniqueName('wr');
  namespaces = Array.from({ length: NAMESPACE_COUNT }, (_, i) => `${selectorValue}-${i}`);
  for (let i = 0; i < namespaces.length; i += 25) {
    await Promise.all(
      namespaces.slice(i, i + 25).map((ns) =>
        kube.client.json({ method: 'POST', path: resourcePath(NAMESPACES), body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns, labels: { [SELECT]: selectorValue } } } }),
      ),
    );
  }
});

after(async () => {
  await running?.stop();
  await client?.close();
  await kube?.client.close();
  await plane?.stop();
});

test('a target watch cut mid-rollout and replayed costs at most one extra reconcile; Synced is stamped at the status write', async () => {
  const name = uniqueName('watch-restart');
  const selector = namespaces[0]!.replace(/-0$/, '');
  const writes = { configMaps: 0, lastConfigMapAt: 0 };
  running = await startInProcessController(client, trustNs, {
    maxConcurrentWrites: MAX_CONCURRENT_WRITES,
    onWrite: ({ resource, ok }) => {
      if (resource.kind === 'ConfigMap' && ok) {
        writes.configMaps++;
        writes.lastConfigMapAt = Date.now();
      }
    },
  });
  const { controller, metrics } = running;

  const reconciles = async (): Promise<number> => sumMetric(await metrics.registry.metrics(), 'trust_manager_reconcile_total');
  const spec = (ca: TestCertificate): Bundle['spec'] => ({ sources: [{ inLine: ca.pem }], target: { configMap: { key: 'ca.pem' }, namespaceSelector: { matchLabels: { [SELECT]: selector } } } });
  const targetsWithHash = (): Set<string> => new Set(controller.caches.targetsOf(name).map((target) => target.annotations?.[HASH_ANNOTATION] ?? ''));
  const settled = async (what: string, hashes: () => boolean): Promise<void> => {
    await waitFor(what, () => (hashes() && controller.queue.length === 0 && controller.queue.processing === 0 ? true : undefined), 180_000);
    // Let anything still queued behind the last event run (a settled controller stays settled).
    let quietSince = Date.now();
    await waitFor(`${what}, then quiet for 2 s`, () => {
      if (controller.queue.length > 0 || controller.queue.processing > 0) quietSince = Date.now();
      return Date.now() - quietSince >= 2000 ? true : undefined;
    });
  };

  // 1. The first rollout, undisturbed; the condition must be no older than the last target write.
  const started = Date.now();
  await kube.applyBundle(name, spec(await makeCA({ cn: 'watch-restart-1' })));
  await settled('the first rollout', () => controller.caches.targetsOf(name).length === NAMESPACE_COUNT);
  const firstCondition = await kube.waitForCondition(name, 'Synced');
  const stampedMs = Date.parse(firstCondition.lastTransitionTime);
  // At least (300 / 16) x 100 ms: the reconcile's start and its last write lie in different seconds.
  assert.ok(writes.lastConfigMapAt - started >= Math.floor(NAMESPACE_COUNT / MAX_CONCURRENT_WRITES) * WRITE_DELAY_MS, 'the writes were held back');
  assert.ok(stampedMs >= Math.floor(writes.lastConfigMapAt / 1000) * 1000, `Synced stamped ${firstCondition.lastTransitionTime}, last target written ${new Date(writes.lastConfigMapAt).toISOString()}`);

  // 2. A change: cut the target watch half-way through the writes, let it reconnect after the last.
  const reconcilesBefore = await reconciles();
  const writesBefore = writes.configMaps;
  const watchesBefore = client.watchesOpened;
  const hashesBefore = targetsWithHash();
  await kube.applyBundle(name, spec(await makeCA({ cn: 'watch-restart-2' })));
  await waitFor('half of the writes', () => (writes.configMaps - writesBefore >= NAMESPACE_COUNT / 2 ? true : undefined), 180_000);
  client.cut();
  await waitFor('every write', () => (writes.configMaps - writesBefore >= NAMESPACE_COUNT ? true : undefined), 180_000);
  const cachedBeforeReplay = controller.caches.targetsOf(name).filter((target) => hashesBefore.has(target.annotations?.[HASH_ANNOTATION] ?? '')).length;
  client.release();
  await settled('the change, replayed', () => {
    const hashes = targetsWithHash();
    return hashes.size === 1 && !hashesBefore.has([...hashes][0]!) && controller.caches.targetsOf(name).length === NAMESPACE_COUNT;
  });

  assert.ok(client.watchesOpened > watchesBefore, 'the target watch was reopened');
  assert.ok(cachedBeforeReplay > 0, `the cache missed writes while the watch was cut (${cachedBeforeReplay} targets still old)`);
  const extra = (await reconciles()) - reconcilesBefore;
  assert.ok(extra >= 1 && extra <= 2, `reconciles for the change: ${extra} (one, plus at most one for the watch restart)`);
  assert.equal(writes.configMaps - writesBefore, NAMESPACE_COUNT, 'each target written once');
  const condition = await kube.waitForCondition(name, 'Synced');
  assert.equal(condition.status, 'True');
});
