// Test certificates for every package's tests: generated with @peculiar/x509, ECDSA P-256 (cheap),
// memoized per option set so a test file pays for each distinct certificate once.

import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import type { webcrypto as WebCrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import { encodeCertificatePem } from '../pem.ts';

x509.cryptoProvider.set(webcrypto);

type CryptoKeyPair = WebCrypto.CryptoKeyPair;

export interface TestCertificate {
  /** Canonical PEM ending in a newline. */
  pem: string;
  der: Buffer;
  keys: CryptoKeyPair;
  /** The subject as given, e.g. `CN=root-a`; a child's issuer. */
  name: string;
}

export interface MakeCAOptions {
  cn: string;
  /** Extra RDNs after the CN in x509 string syntax, e.g. `O=cert-manager`. */
  extraName?: string;
  notBefore?: Date;
  notAfter?: Date;
  /** basicConstraints cA; default true. */
  isCA?: boolean;
  /** Signer; default self-signed. */
  issuer?: TestCertificate;
}

const ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const DEFAULT_NOT_BEFORE = new Date('2024-01-01T00:00:00Z');
const DEFAULT_NOT_AFTER = new Date('2124-01-01T00:00:00Z');

const memo = new Map<string, Promise<TestCertificate>>();

async function generate(options: MakeCAOptions): Promise<TestCertificate> {
  const keys = await webcrypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify']);
  const name = options.extraName ? `CN=${options.cn}, ${options.extraName}` : `CN=${options.cn}`;
  const isCA = options.isCA ?? true;
  const cert = await x509.X509CertificateGenerator.create({
    subject: name,
    issuer: options.issuer?.name ?? name,
    notBefore: options.notBefore ?? DEFAULT_NOT_BEFORE,
    notAfter: options.notAfter ?? DEFAULT_NOT_AFTER,
    publicKey: keys.publicKey,
    signingKey: options.issuer?.keys.privateKey ?? keys.privateKey,
    signingAlgorithm: ALGORITHM,
    extensions: [new x509.BasicConstraintsExtension(isCA, undefined, true)],
  });
  const der = Buffer.from(cert.rawData);
  // Canonical PEM with a trailing newline, so fixtures concatenate safely.
  return { pem: encodeCertificatePem(der), der, keys, name };
}

/** A certificate (by default a self-signed CA); same options => same certificate within a process. */
export function makeCA(options: MakeCAOptions): Promise<TestCertificate> {
  const key = JSON.stringify({ ...options, issuer: options.issuer?.pem });
  let result = memo.get(key);
  if (result === undefined) {
    result = generate(options);
    memo.set(key, result);
  }
  return result;
}
