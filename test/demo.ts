// The demo's steps (run by scripts/demo.sh inside the local control plane): helm install, the
// stand-in cert-manager, controller and webhook started from the rendered Deployments, the quick-start
// Bundles, a rejected Bundle, the resulting targets, and a helm upgrade of the package image.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { useCluster, waitFor, kubectlHint, runCommand } from './cluster/harness.ts';
import { installCertManagerCRDs, issueCertificatesAndInjectCA } from './e2e/support/cert-manager.ts';
import { CHART_DIR, PACKAGE_FILE, REPO_ROOT, startReleaseProcesses, writePackage } from './e2e/support/trust-manager.ts';
import type { DefaultPackage } from '@trust-manager/controller/package/package.ts';
import { makeCA } from '@trust-manager/shared/certs/testing/fixtures.ts';

const NAMESPACE = 'cert-manager';
const bold = (s: string) => (process.stdout.isTTY ? `\x1b[1m${s}\x1b[0m` : s);
const step = (s: string) => console.log(`\n${bold(`==> ${s}`)}`);

const cluster = await useCluster();
const show = async (args: string[]) => {
  const r = await cluster.kubectl(args, { allowFail: true });
  console.log(`$ kubectl ${args.join(' ')}\n${(r.stdout + r.stderr).trimEnd()}`);
  return r;
};
const apply = (manifest: object, allowFail = false) => cluster.kubectl(['apply', '-f', '-'], { input: JSON.stringify(manifest), allowFail });

step('cert-manager stand-in: its CRDs (its controller cannot be built here; the demo signs the webhook certificate itself)');
await installCertManagerCRDs(cluster);

step(`helm install -n ${NAMESPACE} --create-namespace trust-manager charts/trust-manager`);
const installed = await cluster.helm(['install', '-n', NAMESPACE, '--create-namespace', 'trust-manager', CHART_DIR]);
console.log(installed.stdout.trimEnd());
await issueCertificatesAndInjectCA(cluster, NAMESPACE);
console.log('Certificate trust-manager issued into Secret trust-manager-tls; CA injected into the ValidatingWebhookConfiguration');

step('the default CA package, made as the package image build makes it (images/package/make-package.ts)');
const packageImageDir = mkdtempSync(join(tmpdir(), 'tm-demo-package-image-'));
const made = await runCommand(process.execPath, [join(REPO_ROOT, 'images/package/make-package.ts'), '--out', join(packageImageDir, PACKAGE_FILE)]);
console.log(made.stdout.trim() || made.stderr.trim());
const madePackage = JSON.parse(readFileSync(join(packageImageDir, PACKAGE_FILE), 'utf8')) as DefaultPackage;
console.log(`${madePackage.name} ${madePackage.version}: ${madePackage.bundle.match(/BEGIN CERTIFICATE/g)?.length ?? 0} certificates from this machine's ca-certificates`);

step('controller and webhook, started with the arguments of the rendered Deployments, as the chart\'s ServiceAccount');
let processes = await startReleaseProcesses(cluster, { release: 'trust-manager', namespace: NAMESPACE, packageImageDir });
console.log(`controller log: ${processes.controller.logPath}\nwebhook log:    ${processes.webhook.logPath}`);

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

step('a malformed Bundle is rejected at kubectl apply');
const bad = await apply({ ...bundle, metadata: { name: 'broken' }, spec: { sources: [{ configMap: { name: 'x', key: 'ca.crt', includeAllKeys: true } }], target: { configMap: { key: 'ca.crt' } } } }, true);
console.log(bad.stderr.trimEnd());

step('a source outside the allowed namespaces is rejected');
const outside = await apply({ ...bundle, metadata: { name: 'outside' }, spec: { sources: [{ secret: { name: 'x', key: 'ca.crt', namespace: 'kube-system' } }] } }, true);
console.log(outside.stderr.trimEnd());

step('a new labelled namespace gets its target');
await apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team-c', labels: { 'trust-bundle': 'enabled' } } });
await waitFor('team-c target', async () => ((await cluster.kubectl(['get', 'configmap', '-n', 'team-c', 'trust-manager-bundle'], { allowFail: true })).code === 0 ? true : undefined));
await show(['get', 'configmaps', '-A', '-l', 'trust.cert-manager.io/bundle=trust-manager-bundle']);

// The package image's tag is the package version with "+" and "~" made "-" (images/package/make-package.ts).
const newTag = `${madePackage.version}-demo`.replace(/[+~]/g, '-');
step(`helm upgrade --reuse-values --set defaultPackageImage.tag=${newTag}: a new CA package (one certificate fewer)`);
console.log((await cluster.helm(['upgrade', '-n', NAMESPACE, 'trust-manager', CHART_DIR, '--reuse-values', '--set', `defaultPackageImage.tag=${newTag}`])).stdout.split('\n').slice(0, 6).join('\n'));
await processes.stop();
const newImage = writePackage(mkdtempSync(join(tmpdir(), 'tm-demo-package-image-')), {
  ...madePackage,
  version: `${madePackage.version}-demo`,
  bundle: madePackage.bundle.split(/(?=-----BEGIN CERTIFICATE-----)/).slice(1).join(''),
});
console.log('the controller pod rolls (its init container image changed); the init container copies the new package');
processes = await startReleaseProcesses(cluster, { release: 'trust-manager', namespace: NAMESPACE, packageImageDir: newImage });
await waitFor('the new defaultCAVersion', async () => {
  const r = await cluster.kubectl(['get', 'bundle', 'trust-manager-bundle', '-o', 'jsonpath={.status.defaultCAVersion}']);
  return r.stdout.includes(`-${madePackage.version}-demo-`) ? true : undefined;
});
await show(['get', 'bundle', 'trust-manager-bundle', '-o', 'jsonpath={.status.defaultCAVersion} {.status.certificateCount}{"\\n"}']);

console.log(`\n${bold('Running.')} kubectl against it from another shell:\n  ${kubectlHint(cluster.kubeconfigPath, cluster.binDir)} get bundles\nCtrl-C stops everything.`);
if (process.argv.includes('--exit')) {
  await processes.stop();
  process.exit(0);
}
for (;;) await sleep(1 << 30);
