import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatGoDuration, parseGoDuration } from './duration.ts';

test('parses Go durations', () => {
  assert.equal(parseGoDuration('15s'), 15_000);
  assert.equal(parseGoDuration('1m30s'), 90_000);
  assert.equal(parseGoDuration('1.5h'), 5_400_000);
  assert.equal(parseGoDuration('500ms'), 500);
  assert.equal(parseGoDuration('250us'), 0.25);
  assert.equal(parseGoDuration('250\u00b5s'), 0.25, 'micro sign');
  assert.equal(parseGoDuration('250\u03bcs'), 0.25, 'Greek small letter mu');
  assert.equal(parseGoDuration('1m250\u00b5s'), 60_000.25);
  assert.equal(parseGoDuration('0'), 0);
  assert.equal(parseGoDuration('-2s'), -2000);
  assert.equal(parseGoDuration('.5s'), 500);
});

test('rejects what Go rejects, with Go messages', () => {
  assert.throws(() => parseGoDuration('15'), { message: 'time: missing unit in duration "15"' });
  assert.throws(() => parseGoDuration(''), { message: 'time: invalid duration ""' });
  assert.throws(() => parseGoDuration('1d'), { message: 'time: invalid duration "1d"' });
  assert.throws(() => parseGoDuration('s'), { message: 'time: invalid duration "s"' });
  assert.throws(() => parseGoDuration('1s2'), { message: 'time: missing unit in duration "1s2"' });
  assert.throws(() => parseGoDuration('1x2s'), { message: 'time: invalid duration "1x2s"' });
});

test('formats like Duration.String()', () => {
  assert.equal(formatGoDuration(15_000), '15s');
  assert.equal(formatGoDuration(10_000), '10s');
  assert.equal(formatGoDuration(90_000), '1m30s');
  assert.equal(formatGoDuration(3_600_000), '1h0m0s');
  assert.equal(formatGoDuration(2_000), '2s');
  assert.equal(formatGoDuration(1_500), '1.5s');
  assert.equal(formatGoDuration(500), '500ms');
  assert.equal(formatGoDuration(0), '0s');
});
