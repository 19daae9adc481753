// The admin's journeys as real pods: the images built from the Dockerfile run on the test node's kubelet
// (test/cluster/node.ts) under the chart's default image names, in a namespace that enforces the Pod
// Security `restricted` profile. Run through test/cluster/with-cluster.sh with TM_NODE=1.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { CustomObjectsApi } from '@kubernetes/client-node';
import { CONTROLLER, WEBHOOK, livePods, rolledOut as rolledOutIn, nodeEval as nodeEvalIn } from './support.ts';
import { useCluster, waitFor, type TestCluster } from '../cluster/harness.ts';
import { readImages, imageTag, type BuiltImages } from '../cluster/images.ts';
import { installCertManagerCRDs, issueCertificatesAndInjectCA } from '../e2e/support/cert-manager.ts';
import { CHART_DIR } from '../e2e/support/trust-manager.ts';
import {
  RELEASE, RELEASE_NAMESPACE as NAMESPACE, SOURCES_NAMESPACE, bundle, kubectlApply, readBundle, configMapData,
  acceptsGoodAndRejectsBad, certificateCount, syncedCondition,
} from '../e2e/support/journeys.ts';
import { makeCA } from '@trust-manager/shared/certs/testing/fixtures.ts';
import { packageStringID, type DefaultPackage } from '@trust-manager/controller/package/package.ts';
import { GROUP, VERSION, PLURAL } from '@trust-manager/shared/api/constants.ts';

const PACKAGE_PATH = '/packages/cert-manager-package-debian.json';

let cluster: TestCluster;
let images: BuiltImages;
const rolledOut = (name: string) => rolledOutIn(cluster, name);
const nodeEval = (pod: Parameters<typeof nodeEvalIn>[1], script: string) => nodeEvalIn(cluster, pod, script);

before(async () => {
  cluster = await useCluster();
  images = readImages();
  await installCertManagerCRDs(cluster);
  await cluster.kubectl(['create', 'namespace', SOURCES_NAMESPACE], { allowFail: true }); // other files of the run may have made it
});

async function install(set: string[]): Promise<void> {
  // The namespace enforces the restricted Pod Security profile before anything is created in it.
  await cluster.kubectl(['create', 'namespace', NAMESPACE], { allowFail: true });
  await cluster.kubectl(['label', '--overwrite', 'namespace', NAMESPACE, 'pod-security.kubernetes.io/enforce=restricted', 'pod-security.kubernetes.io/enforce-version=latest']);
  const helmCert = set.includes('app.webhook.tls.helmCert.enabled=true');
  await cluster.helm(['install', '-n', NAMESPACE, '--create-namespace', RELEASE, CHART_DIR,
    '--set', `app.trust.additionalSourceNamespaces={${SOURCES_NAMESPACE}}`, ...set.flatMap((s) => ['--set', s])]);
  if (!helmCert) await issueCertificatesAndInjectCA(cluster, NAMESPACE);
  await rolledOut(CONTROLLER);
  await rolledOut(WEBHOOK);
}

async function uninstall(): Promise<void> {
  await cluster.helm(['uninstall', '-n', NAMESPACE, RELEASE, '--wait', '--timeout', '120s'], { allowFail: true });
  await cluster.kubectl(['delete', 'bundles', '--all'], { allowFail: true });
  await cluster.kubectl(['delete', 'secret', '-n', NAMESPACE, 'trust-manager-tls', '--ignore-not-found']);
  await waitFor('the release pods to be gone', async () => (await livePods(cluster, CONTROLLER)).length + (await livePods(cluster, WEBHOOK)).length === 0 || undefined, 120_000);
}

/** The package the controller pod loaded (copied by its init container from the package image). */
async function loadedPackage(): Promise<DefaultPackage> {
  const [pod] = await rolledOut(CONTROLLER);
  return JSON.parse(await nodeEval(pod!, `process.stdout.write(require('node:fs').readFileSync('${PACKAGE_PATH}', 'utf8'))`)) as DefaultPackage;
}

/**
 * Sends dry-run creates of a valid Bundle through the webhook (failurePolicy Fail) until stopped; every one
 * must be admitted. Returns the count and the failures.
 */
function admissionLoop(): { stop: () => Promise<{ sent: number; failures: string[] }> } {
  const api = cluster.kubeConfig.makeApiClient(CustomObjectsApi);
  let running = true;
  let sent = 0;
  const failures: string[] = [];
  const loop = (async () => {
    while (running) {
      const body = bundle(`loop-${sent}`, { sources: [{ useDefaultCAs: true }], target: { configMap: { key: 'ca.pem' } } });
      try {
        await api.createClusterCustomObject({ group: GROUP, version: VERSION, plural: PLURAL, body, dryRun: 'All' });
      } catch (err) {
        failures.push((err as { body?: string }).body ?? String(err));
      }
      sent++;
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      return { sent, failures };
    },
  };
}

/** Helm upgrade of defaultPackageImage.tag rolls the controller; useDefaultCAs Bundles move, others are not rewritten. */
async function packageUpgradeJourney(): Promise<void> {
  const target = await cluster.newNamespace('upgrade');
  const privateCA = await makeCA({ cn: 'upgrade-private' });
  await kubectlApply(cluster, bundle('with-defaults', { sources: [{ useDefaultCAs: true }, { inLine: privateCA.pem }], target: { configMap: { key: 'ca.pem' } } }));
  await kubectlApply(cluster, bundle('without-defaults', { sources: [{ inLine: privateCA.pem }], target: { configMap: { key: 'ca.pem' } } }));
  const oldPackage = await loadedPackage();
  await waitFor('defaultCAVersion of the old package', async () => (await readBundle(cluster, 'with-defaults')).status?.defaultCAVersion === packageStringID(oldPackage) || undefined);
  const before = { with: await waitFor('target', () => configMapData(cluster, target, 'with-defaults')), without: await waitFor('target', () => configMapData(cluster, target, 'without-defaults')) };
  assert.equal(certificateCount(before.with.data['ca.pem']), certificateCount(oldPackage.bundle) + 1);
  const [oldPod] = await rolledOut(CONTROLLER);

  await cluster.helm(['upgrade', '-n', NAMESPACE, RELEASE, CHART_DIR, '--reuse-values', '--set', `defaultPackageImage.tag=${imageTag(images.packageNext.ref)}`]);
  const [newPod] = await waitFor('a new controller pod', async () => {
    const ready = await rolledOut(CONTROLLER);
    return ready[0]!.metadata!.name !== oldPod!.metadata!.name ? ready : undefined;
  });
  assert.equal(newPod!.spec!.initContainers![0]!.image, images.packageNext.ref);
  const newPackage = await loadedPackage();
  assert.notEqual(packageStringID(newPackage), packageStringID(oldPackage));
  await waitFor('defaultCAVersion of the new package', async () => (await readBundle(cluster, 'with-defaults')).status?.defaultCAVersion === packageStringID(newPackage) || undefined);
  const moved = await waitFor('the useDefaultCAs target to change', async () => {
    const now = await configMapData(cluster, target, 'with-defaults');
    return now && now.data['ca.pem'] !== before.with.data['ca.pem'] ? now : undefined;
  });
  assert.equal(certificateCount(moved.data['ca.pem']), certificateCount(newPackage.bundle) + 1);
  assert.equal((await configMapData(cluster, target, 'without-defaults'))?.resourceVersion, before.without.resourceVersion);
  assert.equal((await readBundle(cluster, 'without-defaults')).status?.defaultCAVersion, undefined);
}

/** Helm upgrade of the operator image tag rolls both Deployments while every admission succeeds; no target is lost. */
async function operatorRollJourney(): Promise<void> {
  const target = await cluster.newNamespace('roll');
  const ca = await makeCA({ cn: 'roll' });
  await kubectlApply(cluster, bundle('roll', { sources: [{ inLine: ca.pem }], target: { configMap: { key: 'ca.pem' } } }));
  const synced = await waitFor('roll target', () => configMapData(cluster, target, 'roll'));
  const oldNames = new Set([...(await rolledOut(CONTROLLER)), ...(await rolledOut(WEBHOOK))].map((p) => p.metadata!.name));

  const loop = admissionLoop();
  await cluster.helm(['upgrade', '-n', NAMESPACE, RELEASE, CHART_DIR, '--reuse-values', '--set', `image.tag=${imageTag(images.operatorNext.ref)}`]);
  const rolled = [...(await rolledOut(CONTROLLER)), ...(await rolledOut(WEBHOOK))];
  const { sent, failures } = await loop.stop();

  assert.ok(sent > 0);
  assert.deepEqual(failures, [], `${failures.length} of ${sent} admissions failed during the roll`);
  for (const pod of rolled) {
    assert.ok(!oldNames.has(pod.metadata!.name), `${pod.metadata!.name} was not replaced`);
    assert.equal(pod.spec!.containers[0]!.image, images.operatorNext.ref);
  }
  const after = await configMapData(cluster, target, 'roll');
  assert.equal(after?.data['ca.pem'], synced.data['ca.pem']);
}

/** Deleting the leader controller pod: the replacement takes the Lease and resumes. */
async function leaderFailoverJourney(): Promise<void> {
  const [leader] = await rolledOut(CONTROLLER);
  await cluster.kubectl(['delete', 'pod', '-n', NAMESPACE, leader!.metadata!.name!, '--wait=false']);
  const [replacement] = await waitFor('a replacement controller pod', async () => {
    const ready = await rolledOut(CONTROLLER);
    return ready[0]!.metadata!.name !== leader!.metadata!.name ? ready : undefined;
  });
  const target = await cluster.newNamespace('after-failover');
  const ca = await makeCA({ cn: 'failover' });
  await kubectlApply(cluster, bundle('after-failover', { sources: [{ inLine: ca.pem }], target: { configMap: { key: 'ca.pem' } } }));
  await waitFor('the new leader to sync a new Bundle', () => configMapData(cluster, target, 'after-failover'));
  const lease = JSON.parse((await cluster.kubectl(['get', 'lease', '-n', NAMESPACE, '-o', 'json'])).stdout) as { items: { spec: { holderIdentity?: string } }[] };
  assert.ok(lease.items.some((l) => l.spec.holderIdentity?.startsWith(replacement!.metadata!.name!)), JSON.stringify(lease.items.map((l) => l.spec.holderIdentity)));
}

/** Deleting a webhook pod: admissions keep working. */
async function webhookPodDeletionJourney(): Promise<void> {
  const [victim] = await rolledOut(WEBHOOK);
  const loop = admissionLoop();
  await cluster.kubectl(['delete', 'pod', '-n', NAMESPACE, victim!.metadata!.name!]);
  await rolledOut(WEBHOOK);
  const { sent, failures } = await loop.stop();
  assert.ok(sent > 0);
  assert.deepEqual(failures, [], `${failures.length} of ${sent} admissions failed while a webhook pod was deleted`);
}

describe('helm install with the chart defaults, as pods (cert-manager TLS)', () => {
  before(() => install([]));
  after(uninstall);

  test('the chart defaults name the images built here; controller and both webhook pods are Ready under restricted Pod Security', async () => {
    const controller = await rolledOut(CONTROLLER);
    const webhook = await rolledOut(WEBHOOK);
    assert.equal(controller.length, 1);
    assert.equal(webhook.length, 2);
    for (const pod of [...controller, ...webhook]) {
      assert.equal(pod.spec!.containers[0]!.image, images.operator.ref);
      assert.equal(pod.status!.containerStatuses![0]!.ready, true);
    }
    assert.equal(controller[0]!.spec!.initContainers![0]!.image, images.package.ref);
    const ns = JSON.parse((await cluster.kubectl(['get', 'namespace', NAMESPACE, '-o', 'json'])).stdout) as { metadata: { labels: Record<string, string> } };
    assert.equal(ns.metadata.labels['pod-security.kubernetes.io/enforce'], 'restricted');
  });

  test('bad Bundles are denied by the webhook pods, good ones synced by the controller pod', () => acceptsGoodAndRejectsBad(cluster, 'pods'));

  test('kubectl logs shows structured log lines; kubectl exec reaches the container', async () => {
    // The chart's default log format is upstream's: text, "[time] LEVEL: message {fields as JSON}".
    const structured = (logs: string) => logs.split('\n').filter(Boolean).map((line) => {
      const match = /^\[[\d-]+ [\d:.]+\] (?:DEBUG|INFO|WARN|ERROR)[^:]*: (.+?)(?: (\{.*\}))?$/.exec(line);
      assert.ok(match, `not a structured log line: ${line}`);
      return { msg: match[1]!, fields: match[2] ? (JSON.parse(match[2]) as Record<string, unknown>) : {} };
    });
    const [controller] = await rolledOut(CONTROLLER);
    const lines = structured((await cluster.kubectl(['logs', '-n', NAMESPACE, controller!.metadata!.name!, '-c', CONTROLLER])).stdout);
    assert.ok(lines.some((l) => l.msg === 'acquired leadership'));
    assert.ok(lines.some((l) => l.fields.bundle === 'good-pods'), 'a line about the synced Bundle carries its name');
    for (const webhook of await rolledOut(WEBHOOK)) {
      const webhookLines = structured((await cluster.kubectl(['logs', '-n', NAMESPACE, webhook.metadata!.name!])).stdout);
      assert.ok(webhookLines.length > 0);
    }
    assert.equal((await nodeEval(controller!, 'process.stdout.write(String(process.getuid()))')).trim(), '65532');
  });

  test('helm upgrade of defaultPackageImage.tag rolls the controller; useDefaultCAs Bundles move, others are not rewritten', packageUpgradeJourney);

  test('helm upgrade of the operator image tag rolls both Deployments while every admission succeeds; no target is lost', operatorRollJourney);

  test('deleting the leader controller pod: the replacement takes the Lease and resumes', leaderFailoverJourney);

  test('deleting a webhook pod: admissions keep working', webhookPodDeletionJourney);
});

describe('helm install with app.webhook.tls.helmCert.enabled, as pods', () => {
  before(() => install(['app.webhook.tls.helmCert.enabled=true']));
  after(uninstall);

  test('bad Bundles are denied, good ones synced', () => acceptsGoodAndRejectsBad(cluster, 'helmcert'));
});

describe('OpenShift restricted-v2: an arbitrary UID with GID 0 and no fsGroup, as pods', () => {
  const uid = 1000680000;
  before(() => install([
    `podSecurityContext.runAsUser=${uid}`, 'podSecurityContext.runAsGroup=0',
    `defaultPackage.securityContext.runAsUser=${uid}`,
  ]));
  after(uninstall);

  test('the pods run as that UID and the journeys pass', async () => {
    const [controller] = await rolledOut(CONTROLLER);
    assert.equal((await nodeEval(controller!, 'process.stdout.write(`${process.getuid()}:${process.getgid()}`)')).trim(), `${uid}:0`);
    assert.equal(controller!.spec!.securityContext?.fsGroup, undefined);
    await acceptsGoodAndRejectsBad(cluster, 'openshift');
    const condition = await syncedCondition(cluster, 'good-openshift');
    assert.equal(condition?.status, 'True');
  });
  test('the package upgrade journey (the copier writes as that UID)', packageUpgradeJourney);
  test('the operator image roll journey', operatorRollJourney);
  test('the leader fail-over journey', leaderFailoverJourney);
  test('the webhook pod deletion journey', webhookPodDeletionJourney);
});
