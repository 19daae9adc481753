// ClusterTrustBundle support switched on where the API is not served: a second, private control
// plane without the beta API (ControlPlane option clusterTrustBundleApi: false). Other Bundles are
// unaffected, a Bundle that asks for ClusterTrustBundles gets a condition naming the API and how to
// enable it, and the webhook (behind this API server) warns at admission.
//   bash test/cluster/with-cluster.sh node --test test/integration/cluster-trust-bundles-unserved.test.ts
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { KubeConfig } from '@kubernetes/client-node';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CTB_API_ENABLE_HINT } from '@trust-manager/shared/api/cluster-trust-bundle.ts';
import { makeCA, type TestCertificate } from '@trust-manager/shared/certs/testing/fixtures.ts';
import { KubeClient } from '@trust-manager/shared/kube/client.ts';
import { isResourceServed } from '@trust-manager/shared/kube/discovery.ts';
import { CLUSTER_TRUST_BUNDLES } from '@trust-manager/shared/kube/resource.ts';
import { ControlPlane } from '../cluster/control-plane.ts';
import { installBundleCRDFromPath, runCommand, uniqueName, waitFor, type CommandResult, type TestCluster } from '../cluster/harness.ts';
import { ManagedProcess } from '../cluster/processes.ts';
import { resolveBinDir } from '../cluster/testbin.ts';
import { prepareServingEndpoint, registerLocalWebhook } from '../e2e/support/local-webhook.ts';
import { REPO_ROOT, waitForHttpOk } from '../e2e/support/trust-manager.ts';
import { startController, TestKube, type ControllerProcess } from './controller-support.ts';

const SERVICE = 'trust-manager-ctb-webhook';
const SELECTED = { 'ctb-test.trust-manager.io/webhook': 'yes' };
const UNSERVED = `this cluster does not serve the clustertrustbundles.certificates.k8s.io/v1beta1 API: ${CTB_API_ENABLE_HINT}`;

let plane: ControlPlane;
let kube: TestKube;
let binDir: string;
let workDir: string;
let trustNs: string;
let targetNs: string;
let controller: ControllerProcess;
let webhook: ManagedProcess;
let ca: TestCertificate;
let leaf: TestCertificate;

/** This test's private control plane as a TestCluster, for the shared webhook-registration helpers. */
function planCluster(): TestCluster {
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromFile(plane.kubeconfigPath);
  return {
    kubeconfigPath: plane.kubeconfigPath,
    kubeConfig,
    binDir,
    localAddress: process.env.TM_LOCAL_ADDRESS || undefined,
    kubectl: (args, opts = {}) => runCommand(join(binDir, 'kubectl'), args, { env: { ...process.env, KUBECONFIG: plane.kubeconfigPath }, ...opts }),
    helm: () => Promise.reject(new Error('no helm on this control plane')),
    newNamespace: (prefix) => namespace(prefix),
    installBundleCRD: () => installBundleCRDFromPath(plane.kubeconfigPath),
  };
}

function kubectl(args: string[], input?: string): Promise<CommandResult> {
  return runCommand(join(binDir, 'kubectl'), args, { env: { ...process.env, KUBECONFIG: plane.kubeconfigPath }, allowFail: true, ...(input !== undefined ? { input } : {}) });
}

async function namespace(prefix: string): Promise<string> {
  const name = uniqueName(prefix);
  await kubectl(['create', 'namespace', name]);
  return name;
}

before(async () => {
  binDir = resolveBinDir();
  const localAddress = process.env.TM_LOCAL_ADDRESS || undefined;
  plane = await ControlPlane.start({
    binDir,
    advertiseAddress: localAddress,
    startControllerManager: false,
    clusterTrustBundles: false,
    beforeControllerManager: (p) => installBundleCRDFromPath(p.kubeconfigPath),
  });
  const client = KubeClient.load(plane.kubeconfigPath);
  kube = new TestKube(client);
  assert.equal(await isResourceServed(client, CLUSTER_TRUST_BUNDLES), false, 'this control plane must not serve ClusterTrustBundles');
  ca = await makeCA({ cn: 'unserved-root' });
  leaf = await makeCA({ cn: 'unserved-leaf', isCA: false, issuer: ca });
  trustNs = await namespace('trust');
  targetNs = await namespace('target');
  workDir = mkdtempSync(join(tmpdir(), 'tm-ctb-unserved-'));
  controller = await startController(plane.kubeconfigPath, [`--trust-namespace=${trustNs}`, '--leader-elect=false', '--cluster-trust-bundles-enabled', '-v=2']);
  await waitFor('controller ready', () => controller.ready());
});

after(async () => {
  const exit = await controller?.stop();
  await webhook?.stop();
  await kube?.client.close();
  await plane?.stop();
  if (workDir) rmSync(workDir, { recursive: true, force: true });
  assert.deepEqual(exit, { code: 0, signal: null });
});

test('the controller keeps working for other Bundles; a Bundle that asks for ClusterTrustBundles says which API to enable and how', async () => {
  await controller.waitForLog('discovery result', (line) => /the API is not served/.test(line.msg));
  const target = { configMap: { key: 'ca.pem' }, namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': targetNs } } };

  await kube.applyBundle('plain', { sources: [{ inLine: ca.pem }], target });
  assert.equal((await kube.waitForCondition('plain', 'Synced')).status, 'True');
  await waitFor('plain target', async () => ((await kube.configMap(targetNs, 'plain'))?.data?.['ca.pem'] === ca.pem.trimEnd() ? true : undefined));

  await kube.applyBundle('wants-target', { sources: [{ inLine: ca.pem }], target: { ...target, clusterTrustBundle: {} } });
  const targetCondition = await kube.waitForCondition('wants-target', 'ClusterTrustBundleAPIUnavailable');
  assert.equal(targetCondition.status, 'False');
  assert.equal(targetCondition.message, `Bundle uses ClusterTrustBundles (spec.target.clusterTrustBundle) but ${UNSERVED}`);
  // Its namespaced target does not depend on the API.
  await waitFor('wants-target ConfigMap', async () => ((await kube.configMap(targetNs, 'wants-target'))?.data?.['ca.pem'] === ca.pem.trimEnd() ? true : undefined));
  const event = await waitFor('Warning Event', async () => (await kube.events('wants-target')).find((e) => e.reason === 'ClusterTrustBundleAPIUnavailable'));
  assert.equal(event.type, 'Warning');

  await kube.applyBundle('wants-source', { sources: [{ inLine: ca.pem }, { clusterTrustBundle: { name: 'anything' } }], target });
  const sourceCondition = await kube.waitForCondition('wants-source', 'ClusterTrustBundleAPIUnavailable');
  assert.equal(sourceCondition.message, `Bundle uses ClusterTrustBundles (spec.sources[1].clusterTrustBundle) but ${UNSERVED}`);
  assert.equal(await kube.configMap(targetNs, 'wants-source'), undefined, 'a source that cannot be read writes nothing');

  // The other Bundle is still served: a change reaches its target.
  const other = await makeCA({ cn: 'unserved-other' });
  await kube.applyBundle('plain', { sources: [{ inLine: ca.pem + other.pem }], target });
  await waitFor('plain follows', async () => ((await kube.configMap(targetNs, 'plain'))?.data?.['ca.pem'] ?? '').split('BEGIN CERTIFICATE').length === 3 || undefined);
});

test('the webhook behind this API server warns at admission: the API is not served, and non-CA certificates would be left out', async () => {
  const cluster = planCluster();
  const serviceNs = await cluster.newNamespace('webhook');
  const endpoint = await prepareServingEndpoint(cluster, SERVICE, serviceNs, workDir);
  webhook = new ManagedProcess('webhook', process.execPath, [
    join(REPO_ROOT, 'webhook/src/main.ts'),
    `--webhook-host=${endpoint.host}`,
    `--webhook-port=${endpoint.port}`,
    `--webhook-certificate-dir=${workDir}`,
    `--trust-namespace=${trustNs}`,
    '--readiness-probe-port=0',
    '--metrics-port=0',
    '--cluster-trust-bundles-enabled',
    `--kubeconfig=${plane.kubeconfigPath}`,
    '--log-format=json',
  ], join(workDir, 'webhook.log'));
  const { probePort } = await webhook.loggedFields('webhook serving');
  await waitForHttpOk(`http://127.0.0.1:${String(probePort)}/readyz`, webhook);
  const configuration = await registerLocalWebhook(cluster, { service: SERVICE, namespace: serviceNs, endpoint, selectorLabel: SELECTED });

  const bundle = {
    apiVersion: 'trust.cert-manager.io/v1alpha1',
    kind: 'Bundle',
    metadata: { name: 'warned', labels: SELECTED },
    spec: { sources: [{ inLine: ca.pem + leaf.pem }, { clusterTrustBundle: { signerName: 'example.com/s', labelSelector: {} } }], target: { clusterTrustBundle: {} } },
  };
  // The API server picks up the webhook configuration, and the webhook its discovery answer, asynchronously.
  const result = await waitFor('the webhook warning through kubectl', async () => {
    const attempt = await kubectl(['apply', '--dry-run=server', '-f', '-'], JSON.stringify(bundle));
    return attempt.code === 0 && attempt.stderr.includes('does not serve') ? attempt : undefined;
  });
  const warnings = result.stderr.split('\n').filter((line) => line.startsWith('Warning: '));
  assert.ok(warnings.includes(`Warning: spec.target.clusterTrustBundle: ${UNSERVED}`), result.stderr);
  assert.ok(warnings.includes(`Warning: spec.sources[1].clusterTrustBundle: ${UNSERVED}`), result.stderr);
  assert.ok(
    warnings.includes(
      'Warning: spec.sources[0].inLine: 1 certificate(s) are not CA certificates and will be left out of the ClusterTrustBundle target, which accepts only CA certificates',
    ),
    result.stderr,
  );

  // Invalid new fields are denied with their field paths.
  const denied = await kubectl(['apply', '--dry-run=server', '-f', '-'], JSON.stringify({ ...bundle, spec: { sources: [{ inLine: ca.pem }], target: { clusterTrustBundle: { signerName: 'not-a-signer' } } } }));
  assert.notEqual(denied.code, 0);
  assert.match(
    denied.stderr,
    /admission webhook "trust\.cert-manager\.io" denied the request: spec\.target\.clusterTrustBundle\.signerName: Invalid value: "not-a-signer": must be a fully qualified domain and path of the form 'example\.com\/signer-name'/,
  );
  await kubectl(['delete', 'validatingwebhookconfiguration', configuration]);
});
