// JKS trust store (upstream 4.7, keystore-go as trust-manager drives it): deterministic output.
// Layout, all integers big-endian:
//   FEEDFEED, version 2, entry count,
//   per entry: tag 2 (trusted certificate), alias (u16 length + UTF-8), creation time (u64 ms),
//              certificate type (u16 length + "X509"), DER length (u32), DER,
//   SHA-1(password as UTF-16BE ‖ "Mighty Aphrodite" ‖ everything above).

import { createHash } from 'node:crypto';
import type { Certificate } from './certificate.ts';

const MAGIC = 0xfeedfeed;
const VERSION = 2;
const TRUSTED_CERTIFICATE_TAG = 2;
/** keystore-go writes the type trust-manager gives it, "X509" (Java itself writes "X.509"). */
const CERTIFICATE_TYPE = 'X509';
const WHITENER = 'Mighty Aphrodite';

/**
 * `<first 8 hex of SHA-256(DER)>|<subject>`: unique per certificate, readable in keytool.
 * Used as PKCS#12 friendlyName as is.
 */
export function trustStoreAlias(cert: Certificate): string {
  return `${cert.fingerprint.slice(0, 8)}|${cert.subject}`;
}

/**
 * Go strings.ToLower, which keystore-go applies to every alias: simple per-code-point lower-casing
 * (JavaScript's toLowerCase uses full mappings, which differ for U+0130 and the final sigma).
 */
function goToLower(value: string): string {
  // eslint-disable-next-line no-control-regex
  if (/^[\x00-\x7f]*$/.test(value)) return value.toLowerCase();
  let out = '';
  for (const c of value) {
    if (c === '\u0130') {
      out += 'i';
      continue;
    }
    const lower = c.toLowerCase();
    out += [...lower].length === 1 ? lower : c;
  }
  return out;
}

/** The JKS alias: trustStoreAlias lower-cased, as keystore-go stores it. */
export function jksAlias(cert: Certificate): string {
  return goToLower(trustStoreAlias(cert));
}

function utf8Field(value: string): Buffer {
  const bytes = Buffer.from(value, 'utf8');
  if (bytes.length > 0xffff) throw new RangeError(`JKS string of ${bytes.length} bytes exceeds 65535`);
  const length = Buffer.alloc(2);
  length.writeUInt16BE(bytes.length);
  return Buffer.concat([length, bytes]);
}

/** The JKS integrity key: the password's UTF-16 code units, big-endian, as Java's keytool expects. */
function passwordBytes(password: string): Buffer {
  const bytes = Buffer.alloc(password.length * 2);
  for (let k = 0; k < password.length; k++) bytes.writeUInt16BE(password.charCodeAt(k), k * 2);
  return bytes;
}

export function encodeJks(certs: readonly Certificate[], password: string): Buffer {
  const entries = certs
    .map((cert) => {
      const alias = jksAlias(cert);
      return { cert, alias, aliasBytes: Buffer.from(alias, 'utf8') };
    })
    // keystore-go sorts aliases as Go strings: byte order of UTF-8.
    .sort((a, b) => Buffer.compare(a.aliasBytes, b.aliasBytes));
  // keystore-go keys entries by alias: on a (practically impossible) collision the later one wins.
  const unique = entries.filter((entry, k) => k === entries.length - 1 || entry.alias !== entries[k + 1]!.alias);

  const header = Buffer.alloc(12);
  header.writeUInt32BE(MAGIC, 0);
  header.writeUInt32BE(VERSION, 4);
  header.writeUInt32BE(unique.length, 8);
  const parts: Buffer[] = [header];
  const type = utf8Field(CERTIFICATE_TYPE);
  for (const { cert, alias } of unique) {
    const tag = Buffer.alloc(4);
    tag.writeUInt32BE(TRUSTED_CERTIFICATE_TAG);
    const created = Buffer.alloc(8);
    // Go: uint64(UnixNano / 1e6); pre-1970 dates wrap around as unsigned.
    created.writeBigUInt64BE(BigInt.asUintN(64, BigInt(cert.notBefore.getTime())));
    const derLength = Buffer.alloc(4);
    derLength.writeUInt32BE(cert.der.length);
    parts.push(tag, utf8Field(alias), created, type, derLength, cert.der);
  }
  const body = Buffer.concat(parts);
  const digest = createHash('sha1').update(passwordBytes(password)).update(WHITENER, 'latin1').update(body).digest();
  return Buffer.concat([body, digest]);
}
