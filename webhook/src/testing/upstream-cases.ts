// Upstream pkg/webhook/validation_test.go (Test_validate, Test_validate_update) as JSON Bundles with the
// expected aggregate denial text ('' = allowed). Shared by the validate and the HTTP-level tests.

export const NAME_REGEX_ERROR =
  "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";

import { TEST_CERTIFICATE_1 } from '@trust-manager/shared/certs/testing/upstream-certificates.ts';

/**
 * Upstream's allowed cases use placeholder text (inLine: "foo"); our webhook denies an inLine with no
 * certificate (issue #5), so the allowed cases carry a real certificate. Denied cases keep the
 * placeholders: upstream's errors take precedence and are reported with upstream's exact texts.
 */
export const VALID_IN_LINE = TEST_CERTIFICATE_1;

export function bundle(spec: unknown, name = 'test-bundle', extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { apiVersion: 'trust.cert-manager.io/v1alpha1', kind: 'Bundle', metadata: { name }, spec, ...extra };
}

const cmTarget = { configMap: { key: 'test' } };
// Upstream's own conditions in Test_validate lack required fields; status is not admission's business.
const sloppyStatus = { status: { conditions: [{ type: 'A', reason: 'B' }, { type: 'B', reason: 'C' }] } };

/** upstream pkg/webhook/validation_test.go Test_validate, as JSON objects (expected aggregate text, '' = allowed). */
export const upstreamCases: [string, unknown, string][] = [
  ['no sources, no target', bundle({}), 'spec.sources: Forbidden: must define at least one source'],
  ['no sources (Go null), empty target', bundle({ sources: null, target: {} }), 'spec.sources: Forbidden: must define at least one source'],
  ['no spec at all', { apiVersion: 'trust.cert-manager.io/v1alpha1', kind: 'Bundle', metadata: { name: 'x' } }, 'spec.sources: Forbidden: must define at least one source'],
  ['empty sources list', bundle({ sources: [], target: cmTarget }), 'spec.sources: Forbidden: must define at least one source'],
  [
    'sources with multiple types defined in items',
    bundle({
      sources: [{ configMap: { name: 'test', key: 'test' }, inLine: 'test' }, { inLine: 'test' }, { configMap: { name: 'test', key: 'test' }, secret: { name: 'test', key: 'test' } }],
      target: cmTarget,
    }),
    '[spec.sources[0]: Forbidden: must define exactly one source type for each item but found 2 defined types, spec.sources[2]: Forbidden: must define exactly one source type for each item but found 2 defined types]',
  ],
  [
    'empty source with no defined types',
    bundle({ sources: [{}], target: cmTarget }),
    '[spec.sources[0]: Forbidden: must define exactly one source type for each item but found 0 defined types, spec.sources: Forbidden: must define at least one source]',
  ],
  [
    'empty inLine is not a source type',
    bundle({ sources: [{ inLine: '' }], target: cmTarget }),
    '[spec.sources[0]: Forbidden: must define exactly one source type for each item but found 0 defined types, spec.sources: Forbidden: must define at least one source]',
  ],
  ['useDefaultCAs false, with no other defined sources', bundle({ sources: [{ useDefaultCAs: false }], target: cmTarget }), 'spec.sources: Forbidden: must define at least one source'],
  [
    'useDefaultCAs requested twice',
    bundle({ sources: [{ useDefaultCAs: true }, { useDefaultCAs: true }], target: cmTarget }),
    'spec.sources: Forbidden: must request default CAs either once or not at all but got 2 requests',
  ],
  [
    'useDefaultCAs requested three times',
    bundle({ sources: [{ useDefaultCAs: true }, { useDefaultCAs: false }, { useDefaultCAs: true }], target: cmTarget }),
    'spec.sources: Forbidden: must request default CAs either once or not at all but got 3 requests',
  ],
  [
    'sources names, selectors and keys are empty',
    bundle({ sources: [{ configMap: { name: '', key: '' } }, { inLine: 'test' }, { secret: {} }], target: cmTarget }),
    `[spec.sources[0].configMap: Invalid value: "name: ' ', selector: nil": must validate one and only one schema (oneOf): [name, selector]. Found none valid, ` +
      `spec.sources[0].configMap: Invalid value: "key: ' ', includeAllKeys: false": source configMap key must be defined when includeAllKeys is false, ` +
      `spec.sources[2].secret: Invalid value: "name: ' ', selector: nil": must validate one and only one schema (oneOf): [name, selector]. Found none valid, ` +
      `spec.sources[2].secret: Invalid value: "key: ' ', includeAllKeys: false": source secret key must be defined when includeAllKeys is false]`,
  ],
  [
    'sources names and selectors are both set',
    bundle({
      sources: [{ configMap: { name: 'some-config-map', selector: {}, key: 'test' } }, { inLine: 'test' }, { secret: { name: 'some-secret', selector: {}, key: 'test' } }],
      target: cmTarget,
    }),
    '[spec.sources[0].configMap: Invalid value: "name: some-config-map, selector: {}": must validate one and only one schema (oneOf): [name, selector]. Found both set, ' +
      'spec.sources[2].secret: Invalid value: "name: some-secret, selector: {}": must validate one and only one schema (oneOf): [name, selector]. Found both set]',
  ],
  [
    'sources key is set and includeAllKeys is true',
    bundle({
      sources: [{ configMap: { name: 'some-config-map', key: 'test', includeAllKeys: true } }, { inLine: 'test' }, { secret: { name: 'some-secret', key: 'test', includeAllKeys: true } }],
      target: cmTarget,
    }),
    '[spec.sources[0].configMap: Invalid value: "key: test, includeAllKeys: true": source configMap key cannot be defined when includeAllKeys is true, ' +
      'spec.sources[2].secret: Invalid value: "key: test, includeAllKeys: true": source secret key cannot be defined when includeAllKeys is true]',
  ],
  [
    'sources defines the same configMap target',
    bundle({ sources: [{ inLine: 'test' }, { configMap: { name: 'test-bundle', key: 'test' } }], target: cmTarget }),
    'spec.sources[1].configMap.test-bundle.test: Forbidden: cannot define the same source as target',
  ],
  [
    'sources defines the same secret target',
    bundle({ sources: [{ inLine: 'test' }, { secret: { name: 'test-bundle', key: 'test' } }], target: { secret: { key: 'test' } } }),
    'spec.sources[1].secret.test-bundle.test: Forbidden: cannot define the same source as target',
  ],
  [
    'selector sources are never the target',
    bundle({ sources: [{ configMap: { selector: {}, key: 'test' } }], target: cmTarget }),
    '',
  ],
  [
    'invalid namespace selector',
    bundle({ sources: [{ inLine: 'test-1' }], target: { configMap: { key: 'test-1' }, namespaceSelector: { matchLabels: { '@@@@': '' } } } }, 'test-bundle-1', {
      status: { conditions: [{ type: 'A', reason: 'C' }] },
    }),
    `spec.target.namespaceSelector.matchLabels: Invalid value: "@@@@": ${NAME_REGEX_ERROR}`,
  ],
  [
    'invalid source selector',
    bundle({ sources: [{ configMap: { selector: { matchExpressions: [{ key: 'a', operator: 'In' }] }, key: 'k' } }], target: cmTarget }),
    "spec.sources[0].configMap.selector.matchExpressions[0].values: Required value: must be specified when `operator` is 'In' or 'NotIn'",
  ],
  [
    'duplicate target JKS key',
    bundle({ sources: [{ inLine: 'foo' }], target: { additionalFormats: { jks: { key: 'bar' } }, configMap: { key: 'bar' }, namespaceSelector: { matchLabels: { foo: 'bar' } } } }, 'testing'),
    'spec.target.additionalFormats.jks.key: Invalid value: "bar": key must be unique across all target output keys',
  ],
  [
    'duplicate target PKCS12 key',
    bundle({ sources: [{ inLine: 'foo' }], target: { additionalFormats: { pkcs12: { key: 'bar' } }, configMap: { key: 'bar' }, namespaceSelector: { matchLabels: { foo: 'bar' } } } }, 'testing'),
    'spec.target.additionalFormats.pkcs12.key: Invalid value: "bar": key must be unique across all target output keys',
  ],
  [
    'PKCS12 key equal to JKS key, secret key counted too',
    bundle({ sources: [{ inLine: 'foo' }], target: { additionalFormats: { jks: { key: 's' }, pkcs12: { key: 'j' } }, configMap: { key: 'c' }, secret: { key: 's' } } }),
    'spec.target.additionalFormats.jks.key: Invalid value: "s": key must be unique across all target output keys',
  ],
  [
    'configMap and secret target may share a key',
    bundle({ sources: [{ inLine: VALID_IN_LINE }], target: { additionalFormats: { jks: { key: 'j' }, pkcs12: { key: 'p' } }, configMap: { key: 'k' }, secret: { key: 'k' } } }),
    '',
  ],
  ['valid Bundle', bundle({ sources: [{ inLine: VALID_IN_LINE }], target: { configMap: { key: 'test-1' }, namespaceSelector: { matchLabels: { foo: 'bar' } } } }, 'test-bundle-1', sloppyStatus), ''],
  [
    'valid Bundle with annotations and labels',
    bundle(
      {
        sources: [{ inLine: VALID_IN_LINE }],
        target: {
          configMap: { key: 'test-1', metadata: { labels: { 'app.kubernetes.io/part-of': 'service-a' }, annotations: { 'kustomize.toolkit.fluxcd.io/prune': 'disabled' } } },
          namespaceSelector: { matchLabels: { foo: 'bar' } },
        },
      },
      'test-bundle-1',
      sloppyStatus,
    ),
    '',
  ],
  [
    'a bundle with target metadata containing reserved keys should fail',
    bundle({
      sources: [{ inLine: 'test-1' }],
      target: { configMap: { key: 'test-1', metadata: { annotations: { 'trust-manager.io/hash': 'hash' }, labels: { 'trust.cert-manager.io/bundle': 'bundle' } } } },
    }),
    '[spec.target.configMap.metadata.annotations: Invalid value: "trust-manager.io/hash": trust-manager.io/* annotations are not allowed, ' +
      'spec.target.configMap.metadata.labels: Invalid value: "trust.cert-manager.io/bundle": trust.cert-manager.io/* labels are not allowed]',
  ],
  [
    'reserved keys on secret target metadata, other prefix order',
    bundle({
      sources: [{ inLine: 'x' }],
      target: { secret: { key: 'k', metadata: { annotations: { 'trust.cert-manager.io/hash': 'h' }, labels: { 'trust-manager.io/x': 'y', 'bad key': 'v' } } } },
    }),
    '[spec.target.secret.metadata.annotations: Invalid value: "trust.cert-manager.io/hash": trust.cert-manager.io/* annotations are not allowed, ' +
      `spec.target.secret.metadata.labels: Invalid value: "trust-manager.io/x": trust-manager.io/* labels are not allowed, spec.target.secret.metadata.labels: Invalid value: "bad key": ${NAME_REGEX_ERROR}]`,
  ],
  ['valid Bundle with JKS', bundle({ sources: [{ inLine: VALID_IN_LINE }], target: { additionalFormats: { jks: { key: 'bar.jks' } }, configMap: { key: 'bar' } } }, 'testing'), ''],
  ['valid Bundle with PKCS12', bundle({ sources: [{ inLine: VALID_IN_LINE }], target: { additionalFormats: { pkcs12: { key: 'bar.p12' } }, configMap: { key: 'bar' } } }, 'testing'), ''],
  [
    'valid Bundle including all keys',
    bundle({ sources: [{ configMap: { name: 'some-config-map', includeAllKeys: true } }, { secret: { name: 'some-secret', includeAllKeys: true } }], target: { configMap: { key: 'test-1' } } }),
    '',
  ],
  // Test_validate_update: the old object is ignored, removing targets is allowed.
  ['update: target configMap removed', bundle({ sources: [{ inLine: VALID_IN_LINE }] }, ''), ''],
];

