import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodePemBlocks, encodeCertificatePem } from './pem.ts';
import { prng, randomBytesFrom } from './testing/prng.ts';

const BODY = Buffer.from('hello, pem world');
const B64 = BODY.toString('base64');
const block = (type: string, body = B64, end = type): string => `-----BEGIN ${type}-----\n${body}\n-----END ${end}-----\n`;

test('text outside blocks is ignored, including invalid UTF-8', () => {
  const input = Buffer.concat([
    Buffer.from('# a comment\njunk line\n'),
    Buffer.from([0xff, 0xfe, 0x80, 0x0a]),
    Buffer.from(block('CERTIFICATE')),
    Buffer.from('trailing words'),
  ]);
  const blocks = decodePemBlocks(input);
  assert.equal(blocks.length, 1);
  assert.equal(blocks[0]!.type, 'CERTIFICATE');
  assert.deepEqual(blocks[0]!.bytes, BODY);
  assert.deepEqual(blocks[0]!.headers, {});
});

test('CRLF line endings and spaces/tabs inside base64 are tolerated', () => {
  const crlf = block('CERTIFICATE', `${B64.slice(0, 8)} \t${B64.slice(8)}`).replaceAll('\n', '\r\n');
  const blocks = decodePemBlocks(crlf);
  assert.equal(blocks.length, 1);
  assert.deepEqual(blocks[0]!.bytes, BODY);
});

test("base64 bodies follow Go's StdEncoding: whitespace anywhere, padding mandatory and only at the end", () => {
  const cases: Array<[body: string, decoded: string | undefined]> = [
    ['QUJD', 'ABC'],
    ['QUI=', 'AB'],
    ['QQ==', 'A'],
    ['QU\nJD\r\nRA==', 'ABCD'],
    ['QUJD\tRA =\n=', 'ABCD'],
    ['QQ=A', undefined], // padding before the end
    ['Q===', undefined], // three padding characters
    ['====', undefined],
    ['QUJ', undefined], // not a multiple of four
    ['QQ', undefined], // padding is not optional
    ['QUJD-A==', undefined], // URL-safe alphabet
    ['QUJD\u00e9A==', undefined], // a non-ASCII byte
    ['QUJD\vRA==', undefined], // whitespace Go does not skip
  ];
  for (const [body, decoded] of cases) {
    const blocks = decodePemBlocks(block('X', body) + block('END-MARKER'));
    const got = blocks.length === 2 ? blocks[0]!.bytes.toString('latin1') : undefined;
    assert.equal(got, decoded, JSON.stringify(body));
    assert.equal(blocks.at(-1)!.type, 'END-MARKER');
  }
});

test('malformed blocks are skipped silently and scanning continues', () => {
  const input = [
    `-----BEGIN CERTIFICATE-----\n${B64}\n`, // BEGIN without END before the next BEGIN
    block('CERTIFICATE', B64, 'PRIVATE KEY'), // END type mismatch
    block('CERTIFICATE', '!!!not-base64!!!'), // bad base64
    block('CERTIFICATE', B64.slice(0, -1)), // bad padding
    `-----BEGIN CERTIFICATE-----\n${B64}\n-----END CERTIFICATE----- junk\n`, // junk after END
    block('GOOD'),
  ].join('');
  const blocks = decodePemBlocks(input);
  assert.deepEqual(
    blocks.map((b) => b.type),
    ['GOOD'],
  );
});

test('a block without END at the end of input yields nothing', () => {
  assert.deepEqual(decodePemBlocks(`-----BEGIN CERTIFICATE-----\n${B64}\n`), []);
  assert.deepEqual(decodePemBlocks(''), []);
  assert.deepEqual(decodePemBlocks('no pem here at all'), []);
});

test('BEGIN must start a line', () => {
  assert.deepEqual(decodePemBlocks(`x${block('CERTIFICATE')}`), []);
  assert.equal(decodePemBlocks(`x\n${block('CERTIFICATE')}`).length, 1);
});

test('headers are parsed as Go does', () => {
  const input = `-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\n DEK-Info : AES-128-CBC,00 \n\n${B64}\n-----END RSA PRIVATE KEY-----\n`;
  const [parsed] = decodePemBlocks(input);
  assert.ok(parsed);
  assert.deepEqual(parsed.headers, { 'Proc-Type': '4,ENCRYPTED', 'DEK-Info': 'AES-128-CBC,00' });
  assert.deepEqual(parsed.bytes, BODY);
});

test('an empty block decodes to zero bytes', () => {
  const blocks = decodePemBlocks('-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n');
  assert.equal(blocks.length, 1);
  assert.equal(blocks[0]!.bytes.length, 0);
});

test('the last of repeated BEGIN lines wins', () => {
  const input = `-----BEGIN A-----\n-----BEGIN B-----\n${B64}\n-----END B-----\n`;
  assert.deepEqual(
    decodePemBlocks(input).map((b) => b.type),
    ['B'],
  );
});

test('several blocks come back in input order, strings and bytes alike', () => {
  const input = block('ONE') + 'between\n' + block('TWO');
  for (const form of [input, Buffer.from(input), new Uint8Array(Buffer.from(input))]) {
    assert.deepEqual(
      decodePemBlocks(form).map((b) => b.type),
      ['ONE', 'TWO'],
    );
  }
});

test('encodeCertificatePem writes 64-character lines and round-trips', () => {
  const der = randomBytesFrom(prng(1), 200);
  const pem = encodeCertificatePem(der);
  const lines = pem.split('\n');
  assert.equal(lines[0], '-----BEGIN CERTIFICATE-----');
  assert.ok(pem.endsWith('-----END CERTIFICATE-----\n'));
  const body = lines.slice(1, -2);
  assert.ok(body.slice(0, -1).every((line) => line.length === 64));
  assert.ok(body.at(-1)!.length <= 64 && body.at(-1)!.length > 0);
  assert.deepEqual(decodePemBlocks(pem)[0]!.bytes, der);
  // Exact multiple of 48 bytes: no empty line before END.
  assert.equal(encodeCertificatePem(Buffer.alloc(48)), `-----BEGIN CERTIFICATE-----\n${'A'.repeat(64)}\n-----END CERTIFICATE-----\n`);
});

test('property: random bytes, truncations and mutations never throw', () => {
  for (let seed = 1; seed <= 300; seed++) {
    const next = prng(seed);
    const valid = block('CERTIFICATE', randomBytesFrom(next, 100).toString('base64')) + block('X');
    const cut = Math.floor(next() * valid.length);
    const mutated = Buffer.from(valid);
    for (let k = 0; k < 5; k++) mutated[Math.floor(next() * mutated.length)] = Math.floor(next() * 256);
    for (const input of [randomBytesFrom(next, 1 + Math.floor(next() * 2000)), valid.slice(0, cut), mutated]) {
      const blocks = decodePemBlocks(input);
      assert.ok(Array.isArray(blocks), `seed ${seed}`);
    }
  }
});

test('a 10 MB input and 10,000 blocks decode without trouble', () => {
  const next = prng(42);
  const big = Buffer.concat([randomBytesFrom(next, 10 * 1024 * 1024), Buffer.from('\n' + block('END-OF-NOISE'))]);
  assert.deepEqual(
    decodePemBlocks(big)
      .map((b) => b.type)
      .at(-1),
    'END-OF-NOISE',
  );
  const many = block('CERTIFICATE').repeat(10_000);
  assert.equal(decodePemBlocks(many).length, 10_000);
  // Many BEGIN lines without END (the quadratic case Go fixed) stay linear.
  assert.deepEqual(decodePemBlocks('-----BEGIN X-----\n'.repeat(200_000)), []);
});
