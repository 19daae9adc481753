// One X.509 certificate as trust-manager sees it, parsed with Go's x509.ParseCertificate rules where
// they decide acceptance (upstream 4.4). A small strict-DER walk reads the fields we need; Node's
// OpenSSL-backed X509Certificate validates the rest of the structure (keys, signature) cheaply.
// Parsed certificates are cached by fingerprint, so rebuilding an unchanged bundle parses nothing.

import { X509Certificate, createHash } from 'node:crypto';
import { parseGeneralizedTime, parseUtcTime } from './asn1-time.ts';
import {
  DerReader,
  TAG_BIT_STRING,
  TAG_BOOLEAN,
  TAG_GENERALIZED_TIME,
  TAG_INTEGER,
  TAG_OCTET_STRING,
  TAG_OID,
  TAG_SEQUENCE,
  TAG_UTC_TIME,
  decodeOid,
  integerSign,
} from './der.ts';
import { PemError, SkippedCertificateError } from './errors.ts';
import { NameError, formatName } from './name.ts';

export interface Certificate {
  der: Buffer;
  /** Lower-hex SHA-256 of the DER. */
  fingerprint: string;
  /** Go pkix.Name.String() form, e.g. CN=cmct-test-root,O=cert-manager. */
  subject: string;
  issuer: string;
  notBefore: Date;
  notAfter: Date;
  /** basicConstraints CA flag is true. */
  isCA: boolean;
  /** Subject DER equals issuer DER. */
  selfIssued: boolean;
}

/** The EC-ACC root: negative serial number, skipped rather than rejected (upstream pkg/compat). */
export const EC_ACC_FINGERPRINT = '88497f01602f3154246ae28c4d5aef10f1d87ebb76626f4ae0b7f95ba7968799';

const TAG_VERSION = 0xa0;
const TAG_ISSUER_UNIQUE_ID = 0x81;
const TAG_SUBJECT_UNIQUE_ID = 0x82;
const TAG_EXTENSIONS = 0xa3;
const OID_BASIC_CONSTRAINTS = '2.5.29.19';

/** A Go x509 error text, wrapped into the upstream PemError at the boundary. */
class X509Error extends Error {}

function fail(reason: string): never {
  throw new X509Error(reason);
}

function readTime(validity: DerReader): Date {
  const tag = validity.peekTag();
  if (tag === TAG_UTC_TIME) {
    const element = validity.readAny();
    const time = element && parseUtcTime(element.contents);
    return time ?? fail('x509: malformed UTCTime');
  }
  if (tag === TAG_GENERALIZED_TIME) {
    const element = validity.readAny();
    const time = element && parseGeneralizedTime(element.contents);
    return time ?? fail('x509: malformed GeneralizedTime');
  }
  return fail('x509: unsupported time format');
}

function readName(element: Buffer): string {
  try {
    return formatName(element);
  } catch (err) {
    if (err instanceof NameError) fail(err.message);
    throw err;
  }
}

/** Go parseBasicConstraintsExtension: the cA flag. */
function basicConstraintsIsCA(value: Buffer): boolean {
  const sequence = new DerReader(value).read(TAG_SEQUENCE) ?? fail('x509: invalid basic constraints');
  const fields = new DerReader(sequence.contents);
  if (fields.peekTag() !== TAG_BOOLEAN) return false;
  const flag = fields.readAny();
  // DER booleans are exactly 0x00 or 0xff.
  if (flag === undefined || flag.contents.length !== 1 || (flag.contents[0] !== 0 && flag.contents[0] !== 0xff)) {
    fail('x509: invalid basic constraints');
  }
  return flag.contents[0] === 0xff;
}

/** Walks the extensions the way Go does: structure, duplicate OIDs, basicConstraints. */
function readIsCA(extensions: Buffer): boolean {
  const sequence = new DerReader(extensions).read(TAG_SEQUENCE) ?? fail('x509: malformed extensions');
  const reader = new DerReader(sequence.contents);
  const seen = new Set<string>();
  let isCA = false;
  while (!reader.empty) {
    const extension = reader.read(TAG_SEQUENCE) ?? fail('x509: malformed extension');
    const fields = new DerReader(extension.contents);
    const oidElement = fields.read(TAG_OID);
    const oid = (oidElement && decodeOid(oidElement.contents)) ?? fail('x509: malformed extension OID field');
    if (fields.readOptional(TAG_BOOLEAN) === undefined) fail('x509: malformed extension critical field');
    const value = fields.read(TAG_OCTET_STRING) ?? fail('x509: malformed extension value field');
    if (seen.has(oid)) fail(`x509: certificate contains duplicate extension with OID "${oid}"`);
    seen.add(oid);
    if (oid === OID_BASIC_CONSTRAINTS) isCA = basicConstraintsIsCA(value.contents);
  }
  return isCA;
}

/** Go x509.ParseCertificate (the parts that decide acceptance) plus our projection. */
function parseUncached(der: Buffer, fingerprint: string): Certificate {
  const outer = new DerReader(der);
  const certificate = outer.read(TAG_SEQUENCE) ?? fail('x509: malformed certificate');
  if (!outer.empty) fail('x509: trailing data');
  const input = new DerReader(certificate.contents);
  const tbsElement = input.read(TAG_SEQUENCE) ?? fail('x509: malformed tbs certificate');
  const tbs = new DerReader(tbsElement.contents);

  let version = 1;
  const versionElement = tbs.readOptional(TAG_VERSION);
  if (versionElement === undefined) fail('x509: malformed version');
  if (versionElement !== null) {
    const integer = new DerReader(versionElement.contents).read(TAG_INTEGER);
    const sign = integer && integerSign(integer.contents);
    if (integer === undefined || sign === undefined || integer.contents.length > 4) fail('x509: malformed version');
    if (sign < 0) fail('x509: malformed version');
    version = integer.contents.readUIntBE(0, integer.contents.length) + 1;
    if (version > 3) fail('x509: invalid version');
  }

  const serial = tbs.read(TAG_INTEGER);
  const serialSign = serial && integerSign(serial.contents);
  if (serialSign === undefined) fail('x509: malformed serial number');
  if (serialSign < 0) {
    if (fingerprint === EC_ACC_FINGERPRINT) {
      throw new SkippedCertificateError(
        `cert in bundle with CN=EC-ACC and fingerprint '${EC_ACC_FINGERPRINT}' has negative serial number and will be skipped`,
      );
    }
    fail('x509: negative serial number');
  }

  const innerAlgorithm = tbs.read(TAG_SEQUENCE) ?? fail('x509: malformed signature algorithm identifier');
  const outerAlgorithm = input.read(TAG_SEQUENCE) ?? fail('x509: malformed algorithm identifier');
  if (!innerAlgorithm.element.equals(outerAlgorithm.element)) {
    fail("x509: inner and outer signature algorithm identifiers don't match");
  }

  const issuerElement = tbs.read(TAG_SEQUENCE) ?? fail('x509: malformed issuer');
  const issuer = readName(issuerElement.element);
  const validityElement = tbs.read(TAG_SEQUENCE) ?? fail('x509: malformed validity');
  const validity = new DerReader(validityElement.contents);
  const notBefore = readTime(validity);
  const notAfter = readTime(validity);
  const subjectElement = tbs.read(TAG_SEQUENCE) ?? fail('x509: malformed subject');
  const subject = readName(subjectElement.element);
  if (tbs.read(TAG_SEQUENCE) === undefined) fail('x509: malformed spki');

  let isCA = false;
  if (version > 1) {
    if (tbs.readOptional(TAG_ISSUER_UNIQUE_ID) === undefined) fail('x509: malformed issuerUniqueID');
    if (tbs.readOptional(TAG_SUBJECT_UNIQUE_ID) === undefined) fail('x509: malformed subjectUniqueID');
    if (version === 3) {
      const extensions = tbs.readOptional(TAG_EXTENSIONS);
      if (extensions === undefined) fail('x509: malformed extensions');
      if (extensions !== null) isCA = readIsCA(extensions.contents);
    }
  }
  if (input.read(TAG_BIT_STRING) === undefined) fail('x509: malformed signature');

  // Everything Go checks beyond the fields above (public key encodings and the like) is left to OpenSSL.
  try {
    new X509Certificate(der);
  } catch {
    fail('x509: malformed certificate');
  }

  return Object.freeze({
    der,
    fingerprint,
    subject,
    issuer,
    notBefore,
    notAfter,
    isCA,
    selfIssued: subjectElement.element.equals(issuerElement.element),
  });
}

/** Bounded LRU by count: a rebuild of an unchanged bundle hits for every certificate. */
const CACHE_LIMIT = 4096;
const cache = new Map<string, Certificate>();

/** Forgets every parsed certificate (benchmarks measure cold builds with it). */
export function clearCertificateCache(): void {
  cache.clear();
}

export function sha256Hex(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/**
 * Parses one DER certificate. Throws PemError with the upstream text for anything Go's x509 would
 * reject, and SkippedCertificateError for the EC-ACC special case.
 */
export function parseCertificate(der: Uint8Array): Certificate {
  const fingerprint = sha256Hex(der);
  const cached = cache.get(fingerprint);
  if (cached !== undefined) {
    cache.delete(fingerprint);
    cache.set(fingerprint, cached);
    return cached;
  }
  let parsed: Certificate;
  try {
    // Own the bytes: callers may pass a view into a larger buffer they reuse.
    parsed = parseUncached(Buffer.from(der), fingerprint);
  } catch (err) {
    if (err instanceof X509Error) throw PemError.invalidCertificate(err.message);
    throw err;
  }
  cache.set(fingerprint, parsed);
  if (cache.size > CACHE_LIMIT) cache.delete(cache.keys().next().value!);
  return parsed;
}
