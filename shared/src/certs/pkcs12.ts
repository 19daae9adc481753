// PKCS#12 trust store (upstream 4.8), structured as go-pkcs12's EncodeTrustStoreEntries:
//   PFX v3 { authSafe: data [ one ContentInfo holding a SafeContents of cert bags ], macData? }
// With a password the SafeContents is an EncryptedData (profile cipher) and a MAC is added; with
// the empty password it is plain data without MAC (go-pkcs12 Passwordless; profile ignored).
// Each bag: friendlyName = trustStoreAlias, Java trust attribute = anyExtendedKeyUsage.

import { createCipheriv, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';
import type { Certificate } from './certificate.ts';
import { bmpString, explicit, integer, NULL, octetString, oid, sequence, setOf, tlv, utf16be } from './der-encode.ts';
import { trustStoreAlias } from './jks.ts';
import { KDF_ID_IV, KDF_ID_KEY, KDF_ID_MAC, type KdfHash, pkcs12Kdf } from './pkcs12-kdf.ts';
import { encryptRc2Cbc } from './rc2.ts';

export type Pkcs12Profile = '' | 'LegacyRC2' | 'LegacyDES' | 'Modern2023';

const OID_DATA = '1.2.840.113549.1.7.1';
const OID_ENCRYPTED_DATA = '1.2.840.113549.1.7.6';
const OID_CERT_BAG = '1.2.840.113549.1.12.10.1.3';
const OID_X509_CERTIFICATE = '1.2.840.113549.1.9.22.1';
const OID_FRIENDLY_NAME = '1.2.840.113549.1.9.20';
const OID_JAVA_TRUST_STORE = '2.16.840.1.113894.746875.1.1';
const OID_ANY_EXTENDED_KEY_USAGE = '2.5.29.37.0';
const OID_PBE_SHA1_RC2_40 = '1.2.840.113549.1.12.1.6';
const OID_PBE_SHA1_3DES = '1.2.840.113549.1.12.1.3';
const OID_PBES2 = '1.2.840.113549.1.5.13';
const OID_PBKDF2 = '1.2.840.113549.1.5.12';
const OID_HMAC_SHA256 = '1.2.840.113549.2.9';
const OID_AES_256_CBC = '2.16.840.1.101.3.4.1.42';
const OID_SHA1 = '1.3.14.3.2.26';
const OID_SHA256 = '2.16.840.1.101.3.4.2.1';

const ITERATIONS = 2048;

interface ProfileParameters {
  /** Encrypts the SafeContents; returns the AlgorithmIdentifier and the ciphertext. */
  encrypt(plaintext: Buffer, password: string, random: RandomSource): { algorithm: Buffer; ciphertext: Buffer };
  macHash: KdfHash;
  macOid: string;
  macIterations: number;
  saltLength: number;
}

/** Injected in tests; crypto.randomBytes otherwise. */
export type RandomSource = (length: number) => Buffer;

/** PKCS#12 password form: BMPString with a two-byte zero terminator. */
function bmpPassword(password: string): Buffer {
  return Buffer.concat([utf16be(password), Buffer.alloc(2)]);
}

function legacyPbe(algorithmOid: string, keyLength: number, cipher: (plaintext: Buffer, key: Buffer, iv: Buffer) => Buffer) {
  return (plaintext: Buffer, password: string, random: RandomSource) => {
    const salt = random(8);
    const bmp = bmpPassword(password);
    const key = pkcs12Kdf('sha1', bmp, salt, KDF_ID_KEY, ITERATIONS, keyLength);
    const iv = pkcs12Kdf('sha1', bmp, salt, KDF_ID_IV, ITERATIONS, 8);
    const algorithm = sequence(oid(algorithmOid), sequence(octetString(salt), integer(ITERATIONS)));
    return { algorithm, ciphertext: cipher(plaintext, key, iv) };
  };
}

const PROFILES: Record<Exclude<Pkcs12Profile, ''>, ProfileParameters> = {
  LegacyRC2: {
    encrypt: legacyPbe(OID_PBE_SHA1_RC2_40, 5, (plaintext, key, iv) => encryptRc2Cbc(plaintext, key, iv, 40)),
    macHash: 'sha1',
    macOid: OID_SHA1,
    macIterations: 1,
    saltLength: 8,
  },
  LegacyDES: {
    encrypt: legacyPbe(OID_PBE_SHA1_3DES, 24, (plaintext, key, iv) => {
      const cipher = createCipheriv('des-ede3-cbc', key, iv);
      return Buffer.concat([cipher.update(plaintext), cipher.final()]);
    }),
    macHash: 'sha1',
    macOid: OID_SHA1,
    macIterations: 1,
    saltLength: 8,
  },
  Modern2023: {
    encrypt: (plaintext, password, random) => {
      const salt = random(16);
      const iv = random(16);
      // PBES2 takes the password as UTF-8 octets (as OpenSSL and go-pkcs12 do), not as BMPString.
      const key = pbkdf2Sync(Buffer.from(password, 'utf8'), salt, ITERATIONS, 32, 'sha256');
      const cipher = createCipheriv('aes-256-cbc', key, iv);
      const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
      const kdf = sequence(
        oid(OID_PBKDF2),
        sequence(octetString(salt), integer(ITERATIONS), sequence(oid(OID_HMAC_SHA256), NULL)),
      );
      const algorithm = sequence(oid(OID_PBES2), sequence(kdf, sequence(oid(OID_AES_256_CBC), octetString(iv))));
      return { algorithm, ciphertext };
    },
    macHash: 'sha256',
    macOid: OID_SHA256,
    macIterations: ITERATIONS,
    saltLength: 16,
  },
};

function certBag(cert: Certificate): Buffer {
  const javaTrust = sequence(oid(OID_JAVA_TRUST_STORE), setOf(oid(OID_ANY_EXTENDED_KEY_USAGE)));
  const friendlyName = sequence(oid(OID_FRIENDLY_NAME), setOf(bmpString(trustStoreAlias(cert))));
  return sequence(
    oid(OID_CERT_BAG),
    explicit(0, sequence(oid(OID_X509_CERTIFICATE), explicit(0, octetString(cert.der)))),
    setOf(javaTrust, friendlyName),
  );
}

function dataContentInfo(content: Buffer): Buffer {
  return sequence(oid(OID_DATA), explicit(0, octetString(content)));
}

/**
 * Encodes a PKCS#12 trust store: one cert bag per certificate, in the given (pool) order.
 * An empty password yields the deterministic password-less form whatever the profile;
 * profile '' means LegacyRC2, as upstream defaults.
 */
export function encodePkcs12(
  certs: readonly Certificate[],
  password: string,
  profile: Pkcs12Profile,
  random: RandomSource = randomBytes,
): Buffer {
  const safeContents = sequence(...certs.map(certBag));
  if (password === '') {
    return sequence(integer(3), dataContentInfo(sequence(dataContentInfo(safeContents))));
  }
  const parameters = PROFILES[profile === '' ? 'LegacyRC2' : profile];
  if (parameters === undefined) throw new RangeError(`unknown PKCS#12 profile ${JSON.stringify(profile)}`);

  const { algorithm, ciphertext } = parameters.encrypt(safeContents, password, random);
  const encryptedData = sequence(
    integer(0),
    sequence(oid(OID_DATA), algorithm, tlv(0x80, ciphertext)),
  );
  const authenticatedSafe = sequence(sequence(oid(OID_ENCRYPTED_DATA), explicit(0, encryptedData)));

  const macSalt = random(parameters.saltLength);
  const macKeyLength = parameters.macHash === 'sha1' ? 20 : 32;
  const macKey = pkcs12Kdf(parameters.macHash, bmpPassword(password), macSalt, KDF_ID_MAC, parameters.macIterations, macKeyLength);
  const mac = createHmac(parameters.macHash, macKey).update(authenticatedSafe).digest();
  const macData = sequence(
    sequence(sequence(oid(parameters.macOid)), octetString(mac)),
    octetString(macSalt),
    // iterations DEFAULT 1: DER omits the default.
    ...(parameters.macIterations === 1 ? [] : [integer(parameters.macIterations)]),
  );
  return sequence(integer(3), dataContentInfo(authenticatedSafe), macData);
}
