import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { targetHash } from './hash.ts';

const PEM = '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----';
const sha256 = (data: string) => createHash('sha256').update(data).digest('hex');

test('hash of PEM alone is SHA-256 of the PEM; absent and empty parts contribute nothing', () => {
  assert.equal(targetHash(PEM, {}), sha256(PEM));
  assert.equal(targetHash(PEM, { jksPassword: '', pkcs12Password: '', pkcs12Profile: '', annotations: {}, labels: {} }), sha256(PEM));
});

test('concatenation order: PEM, jks password, pkcs12 password, profile, sorted annotations, sorted labels', () => {
  const hash = targetHash(PEM, {
    jksPassword: 'changeit',
    pkcs12Password: 'p12',
    pkcs12Profile: 'Modern2023',
    annotations: { zeta: '1', alpha: '2' },
    labels: { b: 'x', a: 'y' },
  });
  assert.equal(hash, sha256(`${PEM}changeitp12Modern2023alpha2zeta1aybx`));
});

test('every part changes the hash; map order does not', () => {
  const base = targetHash(PEM, { annotations: { a: '1', b: '2' }, labels: { c: '3' } });
  assert.equal(base, targetHash(PEM, { annotations: { b: '2', a: '1' }, labels: { c: '3' } }));
  assert.equal(base, targetHash(PEM, { annotations: { a: '1', b: '2' }, labels: { c: '3' } }), 'deterministic');
  const variants = [
    targetHash(PEM + '\n', { annotations: { a: '1', b: '2' }, labels: { c: '3' } }),
    targetHash(PEM, { jksPassword: 'j', annotations: { a: '1', b: '2' }, labels: { c: '3' } }),
    targetHash(PEM, { pkcs12Password: 'p', annotations: { a: '1', b: '2' }, labels: { c: '3' } }),
    targetHash(PEM, { pkcs12Profile: 'LegacyDES', annotations: { a: '1', b: '2' }, labels: { c: '3' } }),
    targetHash(PEM, { annotations: { a: '1', b: '3' }, labels: { c: '3' } }),
    targetHash(PEM, { annotations: { a: '1', b: '2' }, labels: { c: '4' } }),
  ];
  assert.equal(new Set([base, ...variants]).size, variants.length + 1);
  assert.match(base, /^[0-9a-f]{64}$/);
});

test('keys sort by UTF-8 bytes as Go does', () => {
  // U+FF21 (3 UTF-8 bytes, EF BC A1) sorts before U+1F600 (F0 ...) in bytes but after it in UTF-16 units.
  const hash = targetHash('', { labels: { '\u{1F600}': '1', '\uFF21': '2' } });
  assert.equal(hash, sha256('\uFF212\u{1F600}1'));
});
