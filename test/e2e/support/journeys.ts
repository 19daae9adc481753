// The admin's journeys, shared by the chart tests that run the release as local processes
// (test/e2e/chart.test.ts) and as pods on the test node (test/pods/): kubectl apply of good and bad
// Bundles, and reading back what the controller wrote.
import assert from 'node:assert/strict';
import { CoreV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import { waitFor, type TestCluster } from '../../cluster/harness.ts';
import { makeCA } from '@trust-manager/shared/certs/testing/fixtures.ts';
import { GROUP, VERSION, PLURAL } from '@trust-manager/shared/api/constants.ts';
import type { Bundle } from '@trust-manager/shared/api/types.ts';

export const RELEASE_NAMESPACE = 'cert-manager';
export const RELEASE = 'trust-manager';
/** The extra source namespace the journeys allow (app.trust.additionalSourceNamespaces). */
export const SOURCES_NAMESPACE = 'team-sources';

export function bundle(name: string, spec: Bundle['spec']): Bundle {
  return { apiVersion: `${GROUP}/${VERSION}`, kind: 'Bundle', metadata: { name }, spec };
}

export function kubectlApply(cluster: TestCluster, manifest: object, opts: { allowFail?: boolean; kubeconfig?: string } = {}) {
  const args = ['apply', '-f', '-', ...(opts.kubeconfig ? ['--kubeconfig', opts.kubeconfig] : [])];
  return cluster.kubectl(args, { input: JSON.stringify(manifest), allowFail: opts.allowFail });
}

export async function readBundle(cluster: TestCluster, name: string): Promise<Bundle> {
  const api = cluster.kubeConfig.makeApiClient(CustomObjectsApi);
  return (await api.getClusterCustomObject({ group: GROUP, version: VERSION, plural: PLURAL, name })) as Bundle;
}

export interface TargetData {
  data: Record<string, string>;
  resourceVersion: string;
}

export async function configMapData(cluster: TestCluster, namespace: string, name: string): Promise<TargetData | undefined> {
  const core = cluster.kubeConfig.makeApiClient(CoreV1Api);
  try {
    const cm = await core.readNamespacedConfigMap({ namespace, name });
    return { data: cm.data ?? {}, resourceVersion: cm.metadata!.resourceVersion! };
  } catch (err) {
    if ((err as { code?: number }).code === 404) return undefined;
    throw err;
  }
}

export async function syncedCondition(cluster: TestCluster, name: string) {
  return (await readBundle(cluster, name)).status?.conditions?.find((c) => c.type === 'Synced');
}

export function certificateCount(pem: string | undefined): number {
  return pem?.match(/BEGIN CERTIFICATE/g)?.length ?? 0;
}

/** The journey every install must pass: malformed and disallowed Bundles denied with their messages, a good
 *  one (inline CA + a Secret in the extra source namespace) synced only to the selected namespaces. */
export async function acceptsGoodAndRejectsBad(cluster: TestCluster, suffix: string): Promise<void> {
  const ca = await makeCA({ cn: `journey-${suffix}` });
  const selected = await cluster.newNamespace('selected', { 'trust-demo': 'yes' });
  const unselected = await cluster.newNamespace('unselected');

  // A malformed Bundle: the webhook's upstream message reaches kubectl.
  const bad = await kubectlApply(cluster, bundle(`bad-${suffix}`, { sources: [{ configMap: { name: 'x', key: 'ca.crt', includeAllKeys: true } }], target: { configMap: { key: 'ca.crt' } } }), { allowFail: true });
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /admission webhook "trust\.cert-manager\.io" denied the request: spec\.sources\[0\]\.configMap: Invalid value: "key: ca\.crt, includeAllKeys: true": source configMap key cannot be defined when includeAllKeys is true/);

  // A source in a namespace that is not allowed.
  const disallowed = await kubectlApply(cluster, bundle(`ns-${suffix}`, { sources: [{ configMap: { name: 'x', key: 'ca.crt', namespace: 'kube-system' } }], target: { configMap: { key: 'ca.crt' } } }), { allowFail: true });
  assert.notEqual(disallowed.code, 0);
  assert.match(disallowed.stderr, /denied the request: .*spec\.sources\[0\]\.configMap\.namespace.*kube-system/);

  // A good Bundle: inline CA + a Secret in an allowed extra source namespace, synced only where selected.
  await kubectlApply(cluster, { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'team-ca', namespace: SOURCES_NAMESPACE }, stringData: { 'ca.crt': (await makeCA({ cn: `team-${suffix}` })).pem } });
  const name = `good-${suffix}`;
  const good = await kubectlApply(cluster, bundle(name, {
    sources: [{ inLine: ca.pem }, { secret: { name: 'team-ca', key: 'ca.crt', namespace: SOURCES_NAMESPACE } }],
    target: { configMap: { key: 'trust.pem' }, namespaceSelector: { matchLabels: { 'trust-demo': 'yes' } } },
  }));
  assert.equal(good.code, 0, good.stderr);
  const target = await waitFor(`ConfigMap ${name} in ${selected}`, () => configMapData(cluster, selected, name));
  assert.equal(certificateCount(target.data['trust.pem']), 2);
  assert.equal(await configMapData(cluster, unselected, name), undefined);
  const condition = await waitFor('Synced=True', async () => {
    const c = await syncedCondition(cluster, name);
    return c?.status === 'True' ? c : undefined;
  });
  assert.equal(condition.message, 'Successfully synced Bundle to namespaces that match this label selector: trust-demo=yes');
}
