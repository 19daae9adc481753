// The demo's steps (run by scripts/demo.sh inside the local control plane with a kubelet node): helm
// install of the chart with its default images (built here from the Dockerfile), the stand-in
// cert-manager, the controller and webhook pods, the quick-start Bundles, a rejected Bundle, the
// resulting targets, and a helm upgrade of the package image that rolls the controller pod.
import { setTimeout as sleep } from 'node:timers/promises';
import { useCluster, waitFor, kubectlHint } from './cluster/harness.ts';
import { readImages, imageTag } from './cluster/images.ts';
import { installCertManagerCRDs, issueCertificatesAndInjectCA } from './e2e/support/cert-manager.ts';
import { CHART_DIR } from './e2e/support/trust-manager.ts';
import { CONTROLLER, WEBHOOK, rolledOut } from './pods/support.ts';
import { makeCA } from '@trust-manager/shared/certs/testing/fixtures.ts';

const NAMESPACE = 'cert-manager';
const bold = (s: string) => (process.stdout.isTTY ? `\x1b[1m${s}\x1b[0m` : s);
const step = (s: string) => console.log(`\n${bold(`==> ${s}`)}`);

const cluster = await useCluster();
const images = readImages();
const show = async (args: string[]) => {
  const r = await cluster.kubectl(args, { allowFail: true });
  console.log(`$ kubectl ${args.join(' ')}\n${(r.stdout + r.stderr).trimEnd()}`);
  return r;
};
const apply = (manifest: object, allowFail = false) => cluster.kubectl(['apply', '-f', '-'], { input: JSON.stringify(manifest), allowFail });

step('the node: kubelet with containerd, the images built from the Dockerfile imported under the chart\'s default names');
await show(['get', 'nodes', '-o', 'wide']);
console.log(`images: ${images.operator.ref}, ${images.package.ref}`);

step('cert-manager stand-in: its CRDs (its controller cannot be built here; the demo signs the webhook certificate itself)');
await installCertManagerCRDs(cluster);

step(`helm install -n ${NAMESPACE} --create-namespace trust-manager charts/trust-manager (Pod Security "restricted" enforced)`);
await apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NAMESPACE, labels: { 'pod-security.kubernetes.io/enforce': 'restricted' } } });
const installed = await cluster.helm(['install', '-n', NAMESPACE, '--create-namespace', 'trust-manager', CHART_DIR]);
console.log(installed.stdout.trimEnd());
await issueCertificatesAndInjectCA(cluster, NAMESPACE);
console.log('Certificate trust-manager issued into Secret trust-manager-tls; CA injected into the ValidatingWebhookConfiguration');
await rolledOut(cluster, CONTROLLER);
await rolledOut(cluster, WEBHOOK);
await show(['get', 'pods', '-n', NAMESPACE, '-o', 'wide']);

step('the quick-start: a private CA in the trust namespace and a Bundle of the default CAs plus that CA');
const privateCA = await makeCA({ cn: 'demo-private-ca', extraName: 'O=Example Corp' });
await apply({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'my-private-ca', namespace: NAMESPACE }, stringData: { 'ca.crt': privateCA.pem } });
for (const ns of ['team-a', 'team-b']) await apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns, labels: { 'trust-bundle': 'enabled' } } });
await apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'unlabelled' } });
const bundle = {
  apiVersion: 'trust.cert-manager.io/v1alpha1',
  kind: 'Bundle',
  metadata: { name: 'trust-manager-bundle' },
  spec: {
    sources: [{ useDefaultCAs: true }, { secret: { name: 'my-private-ca', key: 'ca.crt' } }],
    target: { configMap: { key: 'trust-bundle.pem' }, additionalFormats: { jks: { key: 'trust-bundle.jks' } }, namespaceSelector: { matchLabels: { 'trust-bundle': 'enabled' } } },
  },
};
console.log((await apply(bundle)).stdout.trimEnd());
await waitFor('the Bundle to be synced', async () => {
  const r = await cluster.kubectl(['get', 'bundle', 'trust-manager-bundle', '-o', 'jsonpath={.status.conditions[?(@.type=="Synced")].status}']);
  return r.stdout === 'True' ? true : undefined;
});
await show(['get', 'bundles']);
await show(['get', 'configmaps', '-A', '-l', 'trust.cert-manager.io/bundle=trust-manager-bundle']);
await show(['get', 'bundle', 'trust-manager-bundle', '-o', 'jsonpath={.status}']);

step('a malformed Bundle is rejected at kubectl apply (by the webhook pods, through the Service)');
const bad = await apply({ ...bundle, metadata: { name: 'broken' }, spec: { sources: [{ configMap: { name: 'x', key: 'ca.crt', includeAllKeys: true } }], target: { configMap: { key: 'ca.crt' } } } }, true);
console.log(bad.stderr.trimEnd());

step('a source outside the allowed namespaces is rejected');
const outside = await apply({ ...bundle, metadata: { name: 'outside' }, spec: { sources: [{ secret: { name: 'x', key: 'ca.crt', namespace: 'kube-system' } }] } }, true);
console.log(outside.stderr.trimEnd());

step('a new labelled namespace gets its target');
await apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team-c', labels: { 'trust-bundle': 'enabled' } } });
await waitFor('team-c target', async () => ((await cluster.kubectl(['get', 'configmap', '-n', 'team-c', 'trust-manager-bundle'], { allowFail: true })).code === 0 ? true : undefined));
await show(['get', 'configmaps', '-A', '-l', 'trust.cert-manager.io/bundle=trust-manager-bundle']);

const before = (await cluster.kubectl(['get', 'bundle', 'trust-manager-bundle', '-o', 'jsonpath={.status.defaultCAVersion}'])).stdout;
const newTag = imageTag(images.packageNext.ref);
step(`helm upgrade --reuse-values --set defaultPackageImage.tag=${newTag}: a new CA package image`);
console.log((await cluster.helm(['upgrade', '-n', NAMESPACE, 'trust-manager', CHART_DIR, '--reuse-values', '--set', `defaultPackageImage.tag=${newTag}`])).stdout.split('\n').slice(0, 6).join('\n'));
console.log('the controller pod rolls (its init container image changed); the init container copies the new package');
await rolledOut(cluster, CONTROLLER);
await waitFor('the new defaultCAVersion', async () => {
  const r = await cluster.kubectl(['get', 'bundle', 'trust-manager-bundle', '-o', 'jsonpath={.status.defaultCAVersion}']);
  return r.stdout !== before ? true : undefined;
});
await show(['get', 'pods', '-n', NAMESPACE]);
await show(['get', 'bundle', 'trust-manager-bundle', '-o', 'jsonpath={.status.defaultCAVersion} {.status.certificateCount}{"\\n"}']);
await show(['logs', '-n', NAMESPACE, `deployment/${CONTROLLER}`, '--tail=3']);

console.log(`\n${bold('Running.')} kubectl against it from another shell:\n  ${kubectlHint(cluster.kubeconfigPath, cluster.binDir)} get pods -A\nCtrl-C stops everything.`);
if (process.argv.includes('--exit')) process.exit(0);
for (;;) await sleep(1 << 30);
