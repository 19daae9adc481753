// Plays the parts of cert-manager that the chart relies on, since its controller and cainjector cannot
// be built here (docs/test-cluster.md): minimal CRDs so the chart's Issuer, Certificate,
// CertificateRequestPolicy and ServiceMonitor are accepted by the real API server; a signer that issues
// each Certificate into its Secret; and a cainjector that copies the CA into webhook configurations
// annotated with cert-manager.io/inject-ca-from.
import { CustomObjectsApi, AdmissionregistrationV1Api, type KubernetesObject } from '@kubernetes/client-node';
import type { TestCluster } from '../../cluster/harness.ts';
import { applyObject } from '../../cluster/crd.ts';
import { createCA, issueCertificate } from '../../cluster/pki.ts';
import { setTimeout as sleep } from 'node:timers/promises';

interface Kind {
  group: string;
  plural: string;
  kind: string;
  scope: 'Namespaced' | 'Cluster';
  version: string;
}

const KINDS: Kind[] = [
  { group: 'cert-manager.io', plural: 'certificates', kind: 'Certificate', scope: 'Namespaced', version: 'v1' },
  { group: 'cert-manager.io', plural: 'issuers', kind: 'Issuer', scope: 'Namespaced', version: 'v1' },
  { group: 'policy.cert-manager.io', plural: 'certificaterequestpolicies', kind: 'CertificateRequestPolicy', scope: 'Cluster', version: 'v1alpha1' },
  { group: 'monitoring.coreos.com', plural: 'servicemonitors', kind: 'ServiceMonitor', scope: 'Namespaced', version: 'v1' },
];

/** Schemaless stand-ins for the real CRDs: enough for Helm to install the chart's objects. */
export async function installCertManagerCRDs(cluster: TestCluster): Promise<void> {
  for (const k of KINDS) {
    await applyObject(cluster.kubeConfig, {
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      metadata: { name: `${k.plural}.${k.group}` },
      spec: {
        group: k.group,
        scope: k.scope,
        names: { plural: k.plural, singular: k.kind.toLowerCase(), kind: k.kind, listKind: `${k.kind}List` },
        versions: [{ name: k.version, served: true, storage: true, schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } } }],
      },
    } as KubernetesObject);
  }
  for (const k of KINDS) {
    for (let i = 0; ; i++) {
      const r = await cluster.kubectl(['get', `${k.plural}.${k.group}`, '-A'], { allowFail: true });
      if (r.code === 0) break;
      if (i > 200) throw new Error(`CRD ${k.plural}.${k.group} not served: ${r.stderr}`);
      await sleep(100);
    }
  }
}

interface CertificateObject {
  metadata: { name: string; namespace: string };
  spec: { secretName: string; commonName?: string; dnsNames?: string[] };
}

/**
 * Issues every Certificate in the namespace into its Secret (type kubernetes.io/tls with ca.crt, as a
 * CA issuer would) and injects that CA into webhook configurations that ask for it.
 * Returns the PEM of the CA that signed the serving certificates.
 */
export async function issueCertificatesAndInjectCA(cluster: TestCluster, namespace: string): Promise<string> {
  const custom = cluster.kubeConfig.makeApiClient(CustomObjectsApi);
  const list = (await custom.listNamespacedCustomObject({ group: 'cert-manager.io', version: 'v1', namespace, plural: 'certificates' })) as { items: CertificateObject[] };
  if (list.items.length === 0) throw new Error(`no Certificate in namespace ${namespace}`);
  const ca = await createCA(`test-issuer.${namespace}`);
  for (const cert of list.items) {
    const dnsNames = cert.spec.dnsNames ?? [];
    const leaf = await issueCertificate(ca, { commonName: cert.spec.commonName ?? dnsNames[0] ?? cert.metadata.name, dnsNames, usage: 'server' });
    const data = { 'tls.crt': leaf.certPem, 'tls.key': leaf.keyPem, 'ca.crt': ca.certPem };
    await applyObject(cluster.kubeConfig, {
      apiVersion: 'v1', kind: 'Secret', type: 'kubernetes.io/tls',
      metadata: { name: cert.spec.secretName, namespace, annotations: { 'cert-manager.io/certificate-name': cert.metadata.name } },
      stringData: data,
    } as KubernetesObject, 'cert-manager-test-signer');
  }
  await injectCA(cluster, list.items.map((c) => `${namespace}/${c.metadata.name}`), ca.certPem);
  return ca.certPem;
}

async function injectCA(cluster: TestCluster, certificateRefs: string[], caPem: string): Promise<void> {
  const admission = cluster.kubeConfig.makeApiClient(AdmissionregistrationV1Api);
  const configs = await admission.listValidatingWebhookConfiguration();
  for (const config of configs.items) {
    const from = config.metadata?.annotations?.['cert-manager.io/inject-ca-from'];
    if (!from || !certificateRefs.includes(from)) continue;
    const caBundle = Buffer.from(caPem).toString('base64');
    const webhooks = (config.webhooks ?? []).map((w) => ({ name: w.name, admissionReviewVersions: w.admissionReviewVersions, sideEffects: w.sideEffects, clientConfig: { ...w.clientConfig, caBundle } }));
    await applyObject(cluster.kubeConfig, { apiVersion: 'admissionregistration.k8s.io/v1', kind: 'ValidatingWebhookConfiguration', metadata: { name: config.metadata!.name! }, webhooks } as KubernetesObject, 'cert-manager-cainjector-test');
  }
}
