// RFC 7292 Appendix B.2: the PKCS#12 key derivation used for legacy PBE keys/IVs and for the MAC key.

import { hash } from 'node:crypto';

export const KDF_ID_KEY = 1;
export const KDF_ID_IV = 2;
export const KDF_ID_MAC = 3;

export type KdfHash = 'sha1' | 'sha256';
const HASH_LENGTH: Record<KdfHash, number> = { sha1: 20, sha256: 32 };
/** Both hashes have a 64-byte block. */
const V = 64;

function repeatToMultipleOfV(data: Uint8Array): Buffer {
  if (data.length === 0) return Buffer.alloc(0);
  const out = Buffer.alloc(V * Math.ceil(data.length / V));
  for (let k = 0; k < out.length; k++) out[k] = data[k % data.length]!;
  return out;
}

/**
 * Derives `length` bytes. `password` is the BMPString form with its two-byte zero terminator,
 * as PKCS#12 requires (an empty password is just the terminator).
 */
export function pkcs12Kdf(
  algorithm: KdfHash,
  password: Uint8Array,
  salt: Uint8Array,
  id: number,
  iterations: number,
  length: number,
): Buffer {
  const u = HASH_LENGTH[algorithm];
  const d = Buffer.alloc(V, id);
  const i = Buffer.concat([repeatToMultipleOfV(salt), repeatToMultipleOfV(password)]);
  const blocks: Buffer[] = [];
  for (let produced = 0; produced < length; produced += u) {
    let a = hash(algorithm, Buffer.concat([d, i]), 'buffer');
    for (let r = 1; r < iterations; r++) a = hash(algorithm, a, 'buffer');
    blocks.push(a);
    if (produced + u >= length) break;
    // I_j = (I_j + B + 1) mod 2^(8v) for every v-byte block of I, B = A repeated to v bytes.
    for (let offset = 0; offset < i.length; offset += V) {
      let carry = 1;
      for (let k = V - 1; k >= 0; k--) {
        const sum = i[offset + k]! + a[k % u]! + carry;
        i[offset + k] = sum & 0xff;
        carry = sum >> 8;
      }
    }
  }
  return Buffer.concat(blocks).subarray(0, length);
}
