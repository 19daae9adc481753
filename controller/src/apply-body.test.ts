import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ApplyBodySerializer } from './apply-body.ts';

const pem = '-----BEGIN CERTIFICATE-----\nMIIB\u00e9"quoted"\\\n-----END CERTIFICATE-----\n'.repeat(50);
const jks = Buffer.from(pem).toString('base64');

function body(namespace: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'b', namespace, labels: { 'trust.cert-manager.io/bundle': 'b' }, annotations: { 'trust.cert-manager.io/hash': 'h' } },
    data: { 'ca.crt': pem },
    binaryData: { 'truststore.jks': jks },
    ...extra,
  };
}

test('serialised bodies are byte for byte JSON.stringify', () => {
  const serializer = new ApplyBodySerializer();
  const cases: Array<Record<string, unknown>> = [
    body('ns-1'),
    body('ns-2', { skipped: undefined }),
    { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'b', namespace: 'x' }, data: { 'ca.crt': jks, 'truststore.jks': jks } },
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cleanup', namespace: 'x', ownerReferences: [{ uid: 'u' }] } },
    { data: {} },
    { data: { n: 1 } }, // not a string map: serialised in place
    {},
  ];
  for (const value of cases) {
    const raw = serializer.serialize(value);
    assert.equal(raw.toString(), JSON.stringify(value));
    assert.equal(raw.byteLength, Buffer.byteLength(JSON.stringify(value)));
  }
});

test('the shared data is serialised once and shared by every body', () => {
  const serializer = new ApplyBodySerializer();
  const a = serializer.serialize(body('ns-a'));
  const b = serializer.serialize(body('ns-b'));
  assert.equal(serializer.size, 2); // data and binaryData
  // The same Buffer objects in both bodies: no copy per target.
  const shared = (raw: typeof a) => raw.chunks.filter((chunk) => chunk.byteLength > 1000);
  assert.equal(shared(a).length, 2);
  assert.ok(shared(a).every((chunk, i) => chunk === shared(b)[i]));
  assert.notEqual(a.toString(), b.toString());

  // New content: new fragment, bounded.
  const small = new ApplyBodySerializer(2);
  for (let i = 0; i < 5; i++) small.serialize({ data: { k: `v${i}` } });
  assert.equal(small.size, 2);
});
