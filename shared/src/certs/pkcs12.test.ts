import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import type { Certificate } from './certificate.ts';
import { trustStoreAlias } from './jks.ts';
import { encodePkcs12, type Pkcs12Profile } from './pkcs12.ts';
import { pkcs12Kdf } from './pkcs12-kdf.ts';
import { CertPool } from './pool.ts';
import { opensslHasLegacyProvider, runOnStore } from './testing/tools.ts';
import { TEST_CERTIFICATE_1, TEST_CERTIFICATE_2 } from './testing/upstream-certificates.ts';

function poolOf(pem: string | Buffer): Certificate[] {
  const pool = new CertPool();
  pool.addPem(pem);
  return pool.certificates();
}

const SMALL = poolOf(`${TEST_CERTIFICATE_1}\n${TEST_CERTIFICATE_2}`);
const DEBIAN = poolOf(readFileSync('/etc/ssl/certs/ca-certificates.crt'));
const PROFILES: Pkcs12Profile[] = ['', 'LegacyRC2', 'LegacyDES', 'Modern2023'];

function opensslInfo(store: Buffer, password: string, legacy: boolean) {
  return runOnStore(store, 'openssl', ['pkcs12', '-info', '-nokeys', '-in', '{}', '-passin', `pass:${password}`, ...(legacy ? ['-legacy'] : [])]);
}

function keytoolList(store: Buffer, password: string) {
  return runOnStore(store, 'keytool', ['-list', '-storetype', 'PKCS12', '-keystore', '{}', '-storepass', password]);
}

test('password-less output is deterministic whatever the profile; with a password it is not', () => {
  for (const profile of PROFILES) {
    const first = encodePkcs12(SMALL, '', profile);
    assert.deepEqual(encodePkcs12(SMALL, '', profile), first, profile);
    assert.deepEqual(encodePkcs12(SMALL, '', 'Modern2023'), first, 'profile is ignored without password');
    assert.notDeepEqual(encodePkcs12(SMALL, 'my-password', profile), encodePkcs12(SMALL, 'my-password', profile), profile);
  }
});

test('the profile decides the cipher; the empty profile means LegacyRC2', () => {
  const fixed = (n: number) => Buffer.alloc(n, 7);
  assert.deepEqual(encodePkcs12(SMALL, 'pw', '', fixed), encodePkcs12(SMALL, 'pw', 'LegacyRC2', fixed));
  assert.notDeepEqual(encodePkcs12(SMALL, 'pw', 'LegacyDES', fixed), encodePkcs12(SMALL, 'pw', 'LegacyRC2', fixed));
  assert.throws(() => encodePkcs12(SMALL, 'pw', 'Bogus' as Pkcs12Profile), RangeError);
});

test('password-less store opens in OpenSSL without MAC and in keytool with every certificate trusted', () => {
  const store = encodePkcs12(DEBIAN, '', 'LegacyRC2');
  const info = opensslInfo(store, '', false);
  assert.equal(info.status, 0, info.stderr);
  assert.match(info.stderr + info.stdout, /MAC is absent/);
  assert.equal(info.stdout.match(/-----BEGIN CERTIFICATE-----/g)?.length, DEBIAN.length);
  const list = keytoolList(store, '');
  assert.equal(list.status, 0, list.stderr);
  assert.equal(list.stdout.match(/trustedCertEntry/g)?.length, DEBIAN.length);
});

for (const profile of ['LegacyRC2', 'LegacyDES', 'Modern2023'] as const) {
  test(`${profile}: OpenSSL verifies the MAC and decrypts; keytool sees trusted entries`, (t) => {
    const password = 'changeit';
    const store = encodePkcs12(DEBIAN, password, profile);
    const legacy = profile === 'LegacyRC2';
    if (legacy && !opensslHasLegacyProvider()) {
      t.diagnostic('OpenSSL legacy provider missing: RC2 checked with keytool only');
    } else {
      const info = opensslInfo(store, password, legacy);
      assert.equal(info.status, 0, info.stderr);
      assert.equal(info.stdout.match(/-----BEGIN CERTIFICATE-----/g)?.length, DEBIAN.length);
      const expected = {
        LegacyRC2: /MAC: sha1, Iteration 1[\s\S]*pbeWithSHA1And40BitRC2-CBC, Iteration 2048/,
        LegacyDES: /MAC: sha1, Iteration 1[\s\S]*pbeWithSHA1And3-KeyTripleDES-CBC, Iteration 2048/,
        Modern2023: /MAC: sha256, Iteration 2048[\s\S]*PBES2, PBKDF2, AES-256-CBC, Iteration 2048, PRF hmacWithSHA256/,
      }[profile];
      assert.match(info.stderr, expected);
      // Every bag carries the friendlyName alias (not lower-cased) and the Java trust attribute.
      const first = DEBIAN[0]!;
      assert.ok(info.stdout.includes(`friendlyName: ${trustStoreAlias(first)}`));
      assert.equal(info.stdout.match(/2\.16\.840\.1\.113894\.746875\.1\.1/g)?.length, DEBIAN.length);
      const wrong = opensslInfo(store, 'wrong', legacy);
      assert.notEqual(wrong.status, 0);
    }
    const list = keytoolList(store, password);
    assert.equal(list.status, 0, list.stderr);
    assert.equal(list.stdout.match(/trustedCertEntry/g)?.length, DEBIAN.length);
    assert.ok(list.stdout.toLowerCase().includes(trustStoreAlias(DEBIAN[0]!).toLowerCase()));
  });
}

test('PKCS#12 KDF matches known answers (RFC 7292 B.2; values from OpenSSL PKCS12KDF)', () => {
  const password = Buffer.from('0073006d006500670000', 'hex'); // "smeg" as BMPString + terminator
  const salt = Buffer.from('0a58cf64530d823f', 'hex');
  assert.equal(pkcs12Kdf('sha1', password, salt, 1, 1, 24).toString('hex'), '8aaae6297b6cb04642ab5b077851284eb7128f1a2a7fbca3');
  // 100 bytes with SHA-256 spans four hash outputs, exercising the I_j update between blocks.
  assert.equal(
    pkcs12Kdf('sha256', password, salt, 3, 3, 100).toString('hex'),
    '7e9ac472ca5cd7caa9256a171cae16bb0ade4deab4c52e40a8110b138ecbed7e7632c78f98d6ab38f2c787bc3800cd53be66302424e3e901c472d5aee0c7cdbf8e0e8eeee7e8f82ebc4ff8d6aacdee3fd77f97a749f67ffbd49d87a6643bc1bdf1477f1a',
  );
});
