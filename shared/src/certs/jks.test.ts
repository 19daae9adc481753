import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { DEFAULT_JKS_PASSWORD } from '@trust-manager/shared/api/constants.ts';
import type { Certificate } from './certificate.ts';
import { encodeJks, jksAlias, trustStoreAlias } from './jks.ts';
import { CertPool } from './pool.ts';
import { runOnStore } from './testing/tools.ts';
import { TEST_CERTIFICATE_1, TEST_CERTIFICATE_2 } from './testing/upstream-certificates.ts';

function poolOf(pem: string | Buffer): Certificate[] {
  const pool = new CertPool();
  pool.addPem(pem);
  return pool.certificates();
}

test('alias is <8 hex of sha256>|<Go subject>; the JKS alias is lower-cased', () => {
  const [cert] = poolOf(TEST_CERTIFICATE_1);
  assert.equal(trustStoreAlias(cert!), '548b988f|CN=cmct-test-root,O=cert-manager');
  assert.equal(jksAlias(cert!), '548b988f|cn=cmct-test-root,o=cert-manager');
});

test('lower-casing follows Go (simple mapping), not JavaScript full mapping', () => {
  const fake = (subject: string) => ({ fingerprint: '0'.repeat(64), subject }) as Certificate;
  assert.equal(jksAlias(fake('CN=İSTANBUL ΣΑΣ')), '00000000|cn=istanbul σασ');
});

test('same subject, different certificates: distinct aliases, two entries', () => {
  const certs = poolOf(`${TEST_CERTIFICATE_1}\n${TEST_CERTIFICATE_2}`);
  const aliases = certs.map(jksAlias);
  assert.equal(new Set(aliases).size, 2);
  assert.equal(encodeJks(certs, DEFAULT_JKS_PASSWORD).readUInt32BE(8), 2);
});

test('layout: magic, version, count, sorted entries, type X509, notBefore creation, SHA-1 digest', () => {
  const certs = poolOf(`${TEST_CERTIFICATE_2}\n${TEST_CERTIFICATE_1}`);
  const store = encodeJks(certs, 'my-password');
  assert.equal(store.readUInt32BE(0), 0xfeedfeed);
  assert.equal(store.readUInt32BE(4), 2);
  assert.equal(store.readUInt32BE(8), 2);
  let offset = 12;
  const aliases: string[] = [];
  for (let k = 0; k < 2; k++) {
    assert.equal(store.readUInt32BE(offset), 2);
    const aliasLength = store.readUInt16BE(offset + 4);
    const alias = store.subarray(offset + 6, offset + 6 + aliasLength).toString('utf8');
    aliases.push(alias);
    offset += 6 + aliasLength;
    const created = Number(store.readBigUInt64BE(offset));
    const typeLength = store.readUInt16BE(offset + 8);
    assert.equal(store.subarray(offset + 10, offset + 10 + typeLength).toString(), 'X509');
    offset += 10 + typeLength;
    const derLength = store.readUInt32BE(offset);
    const der = store.subarray(offset + 4, offset + 4 + derLength);
    offset += 4 + derLength;
    const cert = certs.find((c) => c.der.equals(der));
    assert.ok(cert);
    assert.equal(alias, jksAlias(cert));
    assert.equal(created, cert.notBefore.getTime());
  }
  assert.deepEqual(aliases, [...aliases].sort());
  const password = Buffer.from('my-password', 'utf16le').swap16();
  const digest = createHash('sha1').update(password).update('Mighty Aphrodite').update(store.subarray(0, offset)).digest();
  assert.deepEqual(store.subarray(offset), digest);
});

test('JKS output is deterministic for any password', () => {
  const certs = poolOf(`${TEST_CERTIFICATE_1}\n${TEST_CERTIFICATE_2}`);
  for (const password of [DEFAULT_JKS_PASSWORD, 'my-password', '']) {
    assert.deepEqual(encodeJks(certs, password), encodeJks(certs, password));
  }
  assert.notDeepEqual(encodeJks(certs, 'a'), encodeJks(certs, 'b'));
});

test('keytool lists every certificate of the Debian bundle under its alias', () => {
  const certs = poolOf(readFileSync('/etc/ssl/certs/ca-certificates.crt'));
  const result = runOnStore(encodeJks(certs, DEFAULT_JKS_PASSWORD), 'keytool', ['-list', '-keystore', '{}', '-storepass', DEFAULT_JKS_PASSWORD]);
  assert.equal(result.status, 0, result.stderr);
  assert.match(result.stdout, new RegExp(`Your keystore contains ${certs.length} entries`));
  const listed = result.stdout.split('\n').filter((line) => line.includes('trustedCertEntry'));
  assert.equal(listed.length, certs.length);
  // keytool prints "<alias>, <date>, trustedCertEntry,"; the alias is everything before the date.
  const aliases = new Set(certs.map(jksAlias));
  for (const line of listed) {
    const alias = line.replace(/, [A-Z][a-z]{2} \d{1,2}, \d{4}, trustedCertEntry, $/, '');
    assert.ok(aliases.has(alias), `unexpected alias ${alias}`);
  }
});

test('keytool rejects a wrong password (the digest is checked)', () => {
  const certs = poolOf(TEST_CERTIFICATE_1);
  const result = runOnStore(encodeJks(certs, DEFAULT_JKS_PASSWORD), 'keytool', ['-list', '-keystore', '{}', '-storepass', 'wrong-password']);
  assert.notEqual(result.status, 0);
});
