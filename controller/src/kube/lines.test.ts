import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LineSplitter } from './lines.ts';

test('splits lines across chunk boundaries, including inside a multi-byte character', () => {
  const text = '{"a":"é"}\n{"b":"€"}\n{"c":1}';
  const bytes = Buffer.from(text, 'utf8');
  for (let cut = 1; cut < bytes.length; cut++) {
    const splitter = new LineSplitter();
    const lines = [...splitter.push(bytes.subarray(0, cut)), ...splitter.push(bytes.subarray(cut))];
    assert.deepEqual(lines, ['{"a":"é"}', '{"b":"€"}'], `cut at ${cut}`);
    assert.equal(splitter.flush(), '{"c":1}');
    assert.equal(splitter.flush(), undefined);
  }
});

test('one chunk may complete several lines, and empty lines come through as empty strings', () => {
  const splitter = new LineSplitter();
  assert.deepEqual(splitter.push(Buffer.from('a\n\nb\n')), ['a', '', 'b']);
  assert.equal(splitter.flush(), undefined);
});
