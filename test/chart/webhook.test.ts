// The admission webhook wiring: ValidatingWebhookConfiguration (upstream-compatibility.md 3.5), Service,
// and the three certificate modes (cert-manager Certificate, + approver-policy, Helm-generated).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { WEBHOOK_NAME, WEBHOOK_PATH, GROUP, VERSION, PLURAL } from '@trust-manager/shared/api/constants.ts';
import { all, find, get, render, renderError, type Binding, type Manifest, type Role, type Service } from './helm.ts';

interface WebhookConfig extends Manifest {
  webhooks: {
    name: string;
    rules: { apiGroups: string[]; apiVersions: string[]; operations: string[]; resources: string[] }[];
    admissionReviewVersions: string[];
    timeoutSeconds: number;
    failurePolicy: string;
    sideEffects: string;
    clientConfig: { caBundle?: string; service: { name: string; namespace: string; path: string; port?: number } };
    [field: string]: unknown;
  }[];
}

interface Certificate extends Manifest {
  spec: Record<string, unknown>;
}

const vwc = (objects: Manifest[]) => get<WebhookConfig>(objects, 'ValidatingWebhookConfiguration', 'trust-manager');

describe('ValidatingWebhookConfiguration', () => {
  it('is exactly upstream 3.5 (cert-manager CA injection by default)', async () => {
    const config = vwc(await render());
    assert.equal(config.metadata.namespace, undefined, 'cluster scoped');
    assert.deepEqual(config.metadata.annotations, { 'cert-manager.io/inject-ca-from': 'trust/trust-manager' });
    assert.deepEqual(config.webhooks, [
      {
        name: WEBHOOK_NAME,
        rules: [{ apiGroups: [GROUP], apiVersions: [VERSION], operations: ['CREATE', 'UPDATE'], resources: [PLURAL] }],
        admissionReviewVersions: ['v1'],
        timeoutSeconds: 5,
        failurePolicy: 'Fail',
        sideEffects: 'None',
        clientConfig: { service: { name: 'trust-manager', namespace: 'trust', path: WEBHOOK_PATH } },
      },
    ]);
  });

  it('takes timeoutSeconds from values', async () => {
    assert.equal(vwc(await render({ set: ['app.webhook.timeoutSeconds=12'] })).webhooks[0]?.timeoutSeconds, 12);
  });

  it('keeps commonAnnotations next to the injection annotation', async () => {
    const config = vwc(await render({ values: { commonAnnotations: { team: 'pki' } } }));
    assert.deepEqual(config.metadata.annotations, { 'cert-manager.io/inject-ca-from': 'trust/trust-manager', team: 'pki' });
  });

  it('points at the chart namespace when installed into cert-manager', async () => {
    const objects = await render({ namespace: 'cert-manager', release: 'trust-manager' });
    const config = vwc(objects);
    assert.deepEqual(config.webhooks[0]?.clientConfig.service, { name: 'trust-manager', namespace: 'cert-manager', path: WEBHOOK_PATH });
    assert.equal(config.metadata.annotations?.['cert-manager.io/inject-ca-from'], 'cert-manager/trust-manager');
    assert.deepEqual(get<Certificate>(objects, 'Certificate', 'trust-manager', 'cert-manager').spec.dnsNames, ['trust-manager.cert-manager.svc']);
  });

  it('follows the namespace value', async () => {
    const objects = await render({ set: ['namespace=elsewhere'] });
    assert.equal(vwc(objects).webhooks[0]?.clientConfig.service.namespace, 'elsewhere');
    assert.ok(find(objects, 'Service', 'trust-manager', 'elsewhere'));
    assert.equal(get(objects, 'Deployment', 'trust-manager-webhook').metadata.namespace, 'elsewhere');
  });
});

describe('webhook Service trust-manager', () => {
  it('exposes 443 -> the webhook port of the webhook pods', async () => {
    const svc = get<Service>(await render(), 'Service', 'trust-manager', 'trust');
    assert.equal(svc.spec.type, 'ClusterIP');
    assert.deepEqual(svc.spec.ports, [{ port: 443, targetPort: 6443, protocol: 'TCP', name: 'webhook' }]);
    assert.deepEqual(svc.spec.selector, { app: 'trust-manager-webhook' });
    assert.equal(svc.metadata.labels?.app, 'trust-manager');
  });

  it('takes type, nodePort, dual-stack settings and the port from values', async () => {
    const svc = get<Service>(
      await render({
        values: { app: { webhook: { port: 8443, service: { type: 'NodePort', nodePort: 30443, ipFamilyPolicy: 'PreferDualStack', ipFamilies: ['IPv6', 'IPv4'] } } } },
      }),
      'Service',
      'trust-manager',
    );
    assert.equal(svc.spec.type, 'NodePort');
    assert.equal(svc.spec.ipFamilyPolicy, 'PreferDualStack');
    assert.deepEqual(svc.spec.ipFamilies, ['IPv6', 'IPv4']);
    assert.deepEqual(svc.spec.ports, [{ port: 443, targetPort: 8443, nodePort: 30443, protocol: 'TCP', name: 'webhook' }]);
  });
});

describe('cert-manager certificate (default)', () => {
  it('renders a self-signed Issuer and the Certificate for trust-manager.<ns>.svc', async () => {
    const objects = await render();
    assert.deepEqual(get<Certificate>(objects, 'Issuer', 'trust-manager', 'trust').spec, { selfSigned: {} });
    assert.deepEqual(get<Certificate>(objects, 'Certificate', 'trust-manager', 'trust').spec, {
      commonName: 'trust-manager.trust.svc',
      dnsNames: ['trust-manager.trust.svc'],
      secretName: 'trust-manager-tls',
      revisionHistoryLimit: 1,
      privateKey: { rotationPolicy: 'Always' },
      issuerRef: { name: 'trust-manager', kind: 'Issuer', group: 'cert-manager.io' },
    });
    assert.equal(find(objects, 'Secret', 'trust-manager-tls'), undefined);
    assert.equal(find(objects, 'CertificateRequestPolicy', 'trust-manager-policy'), undefined);
  });

  it('sets duration and secretTemplate', async () => {
    const spec = get<Certificate>(
      await render({ values: { app: { webhook: { tls: { certificate: { duration: '2160h', secretTemplate: { labels: { a: 'b' } } } } } } } }),
      'Certificate',
      'trust-manager',
    ).spec;
    assert.equal(spec.duration, '2160h');
    assert.deepEqual(spec.secretTemplate, { labels: { a: 'b' } });
  });

  it('with approverPolicy: a CertificateRequestPolicy for exactly that name, usable by cert-manager', async () => {
    const objects = await render({
      values: { app: { webhook: { tls: { approverPolicy: { enabled: true, certManagerNamespace: 'cm', certManagerServiceAccount: 'cm-sa' } } } } },
    });
    const policy = get<Certificate>(objects, 'CertificateRequestPolicy', 'trust-manager-policy');
    assert.equal(policy.apiVersion, 'policy.cert-manager.io/v1alpha1');
    assert.deepEqual(policy.spec, {
      allowed: {
        commonName: { value: 'trust-manager.trust.svc', required: true },
        dnsNames: { values: ['trust-manager.trust.svc'], required: true },
      },
      selector: { issuerRef: { name: 'trust-manager', kind: 'Issuer', group: 'cert-manager.io' } },
    });
    assert.deepEqual(get<Role>(objects, 'ClusterRole', 'trust-manager-policy-role').rules, [
      { apiGroups: ['policy.cert-manager.io'], resources: ['certificaterequestpolicies'], verbs: ['use'], resourceNames: ['trust-manager-policy'] },
    ]);
    const binding = get<Binding>(objects, 'ClusterRoleBinding', 'trust-manager-policy-binding');
    assert.deepEqual(binding.roleRef, { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'trust-manager-policy-role' });
    assert.deepEqual(binding.subjects, [{ kind: 'ServiceAccount', name: 'cm-sa', namespace: 'cm' }]);
    assert.ok(find(objects, 'Certificate', 'trust-manager'));
  });
});

describe('helmCert', () => {
  it('renders the TLS Secret for trust-manager.<ns>.svc and the same CA inline in the webhook config', async () => {
    const objects = await render({ set: ['app.webhook.tls.helmCert.enabled=true'] });
    assert.equal(all(objects, 'Issuer').length + all(objects, 'Certificate').length, 0);
    const secret = get<Manifest & { type: string; data: Record<string, string> }>(objects, 'Secret', 'trust-manager-tls', 'trust');
    assert.equal(secret.type, 'kubernetes.io/tls');
    assert.deepEqual(Object.keys(secret.data).sort(), ['ca.crt', 'tls.crt', 'tls.key']);
    const pem = (k: string) => Buffer.from(secret.data[k]!, 'base64').toString();
    const ca = new X509Certificate(pem('ca.crt'));
    const leaf = new X509Certificate(pem('tls.crt'));
    assert.equal(ca.subject.includes('CN=*.trust.svc'), true, ca.subject);
    assert.equal(leaf.subject.includes('CN=trust-manager.trust.svc'), true, leaf.subject);
    assert.equal(leaf.subjectAltName, 'DNS:trust-manager.trust.svc');
    assert.ok(leaf.verify(ca.publicKey), 'leaf must be signed by the CA');
    assert.ok(leaf.checkPrivateKey(createPrivateKey(pem('tls.key'))));
    const days = (c: X509Certificate) => Math.round((Date.parse(c.validTo) - Date.parse(c.validFrom)) / 86_400_000);
    assert.equal(days(ca), 9125);
    assert.equal(days(leaf), 3650);
    const config = vwc(objects);
    assert.equal(config.metadata.annotations, undefined, 'no cainjector annotation');
    assert.equal(config.webhooks[0]?.clientConfig.caBundle, secret.data['ca.crt']);
  });

  it('uses the installation namespace in names (cert-manager namespace case)', async () => {
    const objects = await render({ namespace: 'cert-manager', set: ['app.webhook.tls.helmCert.enabled=true'] });
    const secret = get<Manifest & { data: Record<string, string> }>(objects, 'Secret', 'trust-manager-tls', 'cert-manager');
    const leaf = new X509Certificate(Buffer.from(secret.data['tls.crt']!, 'base64'));
    assert.equal(leaf.subjectAltName, 'DNS:trust-manager.cert-manager.svc');
  });

  it('cannot be combined with approverPolicy (upstream error text)', async () => {
    const stderr = await renderError({ set: ['app.webhook.tls.helmCert.enabled=true', 'app.webhook.tls.approverPolicy.enabled=true'] });
    assert.match(stderr, /cannot set \.app\.webhook\.tls\.helmCert\.enabled and \.Values\.app\.webhook\.tls\.approverPolicy\.enabled/);
  });
});
