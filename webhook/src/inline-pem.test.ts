import assert from 'node:assert/strict';
import { test } from 'node:test';

import { EC_ACC_FINGERPRINT } from '@trust-manager/shared/certs/certificate.ts';
import { CertPool } from '@trust-manager/shared/certs/pool.ts';
import { makeCA } from '@trust-manager/shared/certs/testing/fixtures.ts';
import { EC_ACC_CERTIFICATE, TEST_CERTIFICATE_1 } from '@trust-manager/shared/certs/testing/upstream-certificates.ts';

import { checkInLinePem, MAX_MESSAGES_PER_SOURCE } from './inline-pem.ts';
import { validateBundle } from './validate.ts';

const now = new Date('2026-06-01T00:00:00Z');

function pemBlock(type: string, body: string, headers = ''): string {
  return `-----BEGIN ${type}-----\n${headers}${body}\n-----END ${type}-----\n`;
}

test('a self-signed valid CA passes without warnings; junk around it is ignored like Go', async () => {
  const root = await makeCA({ cn: 'root-ok', extraName: 'O=cert-manager' });
  assert.deepEqual(checkInLinePem(`# comment\n${root.pem}trailing junk\n`, now), { problems: [], warnings: [], nonCACertificates: 0 });
});

test('warnings: expired, not yet valid, non-CA, intermediate; each names the subject', async () => {
  const expired = await makeCA({ cn: 'old-root', notBefore: new Date('2020-01-01T00:00:00Z'), notAfter: new Date('2025-01-01T00:00:00Z') });
  const future = await makeCA({ cn: 'future-root', notBefore: new Date('2030-01-01T00:00:00Z') });
  const root = await makeCA({ cn: 'root-i' });
  const intermediate = await makeCA({ cn: 'intermediate', issuer: root });
  const leaf = await makeCA({ cn: 'leaf', isCA: false, issuer: intermediate });
  const result = checkInLinePem(expired.pem + future.pem + intermediate.pem + leaf.pem, now);
  assert.deepEqual(result.problems, []);
  assert.equal(result.nonCACertificates, 1);
  assert.deepEqual(result.warnings, [
    'certificate "CN=old-root" expired at 2025-01-01T00:00:00Z',
    'certificate "CN=future-root" is not valid before 2030-01-01T00:00:00Z',
    'certificate "CN=intermediate" is an intermediate CA issued by "CN=root-i", not a self-signed root; trust the root instead',
    'certificate "CN=leaf" is not a CA certificate (basicConstraints CA is not true); it cannot anchor a chain',
  ]);
});

test('denials: private key, other block types, PEM headers, undecodable DER', async () => {
  const root = await makeCA({ cn: 'root-d' });
  const body = root.pem.split('\n').slice(1, -2).join('\n');
  const result = checkInLinePem(
    root.pem + pemBlock('RSA PRIVATE KEY', 'AAAA') + pemBlock('X509 CRL', 'AAAA') + pemBlock('CERTIFICATE', body, 'Proc-Type: 4,ENCRYPTED\n\n') + pemBlock('CERTIFICATE', 'MAMCAQA='),
    now,
  );
  assert.equal(result.problems.length, 4);
  assert.equal(result.problems[0], "invalid PEM block in bundle: only CERTIFICATE blocks are permitted but found 'RSA PRIVATE KEY' (block 2; a private key must never be put in a Bundle)");
  assert.equal(result.problems[1], "invalid PEM block in bundle: only CERTIFICATE blocks are permitted but found 'X509 CRL' (block 3)");
  assert.equal(result.problems[2], 'invalid PEM block in bundle; blocks are not permitted to have PEM headers (block 4)');
  assert.equal(result.problems[3], 'invalid PEM block in bundle; invalid PEM certificate: x509: malformed tbs certificate (block 5)');
});

test('undecodable DER: the upstream text once, then where (no doubled prefix)', () => {
  assert.deepEqual(checkInLinePem(pemBlock('CERTIFICATE', 'AAAA'), now), {
    problems: ['invalid PEM block in bundle; invalid PEM certificate: x509: malformed certificate (block 1)'],
    warnings: [],
    nonCACertificates: 0,
  });
});

test('the EC-ACC root is accepted, as the controller accepts it, with a warning that it is skipped', () => {
  assert.deepEqual(checkInLinePem(`${EC_ACC_CERTIFICATE}\n${TEST_CERTIFICATE_1}`, now).problems, []);
  assert.deepEqual(checkInLinePem(EC_ACC_CERTIFICATE, now), {
    problems: [],
    warnings: [
      `block 1: cert in bundle with CN=EC-ACC and fingerprint '${EC_ACC_FINGERPRINT}' has negative serial number and will be skipped`,
    ],
    nonCACertificates: 0,
  });
});

test('the webhook denies exactly what the controller would fail on, with the same upstream text', async () => {
  const root = await makeCA({ cn: 'agree' });
  const body = root.pem.split('\n').slice(1, -2).join('\n');
  const inputs = [
    root.pem,
    `${EC_ACC_CERTIFICATE}\n${root.pem}`,
    root.pem + pemBlock('EC PRIVATE KEY', 'AAAA'),
    pemBlock('CERTIFICATE', body, 'Key: value\n\n'),
    pemBlock('CERTIFICATE', 'AAAA') + root.pem,
    pemBlock('CERTIFICATE', 'MAMCAQA='),
  ];
  for (const input of inputs) {
    let controllerError: string | undefined;
    try {
      new CertPool().addPem(input);
    } catch (err) {
      controllerError = (err as Error).message;
    }
    const firstProblem = checkInLinePem(input, now).problems[0];
    assert.equal(firstProblem?.replace(/ \(block \d+(;[^)]*)?\)$/, ''), controllerError, input);
  }
});

test('no certificate at all is denied, long lists are capped', async () => {
  assert.deepEqual(checkInLinePem('just text', now), {
    problems: ['no PEM-encoded certificate found; an inLine source must contain at least one -----BEGIN CERTIFICATE----- block'],
    warnings: [],
    nonCACertificates: 0,
  });
  const leaf = await makeCA({ cn: 'many-leaf', isCA: false });
  const many = Array.from({ length: 25 }, () => leaf.pem).join('');
  const { warnings, nonCACertificates } = checkInLinePem(many, now);
  assert.equal(nonCACertificates, 25, 'every non-CA block counts, not only the warned ones');
  assert.equal(warnings.length, MAX_MESSAGES_PER_SOURCE);
  assert.equal(warnings.at(-1), `and ${25 - MAX_MESSAGES_PER_SOURCE + 1} more certificate warnings`);
});

test('validateBundle denies bad inLine at its path without echoing it, and prefixes warnings', async () => {
  const intermediate = await makeCA({ cn: 'mid', issuer: await makeCA({ cn: 'top' }) });
  const object = {
    apiVersion: 'trust.cert-manager.io/v1alpha1',
    kind: 'Bundle',
    metadata: { name: 'b' },
    spec: { sources: [{ inLine: intermediate.pem }, { inLine: pemBlock('PRIVATE KEY', 'c2VjcmV0LWtleS1ieXRlcw==') }], target: { configMap: { key: 'ca.crt' } } },
  };
  const result = validateBundle(object, { trustNamespace: 'trust', sourceNamespaces: [], now });
  assert.deepEqual(
    result.errors.map((error) => `${error.field}: ${error.detail}`),
    ["spec.sources[1].inLine: invalid PEM block in bundle: only CERTIFICATE blocks are permitted but found 'PRIVATE KEY' (block 1; a private key must never be put in a Bundle)"],
  );
  assert.equal('badValue' in (result.errors[0] ?? {}), false);
  assert.deepEqual(result.warnings, ['spec.sources[0].inLine: certificate "CN=mid" is an intermediate CA issued by "CN=top", not a self-signed root; trust the root instead']);
});
