import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { EC_ACC_FINGERPRINT, parseCertificate } from './certificate.ts';
import { bmpString, oid, sequence, setOf, tlv } from './der-encode.ts';
import { PemError, SkippedCertificateError } from './errors.ts';
import { formatName } from './name.ts';
import { decodePemBlocks } from './pem.ts';
import { makeCA } from './testing/fixtures.ts';
import { EC_ACC_CERTIFICATE, TEST_CERTIFICATE_1, TEST_CERTIFICATE_2 } from './testing/upstream-certificates.ts';

const derOf = (pem: string): Buffer => decodePemBlocks(pem)[0]!.bytes;

test('upstream TestCertificate1: subject, dates, CA, self-issued, fingerprint', () => {
  const cert = parseCertificate(derOf(TEST_CERTIFICATE_1));
  assert.equal(cert.subject, 'CN=cmct-test-root,O=cert-manager');
  assert.equal(cert.issuer, 'CN=cmct-test-root,O=cert-manager');
  assert.equal(cert.notBefore.toISOString(), '2022-11-25T13:03:54.000Z');
  assert.equal(cert.notAfter.toISOString(), '2032-11-22T13:03:54.000Z');
  assert.equal(cert.isCA, true);
  assert.equal(cert.selfIssued, true);
  assert.ok(cert.fingerprint.startsWith('548b988f'));
  assert.match(cert.fingerprint, /^[0-9a-f]{64}$/);
});

test('same subject, different certificates: different fingerprints', () => {
  const one = parseCertificate(derOf(TEST_CERTIFICATE_1));
  const two = parseCertificate(derOf(TEST_CERTIFICATE_2));
  assert.equal(one.subject, two.subject);
  assert.notEqual(one.fingerprint, two.fingerprint);
});

test('parsed certificates are cached by fingerprint', () => {
  const der = derOf(TEST_CERTIFICATE_2);
  const first = parseCertificate(der);
  const second = parseCertificate(Buffer.from(der));
  assert.equal(first, second);
  assert.ok(Object.isFrozen(first));
});

test('EC-ACC (negative serial) is signalled as skipped, not invalid', () => {
  const der = derOf(EC_ACC_CERTIFICATE);
  assert.throws(
    () => parseCertificate(der),
    (err: unknown) =>
      err instanceof SkippedCertificateError &&
      err.message ===
        `cert in bundle with CN=EC-ACC and fingerprint '${EC_ACC_FINGERPRINT}' has negative serial number and will be skipped`,
  );
});

test('any other negative serial number is an invalid certificate', () => {
  const der = Buffer.from(derOf(TEST_CERTIFICATE_1));
  // TBS: 30 82 01 39 | a0 03 02 01 02 | 02 10 <serial>; flip the serial's sign bit.
  const serialOffset = der.indexOf(Buffer.from([0x02, 0x10]), 8) + 2;
  der[serialOffset] = der[serialOffset]! | 0x80;
  assert.throws(() => parseCertificate(der), {
    name: 'PemError',
    message: 'invalid PEM block in bundle; invalid PEM certificate: x509: negative serial number',
  });
});

test('garbage and trailing data are rejected with Go texts', () => {
  assert.throws(() => parseCertificate(Buffer.from('not a certificate')), {
    message: 'invalid PEM block in bundle; invalid PEM certificate: x509: malformed certificate',
  });
  assert.throws(() => parseCertificate(Buffer.alloc(0)), PemError);
  assert.throws(() => parseCertificate(Buffer.concat([derOf(TEST_CERTIFICATE_1), Buffer.from([0])])), {
    message: 'invalid PEM block in bundle; invalid PEM certificate: x509: trailing data',
  });
  const truncated = derOf(TEST_CERTIFICATE_1).subarray(0, 100);
  assert.throws(() => parseCertificate(truncated), PemError);
});

test('non-CA and chained fixtures report isCA and selfIssued', async () => {
  const root = await makeCA({ cn: 'cert-test-root' });
  const leaf = await makeCA({ cn: 'cert-test-leaf', isCA: false, issuer: root });
  const parsedRoot = parseCertificate(root.der);
  const parsedLeaf = parseCertificate(leaf.der);
  assert.equal(parsedRoot.isCA, true);
  assert.equal(parsedRoot.selfIssued, true);
  assert.equal(parsedLeaf.isCA, false);
  assert.equal(parsedLeaf.selfIssued, false);
  assert.equal(parsedLeaf.issuer, 'CN=cert-test-root');
});

// Name DER builders for Go pkix.Name.String() cases.
const atv = (type: string, value: Buffer): Buffer => sequence(oid(type), value);
const printable = (s: string): Buffer => tlv(0x13, Buffer.from(s, 'latin1'));
const utf8 = (s: string): Buffer => tlv(0x0c, Buffer.from(s, 'utf8'));
const nameOf = (...rdns: Buffer[][]): Buffer => sequence(...rdns.map((rdn) => setOf(...rdn)));

test('names print in Go order: extras last, fields in ToRDNSequence order, reversed', () => {
  const name = nameOf(
    [atv('2.5.4.3', printable('first-cn'))],
    [atv('0.9.2342.19200300.100.1.25', tlv(0x16, Buffer.from('example')))],
    [atv('2.5.4.10', printable('Org'))],
    [atv('2.5.4.6', printable('DE'))],
    [atv('2.5.4.11', printable('Unit A'))],
    [atv('2.5.4.11', printable('Unit B'))],
    [atv('2.5.4.3', printable('last-cn'))],
  );
  assert.equal(
    formatName(name),
    'CN=last-cn,OU=Unit A+OU=Unit B,O=Org,C=DE,0.9.2342.19200300.100.1.25=#13076578616d706c65',
  );
});

test('names escape as Go does and print unknown non-printable values as UTF8String DER', () => {
  assert.equal(formatName(nameOf([atv('2.5.4.3', utf8(' a,b+c"d\\e<f>g;h # '))])), 'CN=\\ a\\,b\\+c\\"d\\\\e\\<f\\>g\\;h #\\ ');
  assert.equal(formatName(nameOf([atv('2.5.4.3', utf8('#x'))])), 'CN=\\#x');
  assert.equal(formatName(nameOf([atv('1.2.3', utf8('é'))])), '1.2.3=#0c02c3a9');
  assert.equal(formatName(nameOf([atv('1.2.3', utf8('a*'))])), '1.2.3=#0c02612a');
  assert.equal(formatName(nameOf([atv('2.5.4.3', bmpString('Bmp'))])), 'CN=Bmp');
  assert.equal(formatName(nameOf([atv('2.5.4.3', tlv(0x14, Buffer.from([0xe9])))])), 'CN=é');
  assert.equal(formatName(nameOf([atv('2.5.4.3', printable(''))], [atv('2.5.4.10', printable(''))])), 'O=');
  assert.equal(formatName(nameOf()), '');
});

test('names with unsupported or invalid strings are rejected with Go texts', () => {
  assert.throws(() => formatName(nameOf([atv('2.5.4.3', tlv(0x1c, Buffer.from('abcd')))])), {
    message: 'x509: invalid RDNSequence: invalid attribute value: unsupported string type: 28',
  });
  assert.throws(() => formatName(nameOf([atv('2.5.4.3', printable('bad_underscore'))])), {
    message: 'x509: invalid RDNSequence: invalid attribute value: invalid PrintableString',
  });
  assert.throws(() => formatName(nameOf([atv('2.5.4.3', tlv(0x0c, Buffer.from([0xff])))])), {
    message: 'x509: invalid RDNSequence: invalid attribute value: invalid UTF-8 string',
  });
  assert.throws(() => formatName(Buffer.from([0x31, 0x00])), { message: 'x509: invalid RDNSequence' });
});

test('every Debian root parses; dates and self-issued agree with OpenSSL', () => {
  const blocks = decodePemBlocks(readFileSync('/etc/ssl/certs/ca-certificates.crt'));
  assert.ok(blocks.length > 100);
  for (const { bytes } of blocks) {
    const ours = parseCertificate(bytes);
    const openssl = new X509Certificate(bytes);
    assert.equal(ours.notBefore.getTime(), openssl.validFromDate.getTime(), ours.subject);
    assert.equal(ours.notAfter.getTime(), openssl.validToDate.getTime(), ours.subject);
    assert.equal(ours.selfIssued, openssl.checkIssued(openssl), ours.subject);
    assert.equal(ours.fingerprint, openssl.fingerprint256.replaceAll(':', '').toLowerCase());
  }
});

test('fixture names with extra RDNs print in Go form', async () => {
  const cert = await makeCA({ cn: 'cmct-fixture', extraName: 'O=cert-manager' });
  assert.equal(parseCertificate(cert.der).subject, 'CN=cmct-fixture,O=cert-manager');
});
