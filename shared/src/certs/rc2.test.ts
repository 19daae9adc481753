import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { encryptRc2Block, encryptRc2Cbc, expandRc2Key } from './rc2.ts';

// RFC 2268 section 5 test vectors: key, effective bits, plaintext, ciphertext.
const VECTORS: [string, number, string, string][] = [
  ['0000000000000000', 63, '0000000000000000', 'ebb773f993278eff'],
  ['ffffffffffffffff', 64, 'ffffffffffffffff', '278b27e42e2f0d49'],
  ['3000000000000000', 64, '1000000000000001', '30649edf9be7d2c2'],
  ['88', 64, '0000000000000000', '61a8a244adacccf0'],
  ['88bca90e90875a', 64, '0000000000000000', '6ccf4308974c267f'],
  ['88bca90e90875a7f0f79c384627bafb2', 64, '0000000000000000', '1a807d272bbe5db1'],
  ['88bca90e90875a7f0f79c384627bafb2', 128, '0000000000000000', '2269552ab0f85ca6'],
  [
    '88bca90e90875a7f0f79c384627bafb216f80a6f85920584c42fceb0be255daf1e',
    129,
    '0000000000000000',
    '5b78d3a43dfff1f1',
  ],
];

test('RC2 block encryption matches the RFC 2268 known answers', () => {
  for (const [key, bits, plaintext, ciphertext] of VECTORS) {
    const block = Buffer.from(plaintext, 'hex');
    encryptRc2Block(expandRc2Key(Buffer.from(key, 'hex'), bits), block);
    assert.equal(block.toString('hex'), ciphertext, `key ${key} bits ${bits}`);
  }
});

test('RC2 key expansion rejects out-of-range keys', () => {
  assert.throws(() => expandRc2Key(new Uint8Array(0), 40), RangeError);
  assert.throws(() => expandRc2Key(new Uint8Array(129), 40), RangeError);
});

test('RC2-40-CBC with PKCS#7 padding agrees with OpenSSL (legacy provider)', (t) => {
  const probe = spawnSync('openssl', ['list', '-cipher-algorithms', '-provider', 'legacy'], { encoding: 'utf8' });
  if (probe.status !== 0 || !/RC2-40-CBC/i.test(probe.stdout)) {
    // The known-answer test above still covers the block cipher.
    t.diagnostic('openssl legacy provider without RC2-40-CBC; cross-check not possible here');
    return;
  }
  for (const length of [0, 1, 7, 8, 9, 100]) {
    const key = randomBytes(5);
    const iv = randomBytes(8);
    const plaintext = randomBytes(length);
    const ours = encryptRc2Cbc(plaintext, key, iv, 40);
    const theirs = spawnSync(
      'openssl',
      ['enc', '-rc2-40-cbc', '-provider', 'legacy', '-provider', 'default', '-K', key.toString('hex'), '-iv', iv.toString('hex')],
      { input: plaintext },
    );
    assert.equal(theirs.status, 0, theirs.stderr.toString());
    assert.equal(ours.toString('hex'), theirs.stdout.toString('hex'), `length ${length}`);
  }
});
