// A minimal strict-DER reader in the style of Go's cryptobyte: just enough structure to read the
// fields trust-manager needs from a certificate (serial sign, names, validity, basicConstraints)
// without building a full ASN.1 object tree for every certificate of a 150-certificate bundle.

export const TAG_BOOLEAN = 0x01;
export const TAG_INTEGER = 0x02;
export const TAG_BIT_STRING = 0x03;
export const TAG_OCTET_STRING = 0x04;
export const TAG_OID = 0x06;
export const TAG_UTF8_STRING = 0x0c;
export const TAG_NUMERIC_STRING = 0x12;
export const TAG_PRINTABLE_STRING = 0x13;
export const TAG_T61_STRING = 0x14;
export const TAG_IA5_STRING = 0x16;
export const TAG_UTC_TIME = 0x17;
export const TAG_GENERALIZED_TIME = 0x18;
export const TAG_BMP_STRING = 0x1e;
export const TAG_SEQUENCE = 0x30;
export const TAG_SET = 0x31;

export interface Element {
  tag: number;
  /** The whole TLV. */
  element: Buffer;
  /** The contents only. */
  contents: Buffer;
}

/** Cursor over DER bytes; every read returns undefined on malformed input, as cryptobyte returns false. */
export class DerReader {
  private readonly data: Buffer;
  private offset = 0;

  constructor(data: Buffer) {
    this.data = data;
  }

  get empty(): boolean {
    return this.offset >= this.data.length;
  }

  peekTag(): number | undefined {
    return this.empty ? undefined : this.data[this.offset];
  }

  /** Any element with a single-byte tag and a minimal definite length. */
  readAny(): Element | undefined {
    const start = this.offset;
    const data = this.data;
    if (start + 2 > data.length) return undefined;
    const tag = data[start]!;
    // High-tag-number form never occurs in the structures read here; cryptobyte rejects it too.
    if ((tag & 0x1f) === 0x1f) return undefined;
    let length = data[start + 1]!;
    let headerLength = 2;
    if (length & 0x80) {
      const lengthBytes = length & 0x7f;
      // Indefinite (0) and absurd lengths are not DER.
      if (lengthBytes === 0 || lengthBytes > 4 || start + 2 + lengthBytes > data.length) return undefined;
      length = 0;
      for (let k = 0; k < lengthBytes; k++) length = length * 256 + data[start + 2 + k]!;
      // Minimal encoding: long form only for >= 128, no leading zero byte.
      if (length < 0x80 || data[start + 2] === 0) return undefined;
      headerLength += lengthBytes;
    }
    const end = start + headerLength + length;
    if (end > data.length) return undefined;
    this.offset = end;
    return { tag, element: data.subarray(start, end), contents: data.subarray(start + headerLength, end) };
  }

  read(tag: number): Element | undefined {
    if (this.peekTag() !== tag) return undefined;
    return this.readAny();
  }

  /** Reads the element if its tag is `tag`; `null` when absent, undefined when malformed. */
  readOptional(tag: number): Element | null | undefined {
    if (this.peekTag() !== tag) return null;
    return this.readAny();
  }
}

/** Dotted form of an OBJECT IDENTIFIER's contents, or undefined if malformed (as Go rejects it). */
export function decodeOid(contents: Buffer): string | undefined {
  if (contents.length === 0) return undefined;
  const arcs: number[] = [];
  let value = 0;
  let started = false;
  for (let k = 0; k < contents.length; k++) {
    const b = contents[k]!;
    if (!started && b === 0x80) return undefined; // non-minimal
    started = true;
    value = value * 128 + (b & 0x7f);
    if (value > Number.MAX_SAFE_INTEGER) return undefined;
    if ((b & 0x80) === 0) {
      arcs.push(value);
      value = 0;
      started = false;
    }
  }
  if (started) return undefined; // truncated arc
  const first = arcs[0]!;
  const head = first < 80 ? [Math.floor(first / 40), first % 40] : [2, first - 80];
  return [...head, ...arcs.slice(1)].join('.');
}

/** Go cryptobyte ReadASN1Integer into a big.Int: minimal two's complement, non-empty. Returns the sign. */
export function integerSign(contents: Buffer): -1 | 0 | 1 | undefined {
  if (contents.length === 0) return undefined;
  if (contents.length > 1) {
    const first = contents[0]!;
    const second = contents[1]!;
    if ((first === 0 && (second & 0x80) === 0) || (first === 0xff && (second & 0x80) === 0x80)) return undefined;
  }
  if (contents[0]! & 0x80) return -1;
  return contents.every((b) => b === 0) ? 0 : 1;
}
