// A webhook running on this machine, registered with the test cluster's API server: its serving
// certificate, a Service + EndpointSlice that route to it (or a url on 127.0.0.1 without a private
// network namespace), and a ValidatingWebhookConfiguration that sends it only Bundles carrying one
// label, so the other tests sharing the cluster are unaffected.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { KubernetesObject } from '@kubernetes/client-node';
import { WEBHOOK_NAME, WEBHOOK_PATH } from '@trust-manager/shared/api/constants.ts';
import { applyObject } from '../../cluster/crd.ts';
import { freePort } from '../../cluster/control-plane.ts';
import { uniqueName, type TestCluster } from '../../cluster/harness.ts';
import { createCA, issueCertificate } from '../../cluster/pki.ts';
import { routeServiceToLocal } from './trust-manager.ts';

export interface ServingEndpoint {
  /** Where the webhook must listen. */
  host: string;
  port: number;
  /** CA of the serving certificate (tls.crt / tls.key written to the directory given). */
  caPem: string;
  /** A leaf certificate issued by that CA (not a CA itself), for tests that need one. */
  leafPem: string;
}

/** Serving certificate for `<service>.<namespace>.svc` and 127.0.0.1, written to `dir`, and a free port. */
export async function prepareServingEndpoint(cluster: TestCluster, service: string, namespace: string, dir: string): Promise<ServingEndpoint> {
  const ca = await createCA(`${service}-ca`);
  const serving = await issueCertificate(ca, {
    commonName: `${service}.${namespace}.svc`,
    dnsNames: [`${service}.${namespace}.svc`],
    ipAddresses: ['127.0.0.1'],
    usage: 'server',
  });
  writeFileSync(join(dir, 'tls.crt'), serving.certPem);
  writeFileSync(join(dir, 'tls.key'), serving.keyPem, { mode: 0o600 });
  const leafPem = (await issueCertificate(ca, { commonName: `${service}-leaf`, usage: 'server' })).certPem;
  const host = cluster.localAddress ?? '127.0.0.1';
  return { host, port: await freePort(host), caPem: ca.certPem, leafPem };
}

export interface WebhookRegistration {
  service: string;
  namespace: string;
  endpoint: ServingEndpoint;
  /** Only Bundles with these labels are sent to the webhook. */
  selectorLabel: Record<string, string>;
}

/**
 * Registers the webhook and returns the ValidatingWebhookConfiguration's name once the API server
 * consults it (it picks up a new configuration asynchronously). Delete that name when done.
 */
export async function registerLocalWebhook(cluster: TestCluster, registration: WebhookRegistration): Promise<string> {
  const { service, namespace, endpoint, selectorLabel } = registration;
  let clientConfig: Record<string, unknown>;
  if (cluster.localAddress) {
    await applyObject(cluster.kubeConfig, {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: service, namespace },
      spec: { ports: [{ name: 'webhook', port: 443, targetPort: endpoint.port, protocol: 'TCP' }] },
    } as KubernetesObject);
    await routeServiceToLocal(cluster, namespace, service, 'webhook', endpoint.port);
    clientConfig = { service: { name: service, namespace, path: WEBHOOK_PATH, port: 443 } };
  } else {
    console.warn('[local webhook] no private network namespace: using clientConfig.url on 127.0.0.1');
    clientConfig = { url: `https://127.0.0.1:${endpoint.port}${WEBHOOK_PATH}` };
  }
  const configurationName = uniqueName(service);
  await applyObject(cluster.kubeConfig, {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'ValidatingWebhookConfiguration',
    metadata: { name: configurationName },
    webhooks: [
      {
        name: WEBHOOK_NAME,
        admissionReviewVersions: ['v1'],
        sideEffects: 'None',
        failurePolicy: 'Fail',
        timeoutSeconds: 5,
        objectSelector: { matchLabels: selectorLabel },
        rules: [{ apiGroups: ['trust.cert-manager.io'], apiVersions: ['v1alpha1'], operations: ['CREATE', 'UPDATE'], resources: ['bundles'] }],
        clientConfig: { ...clientConfig, caBundle: Buffer.from(endpoint.caPem).toString('base64') },
      },
    ],
  } as KubernetesObject);

  // A Bundle only the webhook denies (no real source) tells when the API server consults it.
  const probe = {
    apiVersion: 'trust.cert-manager.io/v1alpha1',
    kind: 'Bundle',
    metadata: { name: uniqueName('probe'), labels: selectorLabel },
    spec: { sources: [{ useDefaultCAs: false }] },
  };
  for (let i = 0; ; i++) {
    const result = await cluster.kubectl(['apply', '-f', '-'], { input: JSON.stringify(probe), allowFail: true });
    if (result.code !== 0 && result.stderr.includes(`admission webhook "${WEBHOOK_NAME}"`)) return configurationName;
    if (result.code === 0) await cluster.kubectl(['delete', 'bundle', probe.metadata.name, '--wait=false'], { allowFail: true });
    if (i > 200) throw new Error(`webhook never consulted: ${result.stderr}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}
