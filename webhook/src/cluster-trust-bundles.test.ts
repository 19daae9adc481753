import assert from 'node:assert/strict';
import { before, test } from 'node:test';

import { CTB_API_ENABLE_HINT, CTB_FEATURE_ENABLE_HINT } from '@trust-manager/shared/api/cluster-trust-bundle.ts';
import { aggregateMessage } from '@trust-manager/shared/api/field-error.ts';
import { makeCA, type TestCertificate } from '@trust-manager/shared/certs/testing/fixtures.ts';

import { bundle } from './testing/upstream-cases.ts';
import { validateBundle, type ValidationOptions } from './validate.ts';

const options: ValidationOptions = { trustNamespace: 'trust', sourceNamespaces: [], clusterTrustBundles: 'available', now: new Date('2026-01-01T00:00:00Z') };
let ca: TestCertificate;
let leaf: TestCertificate;

before(async () => {
  ca = await makeCA({ cn: 'webhook-ctb-root' });
  leaf = await makeCA({ cn: 'webhook-ctb-leaf', isCA: false, issuer: ca });
});

const denial = (spec: unknown, opts: ValidationOptions = options): string => aggregateMessage(validateBundle(bundle(spec), opts).errors);
const warnings = (spec: unknown, opts: ValidationOptions = options): string[] => validateBundle(bundle(spec), opts).warnings;

test('valid ClusterTrustBundle targets and sources pass without warnings', () => {
  const spec = {
    sources: [{ inLine: ca.pem }, { clusterTrustBundle: { name: 'x' } }, { clusterTrustBundle: { signerName: 'example.com/s', labelSelector: { matchLabels: { a: 'b' } } } }],
    target: { clusterTrustBundle: { signerName: 'example.com/s', metadata: { labels: { team: 'a' } } } },
  };
  assert.deepEqual(validateBundle(bundle(spec), options), { errors: [], warnings: [] });
});

test('errors carry the field path: references, signer names, selectors, target metadata', () => {
  assert.equal(
    denial({ sources: [{ clusterTrustBundle: { name: 'x', signerName: 'example.com/s' } }] }),
    'spec.sources[0].clusterTrustBundle: Forbidden: name and signerName are mutually exclusive: select one ClusterTrustBundle by name, or those of a signer',
  );
  assert.equal(denial({ sources: [{ clusterTrustBundle: {} }] }), 'spec.sources[0].clusterTrustBundle: Required value: one of name or signerName must be set');
  assert.equal(
    denial({ sources: [{ clusterTrustBundle: { name: 'x', labelSelector: {} } }] }),
    'spec.sources[0].clusterTrustBundle.labelSelector: Forbidden: may only be set together with signerName',
  );
  assert.equal(
    denial({ sources: [{ clusterTrustBundle: { signerName: 'nope', labelSelector: {} } }] }),
    `spec.sources[0].clusterTrustBundle.signerName: Invalid value: "nope": must be a fully qualified domain and path of the form 'example.com/signer-name'`,
  );
  assert.match(
    denial({ sources: [{ clusterTrustBundle: { signerName: 'example.com/s', labelSelector: { matchExpressions: [{ key: 'a', operator: 'Bad' }] } } }] }),
    /^spec\.sources\[0\]\.clusterTrustBundle\.labelSelector\.matchExpressions\[0\]\.operator: /,
  );
  assert.equal(
    denial({ sources: [{ inLine: ca.pem }], target: { clusterTrustBundle: { signerName: 'example/s' } } }),
    'spec.target.clusterTrustBundle.signerName: Invalid value: "example": should be a domain with at least two segments separated by dots',
  );
  assert.equal(
    denial({ sources: [{ inLine: ca.pem }], target: { clusterTrustBundle: { metadata: { labels: { 'trust.cert-manager.io/x': 'y' } } } } }),
    'spec.target.clusterTrustBundle.metadata.labels: Invalid value: "trust.cert-manager.io/x": trust.cert-manager.io/* labels are not allowed',
  );
  // Upstream's one-type-per-source rule counts the new type.
  assert.equal(
    denial({ sources: [{ inLine: ca.pem, clusterTrustBundle: { name: 'x' } }] }),
    'spec.sources[0]: Forbidden: must define exactly one source type for each item but found 2 defined types',
  );
});

test('warns when non-CA certificates will be left out of the ClusterTrustBundle target (and only then)', () => {
  const spec = { sources: [{ inLine: ca.pem + leaf.pem }], target: { configMap: { key: 'k' }, clusterTrustBundle: {} } };
  assert.ok(
    warnings(spec).includes(
      'spec.sources[0].inLine: 1 certificate(s) are not CA certificates and will be left out of the ClusterTrustBundle target, which accepts only CA certificates',
    ),
  );
  assert.ok(!warnings({ ...spec, target: { configMap: { key: 'k' } } }).some((w) => w.includes('left out')));
});

test('warns when the API cannot be used, naming the field and the fix; says nothing while unknown', () => {
  const spec = { sources: [{ clusterTrustBundle: { name: 'x' } }], target: { clusterTrustBundle: {} } };
  assert.deepEqual(warnings(spec, { ...options, clusterTrustBundles: 'unavailable' }), [
    `spec.target.clusterTrustBundle: this cluster does not serve the clustertrustbundles.certificates.k8s.io/v1beta1 API: ${CTB_API_ENABLE_HINT}`,
    `spec.sources[0].clusterTrustBundle: this cluster does not serve the clustertrustbundles.certificates.k8s.io/v1beta1 API: ${CTB_API_ENABLE_HINT}`,
  ]);
  assert.deepEqual(warnings(spec, { ...options, clusterTrustBundles: 'disabled' }), [
    `spec.target.clusterTrustBundle: ClusterTrustBundle support is disabled: ${CTB_FEATURE_ENABLE_HINT}`,
    `spec.sources[0].clusterTrustBundle: ClusterTrustBundle support is disabled: ${CTB_FEATURE_ENABLE_HINT}`,
  ]);
  const { clusterTrustBundles: _unknown, ...unknown } = options;
  assert.deepEqual(warnings(spec, unknown), []);
  assert.deepEqual(warnings({ sources: [{ inLine: ca.pem }], target: { configMap: { key: 'k' } } }, { ...options, clusterTrustBundles: 'unavailable' }), []);
});

test('warns about settings that do nothing for a ClusterTrustBundle-only target, and a signer source that selects nothing', () => {
  assert.deepEqual(
    warnings({
      sources: [{ inLine: ca.pem }, { clusterTrustBundle: { signerName: 'example.com/s' } }],
      target: { clusterTrustBundle: {}, namespaceSelector: { matchLabels: { a: 'b' } }, additionalFormats: { jks: { key: 'j' } } },
    }),
    [
      'spec.sources[1].clusterTrustBundle: no labelSelector: selects no ClusterTrustBundle (as in a projected volume); set labelSelector: {} to select every ClusterTrustBundle of signer "example.com/s"',
      'spec.target.additionalFormats: applies to configMap and secret targets only; a ClusterTrustBundle holds PEM only',
      'spec.target.namespaceSelector: applies to configMap and secret targets only; a ClusterTrustBundle is cluster-scoped',
    ],
  );
});
