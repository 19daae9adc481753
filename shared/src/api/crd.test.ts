import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import { parse } from 'yaml';

import { bundleCrd, CHART_CRD_TEMPLATE_PATH, renderChartCrdTemplate } from './crd.ts';
import { bundleSchema, type StructuralSchema } from './schema.ts';

const run = promisify(execFile);
const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const script = join(repoRoot, 'shared/scripts/gen-crd.ts');

test('the committed chart CRD equals the one generated from schema.ts', async () => {
  const committed = await readFile(join(repoRoot, CHART_CRD_TEMPLATE_PATH), 'utf8');
  assert.equal(committed, renderChartCrdTemplate(), 'chart CRD drifted from schema.ts: run node shared/scripts/gen-crd.ts');
});

test('gen-crd --check exits non-zero when the file was edited alone', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'gen-crd-'));
  try {
    const file = join(dir, 'crd.yaml');
    await writeFile(file, renderChartCrdTemplate());
    await run(process.execPath, [script, '--check', '--file', file]);
    await writeFile(file, renderChartCrdTemplate().replace('maxItems: 100', 'maxItems: 101'));
    await assert.rejects(run(process.execPath, [script, '--check', '--file', file]), (error: { code?: number; stderr?: string }) => {
      assert.equal(error.code, 1);
      assert.match(error.stderr ?? '', /out of date/);
      return true;
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('the chart template without its Helm lines is exactly the CRD object', () => {
  const withoutHelm = renderChartCrdTemplate()
    .split('\n')
    .filter((line) => !line.includes('{{'))
    .join('\n')
    .replace('  annotations:\n    helm.sh/resource-policy: keep\n  labels:\n', '');
  assert.deepEqual(parse(withoutHelm), bundleCrd);
  assert.match(renderChartCrdTemplate(), /^\{\{- if \.Values\.crds\.enabled \}\}\n/);
  assert.match(renderChartCrdTemplate(), /\{\{- if \.Values\.crds\.keep \}\}\n {2}annotations:\n {4}helm\.sh\/resource-policy: keep\n/);
  assert.match(renderChartCrdTemplate(), /labels:\n {4}\{\{- include "trust-manager\.labels" \. \| nindent 4 \}\}\n/);
});

test('CRD identity and printer columns as upstream 1.1', () => {
  assert.equal(bundleCrd.metadata.name, 'bundles.trust.cert-manager.io');
  assert.equal(bundleCrd.spec.scope, 'Cluster');
  assert.deepEqual(bundleCrd.spec.names, { kind: 'Bundle', listKind: 'BundleList', plural: 'bundles', singular: 'bundle' });
  const [version] = bundleCrd.spec.versions;
  assert.ok(version);
  assert.deepEqual(
    version.additionalPrinterColumns.map((column) => [column.name, column.jsonPath, column.type]),
    [
      ['ConfigMap Target', '.spec.target.configMap.key', 'string'],
      ['Secret Target', '.spec.target.secret.key', 'string'],
      ['Synced', '.status.conditions[?(@.type=="Synced")].status', 'string'],
      ['Reason', '.status.conditions[?(@.type=="Synced")].reason', 'string'],
      ['Age', '.metadata.creationTimestamp', 'date'],
    ],
  );
  assert.deepEqual(version.subresources, { status: {} });
});

function at(schema: StructuralSchema, ...path: string[]): StructuralSchema {
  let node = schema;
  for (const name of path) {
    const next = name === '[]' ? node.items : node.properties?.[name];
    assert.ok(next, `schema has ${path.join('.')}`);
    node = next;
  }
  return node;
}

test('schema carries the upstream constraints, CEL messages and defaults', () => {
  const sources = at(bundleSchema, 'spec', 'sources');
  assert.deepEqual([sources.minItems, sources.maxItems, sources['x-kubernetes-list-type']], [1, 100, 'atomic']);
  assert.deepEqual(bundleSchema.required, ['spec']);
  assert.deepEqual(at(bundleSchema, 'spec').required, ['sources']);
  assert.equal(at(bundleSchema, 'spec', 'sources', '[]')['x-kubernetes-validations']?.[0]?.message, 'exactly one of the fields in [configMap secret inLine useDefaultCAs] must be set');
  const configMap = at(bundleSchema, 'spec', 'sources', '[]', 'configMap');
  assert.equal(configMap['x-kubernetes-validations']?.[0]?.message, 'exactly one of the fields in [name selector] must be set');
  assert.equal(configMap['x-kubernetes-map-type'], 'atomic');
  assert.equal(at(bundleSchema, 'spec', 'sources', '[]', 'inLine').maxLength, 1048576);
  assert.deepEqual(at(bundleSchema, 'spec', 'sources', '[]', 'secret', 'namespace').maxLength, 63);
  assert.equal(at(bundleSchema, 'spec', 'target')['x-kubernetes-validations']?.[0]?.message, 'at least one of the fields in [configMap secret] must be set');
  assert.equal(at(bundleSchema, 'spec', 'target', 'additionalFormats')['x-kubernetes-validations']?.[0]?.message, 'at least one of the fields in [jks pkcs12] must be set');
  assert.equal(at(bundleSchema, 'spec', 'target', 'additionalFormats', 'jks', 'password').default, 'changeit');
  assert.equal(at(bundleSchema, 'spec', 'target', 'additionalFormats', 'pkcs12', 'password').default, '');
  assert.deepEqual(at(bundleSchema, 'spec', 'target', 'additionalFormats', 'pkcs12', 'profile').enum, ['LegacyRC2', 'LegacyDES', 'Modern2023']);
  assert.equal(at(bundleSchema, 'spec', 'target', 'namespaceSelector')['x-kubernetes-map-type'], 'atomic');
  assert.equal(at(bundleSchema, 'spec', 'target', 'configMap', 'metadata').minProperties, 1);
  assert.equal(at(bundleSchema, 'status', 'conditions')['x-kubernetes-list-type'], 'map');
  assert.equal(at(bundleSchema, 'status', 'certificateCount').type, 'integer');
  assert.equal(at(bundleSchema, 'status', 'earliestExpiry').format, 'date-time');
});

test('keepHistory (our extension): bounded limit with the default, a duration pattern, history in status', () => {
  for (const kind of ['configMap', 'secret']) {
    const limit = at(bundleSchema, 'spec', 'sources', '[]', kind, 'keepHistory', 'limit');
    assert.deepEqual([limit.type, limit.minimum, limit.maximum, limit.default], ['integer', 1, 10, 5]);
    const maxAge = at(bundleSchema, 'spec', 'sources', '[]', kind, 'keepHistory', 'maxAge');
    const pattern = new RegExp(maxAge.pattern ?? '', 'u');
    assert.deepEqual(['720h', '1h30m', '90s', '1.5h'].map((text) => pattern.test(text)), [true, true, true, true]);
    assert.deepEqual(['30d', '-1h', '1', '', 'h'].map((text) => pattern.test(text)), [false, false, false, false, false]);
  }
  assert.equal(at(bundleSchema, 'spec', 'sources', '[]').properties?.inLine?.type, 'string', 'inLine has no keepHistory');
  const entry = at(bundleSchema, 'status', 'certHistory', '[]');
  assert.deepEqual(entry.required, ['source']);
  assert.deepEqual(at(bundleSchema, 'status', 'certHistory', '[]', 'retired', '[]').required, ['fingerprint', 'subject', 'notAfter', 'pem', 'retiredAt']);
  assert.equal(at(bundleSchema, 'status', 'certHistory', '[]', 'retired').maxItems, 10);
});

test('schema is structural: every node has a type, no additionalProperties:false', () => {
  const visit = (node: StructuralSchema, path: string): void => {
    assert.ok(node.type, `${path} has a type`);
    assert.notEqual(typeof node.additionalProperties, 'boolean', path);
    for (const [name, child] of Object.entries(node.properties ?? {})) visit(child, `${path}.${name}`);
    if (node.items) visit(node.items, `${path}[]`);
    if (node.additionalProperties) visit(node.additionalProperties, `${path}{}`);
  };
  visit(bundleSchema, '');
});

test('clusterTrustBundle (our extension): upstream rules keep their text for Bundles without it; ours name it', () => {
  const sourceRules = at(bundleSchema, 'spec', 'sources', '[]')['x-kubernetes-validations'] ?? [];
  assert.deepEqual(sourceRules[0], {
    rule: 'has(self.clusterTrustBundle) || [has(self.configMap),has(self.secret),has(self.inLine),has(self.useDefaultCAs)].filter(x,x).size() == 1',
    message: 'exactly one of the fields in [configMap secret inLine useDefaultCAs] must be set',
  });
  assert.equal(sourceRules[1]?.message, 'exactly one of the fields in [configMap secret inLine useDefaultCAs clusterTrustBundle] must be set');
  assert.deepEqual(at(bundleSchema, 'spec', 'target')['x-kubernetes-validations'], [
    { rule: 'has(self.clusterTrustBundle) || [has(self.configMap),has(self.secret)].filter(x,x).size() >= 1', message: 'at least one of the fields in [configMap secret] must be set' },
  ]);
  const source = at(bundleSchema, 'spec', 'sources', '[]', 'clusterTrustBundle');
  assert.deepEqual(
    source['x-kubernetes-validations']?.map((rule) => rule.message),
    ['exactly one of the fields in [name signerName] must be set', 'labelSelector may only be set together with signerName'],
  );
  assert.equal(at(bundleSchema, 'spec', 'target', 'clusterTrustBundle', 'signerName').maxLength, 571);
  assert.equal(at(bundleSchema, 'spec', 'target', 'clusterTrustBundle', 'metadata').minProperties, 1);
  assert.deepEqual(at(bundleSchema, 'status', 'clusterTrustBundle').required, ['name', 'certificateCount']);
});
