// DER construction for the PKCS#12 encoder: byte-exact control over what go-pkcs12 emits
// (SET OF sorted, DEFAULT values omitted), without an object model per certificate bag.

function encodeLength(length: number): Buffer {
  if (length < 0x80) return Buffer.from([length]);
  const bytes: number[] = [];
  for (let l = length; l > 0; l = Math.floor(l / 256)) bytes.unshift(l % 256);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

export function tlv(tag: number, ...contents: Uint8Array[]): Buffer {
  const body = Buffer.concat(contents);
  return Buffer.concat([Buffer.from([tag]), encodeLength(body.length), body]);
}

export const sequence = (...elements: Uint8Array[]): Buffer => tlv(0x30, ...elements);

/** SET OF: DER orders the encoded elements as byte strings (Go's Marshal does the same). */
export const setOf = (...elements: Buffer[]): Buffer => tlv(0x31, ...[...elements].sort((a, b) => Buffer.compare(a, b)));

export const octetString = (bytes: Uint8Array): Buffer => tlv(0x04, bytes);

/** Context-specific constructed [n] (EXPLICIT wrapping). */
export const explicit = (n: number, ...elements: Uint8Array[]): Buffer => tlv(0xa0 | n, ...elements);

export const NULL = Buffer.from([0x05, 0x00]);

export function integer(value: number): Buffer {
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError('only non-negative safe integers');
  const bytes: number[] = [];
  for (let v = value; v > 0; v = Math.floor(v / 256)) bytes.unshift(v % 256);
  if (bytes.length === 0 || bytes[0]! & 0x80) bytes.unshift(0);
  return tlv(0x02, Buffer.from(bytes));
}

export function oid(dotted: string): Buffer {
  const arcs = dotted.split('.').map(Number);
  const [first, second, ...rest] = arcs;
  const out: number[] = [];
  for (const arc of [first! * 40 + second!, ...rest]) {
    const chunk: number[] = [arc & 0x7f];
    for (let v = Math.floor(arc / 128); v > 0; v = Math.floor(v / 128)) chunk.unshift((v & 0x7f) | 0x80);
    out.push(...chunk);
  }
  return tlv(0x06, Buffer.from(out));
}

/** BMPString (UTF-16BE code units). */
export function bmpString(value: string): Buffer {
  return tlv(0x1e, utf16be(value));
}

export function utf16be(value: string): Buffer {
  const bytes = Buffer.alloc(value.length * 2);
  for (let k = 0; k < value.length; k++) bytes.writeUInt16BE(value.charCodeAt(k), k * 2);
  return bytes;
}
