import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { PemError } from './errors.ts';
import { decodePemBlocks } from './pem.ts';
import { CertPool, summarizeCertificates } from './pool.ts';
import { makeCA } from './testing/fixtures.ts';
import { prng, randomBytesFrom } from './testing/prng.ts';
import { EC_ACC_CERTIFICATE, TEST_CERTIFICATE_1, TEST_CERTIFICATE_2 } from './testing/upstream-certificates.ts';

const DEBIAN_BUNDLE = '/etc/ssl/certs/ca-certificates.crt';
const PRIVATE_KEY = `-----BEGIN PRIVATE KEY-----
MC4CAQAwBQYDK2VwBCIEIDm1GPJ4c5cYyjYYX6sxvCgiV8Yi8Fh3Zv6V1IxkzlcS
-----END PRIVATE KEY-----`;

test('comments and invalid bytes between certificates are stripped', () => {
  const pool = new CertPool();
  pool.addPem(Buffer.concat([Buffer.from('# comment\n'), Buffer.from([0xff, 0x00, 0x0a]), Buffer.from(TEST_CERTIFICATE_1), Buffer.from('\nmore junk')]));
  assert.equal(pool.size, 1);
  assert.equal(pool.toPem(), TEST_CERTIFICATE_1);
});

test('null or undefined data is an error; input without blocks adds nothing', () => {
  assert.throws(() => new CertPool().addPem(null), { name: 'PemError', message: "certificate data can't be nil" });
  assert.throws(() => new CertPool().addPem(undefined), PemError);
  const pool = new CertPool();
  pool.addPem('');
  pool.addPem('no certificates here');
  assert.equal(pool.size, 0);
  assert.equal(pool.toPem(), '');
  assert.deepEqual(summarizeCertificates(pool.certificates()), { count: 0 });
});

test('non-certificate blocks, headers and bad DER are rejected with upstream texts', () => {
  assert.throws(() => new CertPool().addPem(PRIVATE_KEY), {
    message: "invalid PEM block in bundle: only CERTIFICATE blocks are permitted but found 'PRIVATE KEY'",
  });
  const withHeader = TEST_CERTIFICATE_1.replace('-----\n', '-----\nKey: value\n\n');
  assert.throws(() => new CertPool().addPem(withHeader), {
    message: 'invalid PEM block in bundle; blocks are not permitted to have PEM headers',
  });
  assert.throws(() => new CertPool().addPem('-----BEGIN CERTIFICATE-----\naGVsbG8=\n-----END CERTIFICATE-----\n'), {
    message: 'invalid PEM block in bundle; invalid PEM certificate: x509: malformed certificate',
  });
});

test('addPem is all-or-nothing per call', () => {
  const pool = new CertPool();
  pool.addPem(TEST_CERTIFICATE_1);
  assert.throws(() => pool.addPem(`${TEST_CERTIFICATE_2}\n${PRIVATE_KEY}`), PemError);
  assert.equal(pool.size, 1);
  assert.equal(pool.toPem(), TEST_CERTIFICATE_1);
});

test('EC-ACC is skipped (reported), the rest of the input is kept', () => {
  const skipped: string[] = [];
  const pool = new CertPool({ onSkip: (message) => skipped.push(message) });
  pool.addPem(`${EC_ACC_CERTIFICATE}\n${TEST_CERTIFICATE_1}`);
  assert.equal(pool.size, 1);
  assert.equal(skipped.length, 1);
  assert.match(skipped[0]!, /CN=EC-ACC/);
});

test('duplicates are removed by DER hash; output is sorted by SHA-256 with no trailing newline', () => {
  const pool = new CertPool();
  pool.addPem(`${TEST_CERTIFICATE_2}\n${TEST_CERTIFICATE_1}`);
  pool.addPem(`${TEST_CERTIFICATE_1}\r\n\r\n${TEST_CERTIFICATE_2}\n\n\n`);
  assert.equal(pool.size, 2);
  const fingerprints = pool.certificates().map((c) => c.fingerprint);
  assert.deepEqual(fingerprints, [...fingerprints].sort());
  const pem = pool.toPem();
  assert.ok(!pem.endsWith('\n'));
  assert.equal(pem.split('-----END CERTIFICATE-----\n-----BEGIN CERTIFICATE-----').length, 2);

  const reversed = new CertPool();
  reversed.addPem(`${TEST_CERTIFICATE_1}\n${TEST_CERTIFICATE_2}`);
  assert.equal(reversed.toPem(), pem);
});

test('expiry filter drops certificates with now > notAfter only when enabled', async () => {
  const expired = await makeCA({ cn: 'pool-expired', notBefore: new Date('2020-01-01Z'), notAfter: new Date('2021-01-01Z') });
  const valid = await makeCA({ cn: 'pool-valid' });
  const input = expired.pem + valid.pem;
  const filtered = new CertPool({ filterExpired: true, now: new Date('2022-01-01Z') });
  filtered.addPem(input);
  assert.deepEqual(filtered.certificates().map((c) => c.subject), ['CN=pool-valid']);
  const atExpiry = new CertPool({ filterExpired: true, now: new Date('2021-01-01Z') });
  atExpiry.addPem(input);
  assert.equal(atExpiry.size, 2);
  const unfiltered = new CertPool();
  unfiltered.addPem(input);
  assert.equal(unfiltered.size, 2);
  assert.deepEqual(summarizeCertificates(unfiltered.certificates()), { count: 2, earliestNotAfter: new Date('2021-01-01T00:00:00.000Z') });
});

test('non-CA filter keeps only basicConstraints CA certificates when enabled', async () => {
  const root = await makeCA({ cn: 'pool-root' });
  const leaf = await makeCA({ cn: 'pool-leaf', isCA: false, issuer: root });
  const filtered = new CertPool({ filterNonCA: true });
  filtered.addPem(root.pem + leaf.pem);
  assert.deepEqual(filtered.certificates().map((c) => c.subject), ['CN=pool-root']);
  const unfiltered = new CertPool();
  unfiltered.addPem(root.pem + leaf.pem);
  assert.equal(unfiltered.size, 2);
});

test('the Debian bundle round-trips and matches OpenSSL’s count', () => {
  const pool = new CertPool();
  pool.addPem(readFileSync(DEBIAN_BUNDLE));
  const again = new CertPool();
  again.addPem(pool.toPem());
  assert.deepEqual(
    again.certificates().map((c) => c.fingerprint),
    pool.certificates().map((c) => c.fingerprint),
  );
  assert.equal(again.toPem(), pool.toPem());
  const printed = execFileSync('sh', ['-c', `openssl crl2pkcs7 -nocrl -certfile ${DEBIAN_BUNDLE} | openssl pkcs7 -print_certs -noout`], {
    encoding: 'utf8',
  });
  const opensslCount = printed.split('\n').filter((line) => line.startsWith('subject=')).length;
  assert.ok(opensslCount > 100);
  assert.equal(pool.size, opensslCount);
});

test('property: random and mutated PEM only ever fails with PemError', () => {
  const valid = `${TEST_CERTIFICATE_1}\n${TEST_CERTIFICATE_2}\n`;
  for (let seed = 1; seed <= 500; seed++) {
    const next = prng(seed);
    const mutated = Buffer.from(valid);
    const flips = 1 + Math.floor(next() * 4);
    for (let k = 0; k < flips; k++) mutated[Math.floor(next() * mutated.length)] = Math.floor(next() * 256);
    const cutAt = Math.floor(next() * valid.length);
    // A block whose base64 decodes to random bytes exercises the DER walker.
    const randomDer = `-----BEGIN CERTIFICATE-----\n${randomBytesFrom(next, Math.floor(next() * 600)).toString('base64')}\n-----END CERTIFICATE-----\n`;
    for (const input of [mutated, valid.slice(0, cutAt), randomDer, randomBytesFrom(next, 512)]) {
      try {
        new CertPool().addPem(input);
      } catch (err) {
        assert.ok(err instanceof PemError, `seed ${seed}: ${String(err)}`);
      }
    }
  }
});

test('every DER prefix of a real certificate fails cleanly', () => {
  const der = decodePemBlocks(TEST_CERTIFICATE_1)[0]!.bytes;
  for (let length = 0; length < der.length; length++) {
    assert.throws(() => new CertPool().addPem(`-----BEGIN CERTIFICATE-----\n${der.subarray(0, length).toString('base64')}\n-----END CERTIFICATE-----`), PemError);
  }
});
