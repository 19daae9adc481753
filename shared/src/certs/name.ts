// X.509 Name -> Go's pkix.Name.String(). The form matters: it is part of every JKS alias and
// PKCS#12 friendlyName (upstream 4.7/4.8). Go does not print the RDNs as encoded: it first folds
// them into pkix.Name fields, then prints non-standard attributes, C, ST, L, STREET, POSTALCODE, O,
// OU, CN (last one wins), SERIALNUMBER - in reverse, with its own escaping.

import {
  DerReader,
  TAG_BMP_STRING,
  TAG_IA5_STRING,
  TAG_NUMERIC_STRING,
  TAG_OID,
  TAG_PRINTABLE_STRING,
  TAG_SEQUENCE,
  TAG_SET,
  TAG_T61_STRING,
  TAG_UTF8_STRING,
  decodeOid,
} from './der.ts';

interface Attribute {
  oid: string;
  value: string;
}

/** Thrown with Go's x509 error text when a name does not parse. */
export class NameError extends Error {}

const UTF8 = new TextDecoder('utf-8', { fatal: true });

function isPrintableStringByte(b: number): boolean {
  return (
    (b >= 0x61 && b <= 0x7a) ||
    (b >= 0x41 && b <= 0x5a) ||
    (b >= 0x30 && b <= 0x39) ||
    (b >= 0x27 && b <= 0x29) ||
    (b >= 0x2b && b <= 0x2f) ||
    b === 0x20 ||
    b === 0x3a ||
    b === 0x3d ||
    b === 0x3f ||
    // Not PrintableString, but tolerated by Go because real CAs use them.
    b === 0x2a ||
    b === 0x26
  );
}

/** Go x509 parseASN1String; throws the inner error text. */
function parseAsn1String(tag: number, value: Buffer): string {
  switch (tag) {
    case TAG_T61_STRING:
      // Treated as Latin-1, as Go and BoringSSL do.
      return value.toString('latin1');
    case TAG_PRINTABLE_STRING:
      if (!value.every(isPrintableStringByte)) throw new Error('invalid PrintableString');
      return value.toString('latin1');
    case TAG_UTF8_STRING:
      try {
        return UTF8.decode(value);
      } catch {
        throw new Error('invalid UTF-8 string');
      }
    case TAG_BMP_STRING: {
      if (value.length % 2 !== 0) throw new Error('invalid BMPString');
      let end = value.length;
      if (end >= 2 && value[end - 1] === 0 && value[end - 2] === 0) end -= 2;
      let s = '';
      for (let k = 0; k < end; k += 2) {
        const point = (value[k]! << 8) | value[k + 1]!;
        if (point === 0xfffe || point === 0xffff || (point >= 0xfdd0 && point <= 0xfdef) || (point >= 0xd800 && point <= 0xdfff)) {
          throw new Error('invalid BMPString');
        }
        s += String.fromCharCode(point);
      }
      return s;
    }
    case TAG_IA5_STRING:
      if (!value.every((b) => b < 0x80)) throw new Error('invalid IA5String');
      return value.toString('latin1');
    case TAG_NUMERIC_STRING:
      if (!value.every((b) => (b >= 0x30 && b <= 0x39) || b === 0x20)) throw new Error('invalid NumericString');
      return value.toString('latin1');
    default:
      throw new Error(`unsupported string type: ${tag}`);
  }
}

/** Go x509 parseName: the RDN sequence, flattened per RDN. Throws NameError with Go's text. */
function parseRdns(der: Buffer): Attribute[][] {
  const outer = new DerReader(der).read(TAG_SEQUENCE);
  if (outer === undefined) throw new NameError('x509: invalid RDNSequence');
  const rdns = new DerReader(outer.contents);
  const result: Attribute[][] = [];
  while (!rdns.empty) {
    const set = rdns.read(TAG_SET);
    if (set === undefined) throw new NameError('x509: invalid RDNSequence');
    const atvs = new DerReader(set.contents);
    const rdn: Attribute[] = [];
    while (!atvs.empty) {
      const atv = atvs.read(TAG_SEQUENCE);
      if (atv === undefined) throw new NameError('x509: invalid RDNSequence: invalid attribute');
      const fields = new DerReader(atv.contents);
      const type = fields.read(TAG_OID);
      const oid = type === undefined ? undefined : decodeOid(type.contents);
      if (oid === undefined) throw new NameError('x509: invalid RDNSequence: invalid attribute type');
      const value = fields.readAny();
      if (value === undefined) throw new NameError('x509: invalid RDNSequence: invalid attribute value');
      try {
        rdn.push({ oid, value: parseAsn1String(value.tag, value.contents) });
      } catch (err) {
        throw new NameError(`x509: invalid RDNSequence: invalid attribute value: ${(err as Error).message}`);
      }
    }
    result.push(rdn);
  }
  return result;
}

const SHORT_NAMES: Readonly<Record<string, string>> = {
  '2.5.4.6': 'C',
  '2.5.4.10': 'O',
  '2.5.4.11': 'OU',
  '2.5.4.3': 'CN',
  '2.5.4.5': 'SERIALNUMBER',
  '2.5.4.7': 'L',
  '2.5.4.8': 'ST',
  '2.5.4.9': 'STREET',
  '2.5.4.17': 'POSTALCODE',
};

/** Field order of Go's Name.ToRDNSequence (multi-valued fields become one multi-valued RDN). */
const FIELD_ORDER = ['2.5.4.6', '2.5.4.8', '2.5.4.7', '2.5.4.9', '2.5.4.17', '2.5.4.10', '2.5.4.11'] as const;
const OID_CN = '2.5.4.3';
const OID_SERIAL_NUMBER = '2.5.4.5';

/** Go asn1.Marshal(string): PrintableString when every rune is printable (no '*' or '&'), else UTF8String. */
function marshalGoString(value: string): Buffer {
  const bytes = Buffer.from(value, 'utf8');
  const printable = bytes.every((b) => b !== 0x2a && b !== 0x26 && isPrintableStringByte(b));
  const tag = printable ? TAG_PRINTABLE_STRING : TAG_UTF8_STRING;
  const length = bytes.length;
  let header: number[];
  if (length < 0x80) header = [tag, length];
  else {
    const lengthBytes: number[] = [];
    for (let l = length; l > 0; l = Math.floor(l / 256)) lengthBytes.unshift(l % 256);
    header = [tag, 0x80 | lengthBytes.length, ...lengthBytes];
  }
  return Buffer.concat([Buffer.from(header), bytes]);
}

function escapeValue(value: string): string {
  const chars = [...value];
  let out = '';
  chars.forEach((c, k) => {
    let escape = false;
    switch (c) {
      case ',':
      case '+':
      case '"':
      case '\\':
      case '<':
      case '>':
      case ';':
        escape = true;
        break;
      case ' ':
        escape = k === 0 || k === chars.length - 1;
        break;
      case '#':
        escape = k === 0;
        break;
    }
    out += escape ? '\\' + c : c;
  });
  return out;
}

function formatAttribute({ oid, value }: Attribute): string {
  const short = SHORT_NAMES[oid];
  if (short === undefined) return `${oid}=#${marshalGoString(value).toString('hex')}`;
  return `${short}=${escapeValue(value)}`;
}

/** Go's pkix.Name.String() of a DER Name as it would be after x509.ParseCertificate. */
export function formatName(der: Buffer): string {
  const rdns = parseRdns(der);
  const fields = new Map<string, string[]>();
  const sequence: Attribute[][] = [];
  for (const rdn of rdns) {
    for (const atv of rdn) {
      if (SHORT_NAMES[atv.oid] === undefined) {
        // Non-standard attributes go first, i.e. last once the sequence is reversed.
        sequence.push([atv]);
      } else if (atv.oid === OID_CN || atv.oid === OID_SERIAL_NUMBER) {
        fields.set(atv.oid, [atv.value]);
      } else {
        const values = fields.get(atv.oid) ?? [];
        values.push(atv.value);
        fields.set(atv.oid, values);
      }
    }
  }
  for (const oid of [...FIELD_ORDER, OID_CN, OID_SERIAL_NUMBER]) {
    const values = fields.get(oid);
    // Go skips an empty CommonName / SerialNumber string.
    if (values === undefined || ((oid === OID_CN || oid === OID_SERIAL_NUMBER) && values[0] === '')) continue;
    sequence.push(values.map((value) => ({ oid, value })));
  }
  return sequence
    .reverse()
    .map((rdn) => rdn.map(formatAttribute).join('+'))
    .join(',');
}
