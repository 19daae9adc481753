// ClusterTrustBundle targets as pods see them: the chart installed with clusterTrustBundles.enabled
// (controller and webhook as pods), a Bundle with a ClusterTrustBundle target, and a pod on the test
// node's kubelet (feature gate ClusterTrustBundleProjection) that mounts it through a projected
// clusterTrustBundle volume, by name and by signer. A source change travels Bundle -> object -> file;
// each hop is timed. Run through test/cluster/with-cluster.sh with TM_NODE=1.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { CoreV1Api, type V1Pod } from '@kubernetes/client-node';
import { CLUSTER_TRUST_BUNDLES } from '@trust-manager/shared/kube/resource.ts';
import { makeCA, type TestCertificate } from '@trust-manager/shared/certs/testing/fixtures.ts';
import { useCluster, uniqueName, waitFor, type TestCluster } from '../cluster/harness.ts';
import { readImages, type BuiltImages } from '../cluster/images.ts';
import { installCertManagerCRDs, issueCertificatesAndInjectCA } from '../e2e/support/cert-manager.ts';
import { bundle, kubectlApply, RELEASE, RELEASE_NAMESPACE as NAMESPACE, SOURCES_NAMESPACE } from '../e2e/support/journeys.ts';
import { CHART_DIR } from '../e2e/support/trust-manager.ts';
import { certsIn, certsOf } from '../integration/controller-support.ts';
import { CONTROLLER, livePods, nodeEval, rolledOut, WEBHOOK } from './support.ts';

const SIGNER = 'example.com/pods';
const MOUNT = '/etc/trust';
/** The kubelet re-reads projected volumes on its pod sync (about a minute) plus its cache: allow for both. */
const FILE_TIMEOUT_MS = 240_000;

let cluster: TestCluster;
let images: BuiltImages;
let consumerNs: string;
let caA: TestCertificate;
let caB: TestCertificate;
let leaf: TestCertificate;

async function clusterTrustBundle(name: string): Promise<{ spec: { trustBundle: string; signerName?: string } } | undefined> {
  const result = await cluster.kubectl(['get', CLUSTER_TRUST_BUNDLES.plural, name, '-o', 'json'], { allowFail: true });
  return result.code === 0 ? (JSON.parse(result.stdout) as { spec: { trustBundle: string } }) : undefined;
}

async function waitForObjectCerts(name: string, expected: string[]): Promise<void> {
  await waitFor(`ClusterTrustBundle ${name} to hold ${expected.length} certificate(s)`, async () => {
    const object = await clusterTrustBundle(name);
    return object !== undefined && JSON.stringify(certsIn(object.spec.trustBundle)) === JSON.stringify(expected) ? true : undefined;
  });
}

async function readMounted(pod: V1Pod, file: string): Promise<string> {
  return nodeEval(cluster, pod, `process.stdout.write(require('node:fs').readFileSync('${MOUNT}/${file}', 'utf8'))`);
}

async function waitForFileCerts(pod: V1Pod, file: string, expected: string[]): Promise<void> {
  await waitFor(
    `${file} in pod ${pod.metadata!.name} to hold ${expected.length} certificate(s)`,
    async () => (JSON.stringify(certsIn(await readMounted(pod, file))) === JSON.stringify(expected) ? true : undefined),
    FILE_TIMEOUT_MS,
  );
}

before(async () => {
  cluster = await useCluster();
  images = readImages();
  [caA, caB] = await Promise.all([makeCA({ cn: 'pods-ctb-a' }), makeCA({ cn: 'pods-ctb-b' })]);
  leaf = await makeCA({ cn: 'pods-ctb-leaf', isCA: false, issuer: caA });
  await installCertManagerCRDs(cluster);
  await cluster.kubectl(['create', 'namespace', SOURCES_NAMESPACE], { allowFail: true });
  await cluster.kubectl(['create', 'namespace', NAMESPACE], { allowFail: true });
  await cluster.kubectl(['label', '--overwrite', 'namespace', NAMESPACE, 'pod-security.kubernetes.io/enforce=restricted', 'pod-security.kubernetes.io/enforce-version=latest']);
  await cluster.helm([
    'install', '-n', NAMESPACE, RELEASE, CHART_DIR,
    '--set', `app.trust.additionalSourceNamespaces={${SOURCES_NAMESPACE}}`,
    '--set', 'clusterTrustBundles.enabled=true',
    '--set', `clusterTrustBundles.signerNames={${SIGNER}}`,
  ]);
  await issueCertificatesAndInjectCA(cluster, NAMESPACE);
  await rolledOut(cluster, CONTROLLER);
  await rolledOut(cluster, WEBHOOK);
  consumerNs = await cluster.newNamespace('ctb-consumer', { 'pod-security.kubernetes.io/enforce': 'restricted' });
});

after(async () => {
  await cluster.kubectl(['delete', 'namespace', consumerNs, '--wait=false'], { allowFail: true });
  await cluster.kubectl(['delete', 'bundles', '--all'], { allowFail: true });
  await cluster.helm(['uninstall', '-n', NAMESPACE, RELEASE, '--wait', '--timeout', '120s'], { allowFail: true });
  await cluster.kubectl(['delete', 'secret', '-n', NAMESPACE, 'trust-manager-tls', '--ignore-not-found'], { allowFail: true });
  await waitFor('the release pods to be gone', async () => (await livePods(cluster, CONTROLLER)).length + (await livePods(cluster, WEBHOOK)).length === 0 || undefined, 120_000);
});

test('a pod mounts the ClusterTrustBundle target (by name and by signer) and reads exactly its CA certificates; a source change reaches the file', async (t) => {
  const byName = uniqueName('pod-ctb');
  const bySigner = uniqueName('pod-ctb-signed');
  const signedName = `${SIGNER.replace('/', ':')}:${bySigner}`;
  const inLine = (...certs: TestCertificate[]): string => certs.map((c) => c.pem).join('');

  let started = Date.now();
  await kubectlApply(cluster, bundle(byName, { sources: [{ inLine: inLine(caA, leaf) }], target: { clusterTrustBundle: {} } }));
  await kubectlApply(cluster, bundle(bySigner, { sources: [{ inLine: inLine(caB) }], target: { clusterTrustBundle: { signerName: SIGNER } } }));
  await waitForObjectCerts(byName, certsOf(caA));
  t.diagnostic(`Bundle applied -> ClusterTrustBundle written by the controller pod: ${Date.now() - started} ms`);
  await waitForObjectCerts(signedName, certsOf(caB));

  // The pod spec the docs show (docs/cluster-trust-bundles.md), restricted Pod Security.
  const podName = 'trust-consumer';
  const pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: podName, namespace: consumerNs },
    spec: {
      automountServiceAccountToken: false,
      securityContext: { runAsNonRoot: true, runAsUser: 65532, seccompProfile: { type: 'RuntimeDefault' } },
      containers: [
        {
          name: 'app',
          image: images.operator.ref,
          imagePullPolicy: 'IfNotPresent',
          command: ['/nodejs/bin/node', '-e', 'setInterval(() => {}, 1 << 30)'],
          securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } },
          volumeMounts: [{ name: 'trust', mountPath: MOUNT, readOnly: true }],
        },
      ],
      volumes: [
        {
          name: 'trust',
          projected: {
            sources: [
              { clusterTrustBundle: { name: byName, path: 'by-name.pem' } },
              { clusterTrustBundle: { signerName: SIGNER, labelSelector: { matchLabels: { 'trust.cert-manager.io/bundle': bySigner } }, path: 'by-signer.pem' } },
            ],
          },
        },
      ],
    },
  };
  await kubectlApply(cluster, pod);
  const running = await waitFor(
    'the consumer pod to run',
    async () => {
      const current = await cluster.kubeConfig.makeApiClient(CoreV1Api).readNamespacedPod({ namespace: consumerNs, name: podName });
      return current.status?.phase === 'Running' ? current : undefined;
    },
    FILE_TIMEOUT_MS,
  );
  assert.deepEqual(certsIn(await readMounted(running, 'by-name.pem')), certsOf(caA), 'the leaf was left out; exactly the CA is mounted');
  assert.deepEqual(certsIn(await readMounted(running, 'by-signer.pem')), certsOf(caB));

  // Bundle source -> ClusterTrustBundle -> the pod's file.
  started = Date.now();
  await kubectlApply(cluster, bundle(byName, { sources: [{ inLine: inLine(caA, caB, leaf) }], target: { clusterTrustBundle: {} } }));
  await waitForObjectCerts(byName, certsOf(caA, caB));
  const objectUpdated = Date.now();
  t.diagnostic(`hop 1, Bundle source changed -> ClusterTrustBundle updated: ${objectUpdated - started} ms`);
  await waitForFileCerts(running, 'by-name.pem', certsOf(caA, caB));
  t.diagnostic(`hop 2, ClusterTrustBundle updated -> file in the pod updated: ${Date.now() - objectUpdated} ms`);

  // The webhook pods discovered the API with their own token (ServiceAccount trust-manager-webhook,
  // no role bound): admission warns about what will be left out, not about an API missing.
  for (const webhookPod of await rolledOut(cluster, WEBHOOK)) {
    assert.equal(webhookPod.spec!.serviceAccountName, 'trust-manager-webhook');
    const logs = (await cluster.kubectl(['logs', '-n', NAMESPACE, webhookPod.metadata!.name!])).stdout;
    assert.match(logs, /ClusterTrustBundle API discovered.*"clusterTrustBundles":"available"/);
  }
  const warned = bundle(uniqueName('pod-ctb-warned'), { sources: [{ inLine: inLine(caA, leaf) }], target: { clusterTrustBundle: {} } });
  const dryRun = await cluster.kubectl(['apply', '--dry-run=server', '-f', '-'], { input: JSON.stringify(warned) });
  assert.match(dryRun.stderr, /Warning: spec\.sources\[0\]\.inLine: 1 certificate\(s\) are not CA certificates and will be left out of the ClusterTrustBundle target/);
  assert.doesNotMatch(dryRun.stderr, /does not serve/);

  // Deleting the Bundle removes its ClusterTrustBundle (garbage collector).
  await cluster.kubectl(['delete', 'bundle', byName]);
  await waitFor('ClusterTrustBundle garbage-collected', async () => ((await clusterTrustBundle(byName)) === undefined ? true : undefined));
});
