// The admin's three journeys, end to end against the real API server: helm install of the chart
// into cert-manager (cert-manager, helmCert and approver-policy modes), kubectl apply of Bundles
// accepted or rejected by the webhook, and helm upgrade of defaultPackageImage.tag picked up by
// every Bundle using useDefaultCAs. The controller and webhook run as local processes with the exact
// arguments of the rendered Deployments, as the chart's ServiceAccount, so the chart's RBAC is tested.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { V1Deployment } from '@kubernetes/client-node';
import { useCluster, waitFor, type TestCluster } from '../cluster/harness.ts';
import { scratchDir } from '../cluster/scratch.ts';
import { installCertManagerCRDs, issueCertificatesAndInjectCA } from './support/cert-manager.ts';
import { CHART_DIR, releaseManifests, findObject, startReleaseProcesses, serviceAccountKubeconfig, writePackage, type RunningProcesses } from './support/trust-manager.ts';
import { makeCA } from '@trust-manager/shared/certs/testing/fixtures.ts';
import {
  RELEASE, RELEASE_NAMESPACE, SOURCES_NAMESPACE, bundle, acceptsGoodAndRejectsBad, certificateCount,
  kubectlApply as journeyApply, readBundle as readJourneyBundle, configMapData as journeyConfigMap,
} from './support/journeys.ts';
import { packageStringID, type DefaultPackage } from '@trust-manager/controller/package/package.ts';
import { CRD_NAME } from '@trust-manager/shared/api/constants.ts';

const NAMESPACE = RELEASE_NAMESPACE;
const DEBIAN_BUNDLE = readFileSync('/etc/ssl/certs/ca-certificates.crt', 'utf8');

let cluster: TestCluster;
/** The package images' content and the RBAC check's kubeconfig. */
const scratch = scratchDir('tm-chart-');
before(async () => {
  cluster = await useCluster();
  await installCertManagerCRDs(cluster);
  // The test run installed the Bundle CRD before this file; mark it for adoption by the release, as an
  // admin would for an existing CRD (the chart keeps it on uninstall, with the same marks).
  await cluster.kubectl(['annotate', '--overwrite', 'crd', CRD_NAME, `meta.helm.sh/release-name=${RELEASE}`, `meta.helm.sh/release-namespace=${NAMESPACE}`]);
  await cluster.kubectl(['label', '--overwrite', 'crd', CRD_NAME, 'app.kubernetes.io/managed-by=Helm']);
});

const kubectlApply = (manifest: object, opts?: { allowFail?: boolean; kubeconfig?: string }) => journeyApply(cluster, manifest, opts);
const readBundle = (name: string) => readJourneyBundle(cluster, name);
const configMapData = (namespace: string, name: string) => journeyConfigMap(cluster, namespace, name);

interface Install {
  processes: RunningProcesses;
  /** The package image's content (/debian-package). */
  packageImageDir: string;
}

async function install(mode: 'cert-manager' | 'helmCert' | 'approverPolicy', pkg: DefaultPackage): Promise<Install> {
  const set = [`app.trust.additionalSourceNamespaces={${SOURCES_NAMESPACE}}`];
  if (mode === 'helmCert') set.push('app.webhook.tls.helmCert.enabled=true');
  if (mode === 'approverPolicy') set.push('app.webhook.tls.approverPolicy.enabled=true');
  await cluster.kubectl(['create', 'namespace', SOURCES_NAMESPACE], { allowFail: true });
  await cluster.helm(['install', '-n', NAMESPACE, '--create-namespace', RELEASE, CHART_DIR, ...set.flatMap((s) => ['--set', s])]);
  if (mode !== 'helmCert') await issueCertificatesAndInjectCA(cluster, NAMESPACE);
  const packageImageDir = writePackage(mkdtempSync(join(scratch, 'package-image-')), pkg);
  const processes = await startReleaseProcesses(cluster, { release: RELEASE, namespace: NAMESPACE, packageImageDir });
  return { processes, packageImageDir };
}

async function uninstall(installed: Install | undefined): Promise<void> {
  await installed?.processes.stop();
  await cluster.helm(['uninstall', '-n', NAMESPACE, RELEASE], { allowFail: true });
  // crds.keep leaves the CRD (and with it the Bundles): remove the Bundles so the next mode starts clean.
  await cluster.kubectl(['delete', 'bundles', '--all'], { allowFail: true });
  // The serving Secret was written by the stand-in cert-manager, not by Helm.
  await cluster.kubectl(['delete', 'secret', '-n', NAMESPACE, 'trust-manager-tls', '--ignore-not-found']);
}

async function rbacIsLeastPrivilege(): Promise<void> {
  const dir = mkdtempSync(join(scratch, 'rbac-'));
  const kubeconfig = await serviceAccountKubeconfig(cluster, NAMESPACE, 'trust-manager', dir);
  const canI = async (...args: string[]) => (await cluster.kubectl(['auth', 'can-i', ...args, '--kubeconfig', kubeconfig], { allowFail: true })).stdout.trim();
  assert.equal(await canI('get', 'secrets', '-n', NAMESPACE), 'yes');
  assert.equal(await canI('list', 'secrets', '-n', SOURCES_NAMESPACE), 'yes');
  assert.equal(await canI('get', 'secrets', '-n', 'default'), 'no');
  assert.equal(await canI('list', 'secrets', '--all-namespaces'), 'no');
  const read = await cluster.kubectl(['get', 'secrets', '-n', 'kube-system', '--kubeconfig', kubeconfig], { allowFail: true });
  assert.notEqual(read.code, 0);
  assert.match(read.stderr, /Forbidden/);
}

for (const mode of ['cert-manager', 'helmCert', 'approverPolicy'] as const) {
  describe(`helm install (${mode} mode) and kubectl apply`, () => {
    let installed: Install | undefined;
    const pkg: DefaultPackage = { name: 'cert-manager-debian-test', version: '20250419.1', bundle: DEBIAN_BUNDLE };
    before(async () => {
      installed = await install(mode, pkg);
    });
    after(() => uninstall(installed));

    test('bad Bundles are rejected, good ones synced to the selected namespaces', () => acceptsGoodAndRejectsBad(cluster, mode.toLowerCase()));
    test('the ServiceAccount reads secrets only in the source namespaces', rbacIsLeastPrivilege);
    if (mode === 'approverPolicy') {
      test('cert-manager may use the CertificateRequestPolicy for the webhook certificate', async () => {
        const policy = JSON.parse((await cluster.kubectl(['get', 'certificaterequestpolicy', 'trust-manager-policy', '-o', 'json'])).stdout) as { spec: { selector: { issuerRef: { name: string } } } };
        assert.equal(policy.spec.selector.issuerRef.name, 'trust-manager');
        const canUse = await cluster.kubectl(['auth', 'can-i', 'use', 'certificaterequestpolicies.policy.cert-manager.io/trust-manager-policy', '--as=system:serviceaccount:cert-manager:cert-manager'], { allowFail: true });
        assert.equal(canUse.stdout.trim(), 'yes');
      });
    }
    if (mode === 'helmCert') {
      test('the webhook configuration carries the CA of the Helm-generated certificate', async () => {
        const caBundle = (await cluster.kubectl(['get', 'validatingwebhookconfiguration', 'trust-manager', '-o', 'jsonpath={.webhooks[0].clientConfig.caBundle}'])).stdout;
        const secretCA = (await cluster.kubectl(['get', 'secret', '-n', NAMESPACE, 'trust-manager-tls', '-o', 'jsonpath={.data.ca\\.crt}'])).stdout;
        assert.ok(caBundle.length > 0);
        assert.equal(Buffer.from(caBundle, 'base64').toString().trim(), Buffer.from(secretCA, 'base64').toString().trim());
      });
    }
  });
}

describe('helm upgrade of defaultPackageImage.tag', () => {
  let installed: Install | undefined;
  const oldPkg: DefaultPackage = { name: 'cert-manager-debian-test', version: '20250419.1', bundle: DEBIAN_BUNDLE };
  before(async () => {
    installed = await install('cert-manager', oldPkg);
  });
  after(() => uninstall(installed));

  test('changes only the package image; the restarted controller moves every useDefaultCAs Bundle, and no other', async () => {
    const target = await cluster.newNamespace('upgrade');
    const privateCA = await makeCA({ cn: 'upgrade-private' });
    await kubectlApply(bundle('with-defaults', { sources: [{ useDefaultCAs: true }, { inLine: privateCA.pem }], target: { configMap: { key: 'ca.pem' } } }));
    await kubectlApply(bundle('without-defaults', { sources: [{ inLine: privateCA.pem }], target: { configMap: { key: 'ca.pem' } } }));
    await waitFor('defaultCAVersion of the old package', async () => ((await readBundle('with-defaults')).status?.defaultCAVersion === packageStringID(oldPkg) ? true : undefined));
    const before = { with: await waitFor('target', () => configMapData(target, 'with-defaults')), without: await waitFor('target', () => configMapData(target, 'without-defaults')) };
    assert.equal((await readBundle('without-defaults')).status?.defaultCAVersion, undefined);

    const renderedBefore = findObject<V1Deployment>(await releaseManifests(cluster, RELEASE, NAMESPACE), 'Deployment', 'trust-manager');
    await cluster.helm(['upgrade', '-n', NAMESPACE, RELEASE, CHART_DIR, '--reuse-values', '--set', 'defaultPackageImage.tag=20250419.2']);
    const renderedAfter = findObject<V1Deployment>(await releaseManifests(cluster, RELEASE, NAMESPACE), 'Deployment', 'trust-manager');
    const initImage = (d: V1Deployment) => d.spec!.template.spec!.initContainers![0]!.image!;
    assert.match(initImage(renderedAfter), /trust-pkg-debian-trixie:20250419\.2$/);
    assert.notEqual(initImage(renderedBefore), initImage(renderedAfter));
    // Everything but the package image is unchanged: the pod template changes only there, so a real
    // cluster rolls the controller and nothing else.
    renderedAfter.spec!.template.spec!.initContainers![0]!.image = initImage(renderedBefore);
    assert.deepEqual(renderedAfter, renderedBefore);

    // The new package image brings a new package (here: one certificate fewer); the pod restarts and
    // its init container copies the new package.
    const certs = DEBIAN_BUNDLE.split(/(?=-----BEGIN CERTIFICATE-----)/);
    const newPkg: DefaultPackage = { name: oldPkg.name, version: '20250419.2', bundle: certs.slice(1).join('') };
    await installed!.processes.stop();
    const newImage = writePackage(mkdtempSync(join(scratch, 'package-image-')), newPkg);
    installed!.processes = await startReleaseProcesses(cluster, { release: RELEASE, namespace: NAMESPACE, packageImageDir: newImage });

    await waitFor('defaultCAVersion of the new package', async () => ((await readBundle('with-defaults')).status?.defaultCAVersion === packageStringID(newPkg) ? true : undefined));
    const moved = await waitFor('the useDefaultCAs target to change', async () => {
      const now = await configMapData(target, 'with-defaults');
      return now && now.data['ca.pem'] !== before.with.data['ca.pem'] ? now : undefined;
    });
    assert.equal(certificateCount(moved.data['ca.pem']), certificateCount(before.with.data['ca.pem']) - 1);
    const untouched = await configMapData(target, 'without-defaults');
    assert.equal(untouched?.resourceVersion, before.without.resourceVersion);
    assert.equal((await readBundle('without-defaults')).status?.defaultCAVersion, undefined);
  });
});
