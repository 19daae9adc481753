// PEM scanning with Go encoding/pem semantics (Go >= 1.25.2 Decode, the linear-time version):
// text outside blocks is ignored, malformed blocks are skipped silently, CRLF is tolerated and
// "Key: value" lines after BEGIN are headers. trust-manager's acceptance rules (upstream 4.4) are
// decided on these blocks, so the scanner has to agree with Go byte for byte.

export interface PemBlock {
  type: string;
  headers: Record<string, string>;
  bytes: Buffer;
}

const PEM_START = Buffer.from('\n-----BEGIN ');
const PEM_END = Buffer.from('\n-----END ');
const PEM_END_OF_LINE = Buffer.from('-----');
const NEWLINE = 0x0a;
const CARRIAGE_RETURN = 0x0d;
const SPACE = 0x20;
const TAB = 0x09;
const COLON = 0x3a;

interface Line {
  line: Buffer;
  rest: Buffer;
  consumed: number;
}

/** Go getLine: first \n or \r\n delimited line without trailing spaces/tabs, the rest, and bytes consumed. */
function getLine(data: Buffer): Line {
  let i = data.indexOf(NEWLINE);
  let j: number;
  if (i < 0) {
    i = data.length;
    j = i;
  } else {
    j = i + 1;
    if (i > 0 && data[i - 1] === CARRIAGE_RETURN) i--;
  }
  let end = i;
  while (end > 0 && (data[end - 1] === SPACE || data[end - 1] === TAB)) end--;
  return { line: data.subarray(0, end), rest: data.subarray(j), consumed: j };
}

/** Go bytes.TrimSpace for the ASCII whitespace that can occur in a header line. */
function trimSpace(data: Buffer): Buffer {
  let start = 0;
  let end = data.length;
  while (start < end && isAsciiSpace(data[start]!)) start++;
  while (end > start && isAsciiSpace(data[end - 1]!)) end--;
  return data.subarray(start, end);
}

function isAsciiSpace(b: number): boolean {
  return b === SPACE || (b >= 0x09 && b <= 0x0d);
}

function endsWith(data: Buffer, suffix: Buffer): boolean {
  return data.length >= suffix.length && data.subarray(data.length - suffix.length).equals(suffix);
}

function startsWith(data: Buffer, prefix: Buffer): boolean {
  return data.length >= prefix.length && data.subarray(0, prefix.length).equals(prefix);
}

/** Go's whitespace for removeSpacesAndTabs plus the newlines a PEM body is split by. */
const BASE64_IGNORED = /[ \t\r\n]+/g;
/** The standard alphabet; padding (at most two) only at the very end. */
const STD_BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/**
 * Go base64.StdEncoding.Decode after removeSpacesAndTabs: spaces, tabs, \r and \n are ignored anywhere;
 * every other byte must be in the alphabet; padding is mandatory and only at the very end.
 * Returns undefined where Go returns an error. Checked with regular expressions rather than a byte
 * loop: they run as compiled code from the first call, which halves decoding the default package at start-up.
 */
function decodeStdBase64(data: Buffer): Buffer | undefined {
  const significant = data.toString('latin1').replace(BASE64_IGNORED, '');
  if (significant.length % 4 !== 0 || !STD_BASE64.test(significant)) return undefined;
  // Node's decoder agrees with Go on validated input.
  return Buffer.from(significant, 'base64');
}

/** One step of Go pem.Decode: the next well-formed block and the remaining input, or undefined. */
function decodeNext(data: Buffer): { block: PemBlock; rest: Buffer } | undefined {
  let rest = data;
  let endTrailerIndex = 0;
  for (;;) {
    // Skip past the END already examined when a previous candidate failed.
    if (endTrailerIndex < 0 || endTrailerIndex > rest.length) return undefined;
    rest = rest.subarray(endTrailerIndex);

    // First END line, then the last BEGIN before it: repeated BEGINs without END cost nothing.
    let endIndex = rest.indexOf(PEM_END);
    if (endIndex < 0) return undefined;
    endTrailerIndex = endIndex + PEM_END.length;
    const beginIndex = endIndex === 0 ? -1 : rest.lastIndexOf(PEM_START.subarray(1), endIndex - 1);
    if (beginIndex < 0 || (beginIndex > 0 && rest[beginIndex - 1] !== NEWLINE)) continue;
    const skip = beginIndex + PEM_START.length - 1;
    rest = rest.subarray(skip);
    endIndex -= skip;
    endTrailerIndex -= skip;

    const typeLine = getLine(rest);
    rest = typeLine.rest;
    endIndex -= typeLine.consumed;
    endTrailerIndex -= typeLine.consumed;
    if (!endsWith(typeLine.line, PEM_END_OF_LINE)) continue;
    const typeBytes = typeLine.line.subarray(0, typeLine.line.length - PEM_END_OF_LINE.length);

    const headers: Record<string, string> = {};
    let headerCount = 0;
    for (;;) {
      if (rest.length === 0) return undefined;
      const { line, rest: next, consumed } = getLine(rest);
      const colon = line.indexOf(COLON);
      if (colon < 0) break;
      headers[trimSpace(line.subarray(0, colon)).toString('utf8')] = trimSpace(line.subarray(colon + 1)).toString(
        'utf8',
      );
      headerCount++;
      rest = next;
      endIndex -= consumed;
      endTrailerIndex -= consumed;
    }

    // With headers there must be a newline between them and the END line.
    if (headerCount > 0 && endIndex < 0) continue;
    if (endTrailerIndex < 0) continue;

    // After "-----END " comes the same type and five dashes, then only whitespace on that line.
    const endTrailerLen = typeBytes.length + PEM_END_OF_LINE.length;
    const trailer = rest.subarray(endTrailerIndex);
    if (trailer.length < endTrailerLen) continue;
    const restOfEndLine = trailer.subarray(endTrailerLen);
    const endTrailer = trailer.subarray(0, endTrailerLen);
    if (!startsWith(endTrailer, typeBytes) || !endsWith(endTrailer, PEM_END_OF_LINE)) continue;
    if (getLine(restOfEndLine).line.length !== 0) continue;

    let bytes: Buffer = Buffer.alloc(0);
    if (endIndex > 0) {
      const decoded = decodeStdBase64(rest.subarray(0, endIndex));
      if (decoded === undefined) continue;
      bytes = decoded;
    }

    // -1: the END line may have matched without its leading newline when the block was empty.
    const after = getLine(rest.subarray(endIndex + PEM_END.length - 1));
    return { block: { type: typeBytes.toString('utf8'), headers, bytes }, rest: after.rest };
  }
}

/** Every block Go's pem.Decode loop would return, in input order. Never throws. */
export function decodePemBlocks(data: string | Uint8Array): PemBlock[] {
  let rest = typeof data === 'string' ? Buffer.from(data, 'utf8') : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const blocks: PemBlock[] = [];
  for (;;) {
    const next = decodeNext(rest);
    if (next === undefined) return blocks;
    blocks.push(next.block);
    rest = next.rest;
  }
}

const PEM_LINE_LENGTH = 64;

/** Go pem.Encode of a CERTIFICATE block: base64 in 64-character lines, trailing newline. */
export function encodeCertificatePem(der: Uint8Array): string {
  const base64 = Buffer.from(der.buffer, der.byteOffset, der.byteLength).toString('base64');
  let body = '';
  for (let offset = 0; offset < base64.length; offset += PEM_LINE_LENGTH) {
    body += base64.slice(offset, offset + PEM_LINE_LENGTH) + '\n';
  }
  return `-----BEGIN CERTIFICATE-----\n${body}-----END CERTIFICATE-----\n`;
}
