// The local control plane is real: CRDs are served, server-side apply tracks field managers,
// kube-controller-manager garbage-collects dependents and finishes namespace deletion, and a
// ValidatingWebhookConfiguration naming a Service reaches a local HTTPS server through an EndpointSlice.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:https';
import { CoreV1Api, KubernetesObjectApi, PatchStrategy, type V1ConfigMap } from '@kubernetes/client-node';
import { useCluster, uniqueName, waitFor, type TestCluster } from '../cluster/harness.ts';
import { applyObject } from '../cluster/crd.ts';
import { createCA, issueCertificate } from '../cluster/pki.ts';
import { freePort } from '../cluster/control-plane.ts';

let cluster: TestCluster;
before(async () => {
  cluster = await useCluster();
});

async function exists(core: CoreV1Api, namespace: string, name: string): Promise<boolean> {
  try {
    await core.readNamespacedConfigMap({ namespace, name });
    return true;
  } catch (err) {
    if ((err as { code?: number }).code === 404) return false;
    throw err;
  }
}

test('a CRD can be installed and its resources served', async () => {
  const group = 'widgets.test.trust-manager.io';
  await applyObject(cluster.kubeConfig, {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `widgets.${group}` },
    spec: {
      group,
      scope: 'Namespaced',
      names: { plural: 'widgets', singular: 'widget', kind: 'Widget', listKind: 'WidgetList' },
      versions: [{
        name: 'v1', served: true, storage: true,
        schema: { openAPIV3Schema: { type: 'object', properties: { spec: { type: 'object', properties: { size: { type: 'integer', minimum: 1 } } } } } },
      }],
    },
  } as never);
  const ns = await cluster.newNamespace('crd');
  await waitFor('the Widget kind to be served', async () => {
    const r = await cluster.kubectl(['get', 'widgets', '-n', ns], { allowFail: true });
    return r.code === 0 ? true : undefined;
  });
  await cluster.kubectl(['apply', '-n', ns, '-f', '-'], { input: JSON.stringify({ apiVersion: `${group}/v1`, kind: 'Widget', metadata: { name: 'w' }, spec: { size: 3 } }) });
  const got = JSON.parse((await cluster.kubectl(['get', 'widget', 'w', '-n', ns, '-o', 'json'])).stdout) as { spec: { size: number } };
  assert.equal(got.spec.size, 3);
  const bad = await cluster.kubectl(['apply', '-n', ns, '-f', '-'], { allowFail: true, input: JSON.stringify({ apiVersion: `${group}/v1`, kind: 'Widget', metadata: { name: 'bad' }, spec: { size: 0 } }) });
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /spec\.size: Invalid value: 0: spec\.size in body should be greater than or equal to 1/);
});

test('the Bundle CRD is installed and served with its CEL rules', async () => {
  const r = await cluster.kubectl(['get', 'bundles.trust.cert-manager.io']);
  assert.equal(r.code, 0);
  const twoTypes = { apiVersion: 'trust.cert-manager.io/v1alpha1', kind: 'Bundle', metadata: { name: uniqueName('cel') }, spec: { sources: [{ inLine: 'x', useDefaultCAs: true }] } };
  const rejected = await cluster.kubectl(['create', '--dry-run=server', '-f', '-'], { allowFail: true, input: JSON.stringify(twoTypes) });
  assert.notEqual(rejected.code, 0);
  assert.match(rejected.stderr, /exactly one of the fields in \[configMap secret inLine useDefaultCAs\] must be set/);
});

test('server-side apply records the field manager and resolves conflicts only with force', async () => {
  const ns = await cluster.newNamespace('ssa');
  const objects = KubernetesObjectApi.makeApiClient(cluster.kubeConfig);
  const cm = (value: string) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'shared', namespace: ns }, data: { key: value } });
  const first = (await objects.patch(cm('a'), undefined, undefined, 'manager-a', false, PatchStrategy.ServerSideApply)) as V1ConfigMap;
  assert.deepEqual(first.metadata?.managedFields?.map((f) => [f.manager, f.operation]), [['manager-a', 'Apply']]);
  await assert.rejects(
    objects.patch(cm('b'), undefined, undefined, 'manager-b', false, PatchStrategy.ServerSideApply),
    (err: { code?: number }) => err.code === 409,
  );
  const forced = (await objects.patch(cm('b'), undefined, undefined, 'manager-b', true, PatchStrategy.ServerSideApply)) as V1ConfigMap;
  assert.equal(forced.data?.key, 'b');
  assert.deepEqual(forced.metadata?.managedFields?.map((f) => f.manager), ['manager-b']);
});

test('deleting an owner garbage-collects its dependents (kube-controller-manager)', async () => {
  const ns = await cluster.newNamespace('gc');
  const core = cluster.kubeConfig.makeApiClient(CoreV1Api);
  const owner = await core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'owner' } } });
  await core.createNamespacedConfigMap({
    namespace: ns,
    body: { metadata: { name: 'dependent', ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'owner', uid: owner.metadata!.uid!, controller: true, blockOwnerDeletion: true }] } },
  });
  await core.deleteNamespacedConfigMap({ namespace: ns, name: 'owner' });
  await waitFor('the dependent to be garbage-collected', async () => ((await exists(core, ns, 'dependent')) ? undefined : true));
});

test('deleting a namespace completes (kube-controller-manager)', async () => {
  const ns = await cluster.newNamespace('del');
  const core = cluster.kubeConfig.makeApiClient(CoreV1Api);
  await core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'content' } } });
  await core.deleteNamespace({ name: ns });
  await waitFor('the namespace to be gone', async () => {
    try {
      await core.readNamespace({ name: ns });
      return undefined;
    } catch (err) {
      return (err as { code?: number }).code === 404 ? true : undefined;
    }
  });
});

test('a ValidatingWebhookConfiguration with a Service reference reaches a local HTTPS server and can deny', async (t) => {
  const ns = await cluster.newNamespace('hook', { 'tm-test-webhook': 'on' });
  const service = 'deny-webhook';
  const address = cluster.localAddress;
  const ca = await createCA('webhook-test-ca');
  const serving = await issueCertificate(ca, { commonName: `${service}.${ns}.svc`, usage: 'server', dnsNames: [`${service}.${ns}.svc`], ipAddresses: ['127.0.0.1'] });
  const port = await freePort(address ?? '127.0.0.1');
  let calls = 0;
  const server: Server = createServer({ cert: serving.certPem, key: serving.keyPem }, (req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      calls++;
      const review = JSON.parse(body) as { request: { uid: string; object: V1ConfigMap } };
      const deny = review.request.object.metadata?.labels?.deny === 'yes';
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({
        apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview',
        response: { uid: review.request.uid, allowed: !deny, status: deny ? { code: 403, reason: 'Forbidden', message: 'labelled deny=yes' } : { code: 200 } },
      }));
    });
  });
  await new Promise<void>((resolve) => server.listen(port, address ?? '127.0.0.1', resolve));
  t.after(() => server.close());

  const hookName = uniqueName('deny');
  const clientConfig = address
    ? { service: { name: service, namespace: ns, path: '/validate', port: 443 }, caBundle: Buffer.from(ca.certPem).toString('base64') }
    : { url: `https://127.0.0.1:${port}/validate`, caBundle: Buffer.from(ca.certPem).toString('base64') };
  if (address) {
    await applyObject(cluster.kubeConfig, { apiVersion: 'v1', kind: 'Service', metadata: { name: service, namespace: ns }, spec: { ports: [{ name: 'webhook', port: 443, targetPort: port }] } } as never);
    await applyObject(cluster.kubeConfig, {
      apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice',
      metadata: { name: `${service}-local`, namespace: ns, labels: { 'kubernetes.io/service-name': service, 'endpointslice.kubernetes.io/managed-by': 'tests.trust-manager.io' } },
      addressType: 'IPv4',
      ports: [{ name: 'webhook', port, protocol: 'TCP' }],
      endpoints: [{ addresses: [address], conditions: { ready: true } }],
    } as never);
  }
  await applyObject(cluster.kubeConfig, {
    apiVersion: 'admissionregistration.k8s.io/v1', kind: 'ValidatingWebhookConfiguration',
    metadata: { name: hookName },
    webhooks: [{
      name: 'deny.tests.trust-manager.io', admissionReviewVersions: ['v1'], sideEffects: 'None', failurePolicy: 'Fail', timeoutSeconds: 5,
      namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': ns } },
      rules: [{ apiGroups: [''], apiVersions: ['v1'], operations: ['CREATE'], resources: ['configmaps'] }],
      clientConfig,
    }],
  } as never);
  t.after(async () => {
    await cluster.kubectl(['delete', 'validatingwebhookconfiguration', hookName, '--ignore-not-found']);
  });

  // The API server's informers need a moment to see the EndpointSlice: poll until the webhook answers.
  await waitFor('the webhook to answer', async () => {
    const r = await cluster.kubectl(['create', 'configmap', uniqueName('probe'), '-n', ns, '--dry-run=server'], { allowFail: true });
    return r.code === 0 ? true : undefined;
  });
  const denied = await cluster.kubectl(['apply', '-n', ns, '-f', '-'], { allowFail: true, input: JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'denied', labels: { deny: 'yes' } } }) });
  assert.notEqual(denied.code, 0);
  assert.match(denied.stderr, /admission webhook "deny\.tests\.trust-manager\.io" denied the request: labelled deny=yes/);
  const allowed = await cluster.kubectl(['apply', '-n', ns, '-f', '-'], { input: JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'allowed' } }) });
  assert.equal(allowed.code, 0);
  assert.ok(calls >= 2, `webhook was called ${calls} times`);
});
