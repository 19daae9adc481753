import assert from 'node:assert/strict';
import { test } from 'node:test';

import { aggregateMessage } from '@trust-manager/shared/api/field-error.ts';

import { bundle, upstreamCases } from './testing/upstream-cases.ts';
import { validateBundle } from './validate.ts';

const options = { trustNamespace: 'trust', sourceNamespaces: ['team-a'] };
function denial(object: unknown): string {
  return aggregateMessage(validateBundle(object, options).errors);
}

const cmTarget = { configMap: { key: 'test' } };

test('upstream Test_validate / Test_validate_update cases give upstream texts', () => {
  for (const [name, object, expected] of upstreamCases) assert.equal(denial(object), expected, name);
});

test('schema errors read like the API server and come before rule errors', () => {
  const cases: [string, unknown, string][] = [
    ['sources not an array', bundle({ sources: 'x' }), 'spec.sources: Invalid value: "string": spec.sources in body must be of type array: "string"'],
    ['spec not an object', bundle(42), 'spec: Invalid value: "integer": spec in body must be of type object: "integer"'],
    // 101 items that would each also break rule 5: only the schema's verdict is reported.
    ['too many sources', bundle({ sources: Array.from({ length: 101 }, () => ({ useDefaultCAs: true })) }), 'spec.sources: Too many: 101: must have at most 100 items'],
    [
      'unknown PKCS12 profile',
      bundle({ sources: [{ inLine: 'x' }], target: { configMap: { key: 'k' }, additionalFormats: { pkcs12: { key: 'p', profile: 'Best' } } } }),
      'spec.target.additionalFormats.pkcs12.profile: Unsupported value: "Best": supported values: "LegacyRC2", "LegacyDES", "Modern2023"',
    ],
    ['key too long', bundle({ sources: [{ inLine: 'x' }], target: { configMap: { key: 'k'.repeat(254) } } }), 'spec.target.configMap.key: Too long: may not be more than 253 bytes'],
    ['target key required', bundle({ sources: [{ inLine: 'x' }], target: { configMap: {} } }), 'spec.target.configMap.key: Required value'],
    [
      'empty metadata',
      bundle({ sources: [{ inLine: 'x' }], target: { configMap: { key: 'k', metadata: {} } } }),
      'spec.target.configMap.metadata: Invalid value: 0: spec.target.configMap.metadata in body should have at least 1 properties',
    ],
    [
      'empty JKS password',
      bundle({ sources: [{ inLine: 'x' }], target: { configMap: { key: 'k' }, additionalFormats: { jks: { key: 'j', password: '' } } } }),
      'spec.target.additionalFormats.jks.password: Invalid value: "": spec.target.additionalFormats.jks.password in body should be at least 1 chars long',
    ],
    [
      'empty name with a selector keeps the schema text',
      bundle({ sources: [{ configMap: { name: '', selector: {}, key: 'k' } }] }),
      'spec.sources[0].configMap.name: Invalid value: "": spec.sources[0].configMap.name in body should be at least 1 chars long',
    ],
    [
      'schema then rule errors',
      bundle({ sources: [{ inLine: 'x', useDefaultCAs: true }], target: { configMap: { key: 'k'.repeat(300) } } }),
      '[spec.target.configMap.key: Too long: may not be more than 253 bytes, spec.sources[0]: Forbidden: must define exactly one source type for each item but found 2 defined types]',
    ],
  ];
  for (const [name, object, expected] of cases) assert.equal(denial(object), expected, name);
});

test('non-object input is an error, not a crash', () => {
  for (const input of [null, 'x', 3, [], undefined]) {
    assert.match(denial(input), /a Bundle must be a JSON object/);
  }
});

test('source namespaces: trust namespace and allowed ones pass, others are forbidden', () => {
  const withNamespace = (namespace: string, kind = 'configMap'): unknown =>
    bundle({ sources: [{ [kind]: { name: 'src', key: 'ca.crt', namespace } }], target: cmTarget });
  assert.equal(denial(withNamespace('trust')), '');
  assert.equal(denial(withNamespace('team-a', 'secret')), '');
  assert.equal(
    denial(withNamespace('kube-system')),
    'spec.sources[0].configMap.namespace: Forbidden: namespace "kube-system" is not an allowed source namespace; allowed: "trust", "team-a" ' +
      '(omit namespace to use the trust namespace, or ask the operator to add it to --source-namespaces / app.trust.additionalSourceNamespaces)',
  );
  assert.match(denial(withNamespace('other', 'secret')), /^spec\.sources\[0\]\.secret\.namespace: Forbidden: namespace "other"/);
  assert.equal(
    denial(withNamespace('Bad_NS')),
    "[spec.sources[0].configMap.namespace: Invalid value: \"Bad_NS\": spec.sources[0].configMap.namespace in body should match '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$', " +
      'spec.sources[0].configMap.namespace: Forbidden: namespace "Bad_NS" is not an allowed source namespace; allowed: "trust", "team-a" ' +
      '(omit namespace to use the trust namespace, or ask the operator to add it to --source-namespaces / app.trust.additionalSourceNamespaces)]',
  );
  // With no extra namespaces only the trust namespace is allowed.
  const onlyTrust = validateBundle(withNamespace('team-a'), { trustNamespace: 'trust', sourceNamespaces: [] });
  assert.match(aggregateMessage(onlyTrust.errors), /allowed: "trust" \(/);
});

test('junk is contained: __proto__ members and deep nesting under unknown fields', () => {
  const hostile = JSON.parse('{"apiVersion":"trust.cert-manager.io/v1alpha1","kind":"Bundle","metadata":{"name":"x"},"spec":{"__proto__":{"polluted":1},"sources":[{"useDefaultCAs":true}]}}') as unknown;
  assert.equal(denial(hostile), '');
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
  let deep: unknown = 'leaf';
  for (let i = 0; i < 100_000; i++) deep = [deep];
  assert.equal(denial(bundle({ sources: [{ useDefaultCAs: true }], junk: deep })), '');
  assert.match(denial(bundle({ sources: deep })), /must be of type object/);
});

test('keepHistory (our extension): limit in range, maxAge a positive duration, each error at its field path', () => {
  const withHistory = (keepHistory: unknown, kind = 'secret'): unknown => bundle({ sources: [{ [kind]: { name: 'root-ca', key: 'ca.crt', keepHistory } }], target: cmTarget });
  for (const valid of [{}, { limit: 1 }, { limit: 10 }, { maxAge: '720h' }, { limit: 3, maxAge: '1h30m' }, { maxAge: '90s' }]) {
    assert.equal(denial(withHistory(valid)), '', JSON.stringify(valid));
    assert.equal(denial(withHistory(valid, 'configMap')), '', JSON.stringify(valid));
  }
  const cases: [unknown, string][] = [
    [{ limit: 0 }, 'spec.sources[0].secret.keepHistory.limit: Invalid value: 0: spec.sources[0].secret.keepHistory.limit in body should be greater than or equal to 1'],
    [{ limit: 11 }, 'spec.sources[0].secret.keepHistory.limit: Invalid value: 11: spec.sources[0].secret.keepHistory.limit in body should be less than or equal to 10'],
    [{ limit: 'two' }, 'spec.sources[0].secret.keepHistory.limit: Invalid value: "string": spec.sources[0].secret.keepHistory.limit in body must be of type integer: "string"'],
    [{ maxAge: '0s' }, 'spec.sources[0].secret.keepHistory.maxAge: Invalid value: "0s": must be a positive duration, such as 720h'],
    [{ maxAge: '30d' }, "spec.sources[0].secret.keepHistory.maxAge: Invalid value: \"30d\": spec.sources[0].secret.keepHistory.maxAge in body should match '^([0-9]+(\\.[0-9]*)?(ns|us|µs|ms|s|m|h))+$'"],
    [{ maxAge: '-1h' }, "spec.sources[0].secret.keepHistory.maxAge: Invalid value: \"-1h\": spec.sources[0].secret.keepHistory.maxAge in body should match '^([0-9]+(\\.[0-9]*)?(ns|us|µs|ms|s|m|h))+$'"],
    [true, 'spec.sources[0].secret.keepHistory: Invalid value: "boolean": spec.sources[0].secret.keepHistory in body must be of type object: "boolean"'],
  ];
  for (const [keepHistory, expected] of cases) assert.equal(denial(withHistory(keepHistory)), expected, JSON.stringify(keepHistory));
  assert.match(denial(withHistory({ maxAge: '0h0m' }, 'configMap')), /^spec\.sources\[0\]\.configMap\.keepHistory\.maxAge: Invalid value: "0h0m": must be a positive duration/);
});
