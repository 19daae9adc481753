import { test } from 'node:test';
import assert from 'node:assert/strict';

import { rfc3339 } from '../api/time.ts';
import { compareStrings } from './compare.ts';
import { errorMessage } from './error-message.ts';

test('errorMessage: the message of an Error, the string form of anything else', () => {
  assert.equal(errorMessage(new TypeError('bad input')), 'bad input');
  assert.equal(errorMessage('plain'), 'plain');
  assert.equal(errorMessage(42), '42');
  assert.equal(errorMessage(undefined), 'undefined');
});

test('compareStrings: byte order for ASCII (upper case before lower case), not locale order', () => {
  assert.deepEqual(['b', 'B', 'a', 'a-1', 'a.1', 'A'].sort(compareStrings), ['A', 'B', 'a', 'a-1', 'a.1', 'b']);
  assert.equal(compareStrings('same', 'same'), 0);
});

test('rfc3339: second precision with Z, as metav1.Time', () => {
  assert.equal(rfc3339(new Date('2026-01-02T03:04:05.678Z')), '2026-01-02T03:04:05Z');
  assert.equal(rfc3339(new Date(Date.UTC(1999, 11, 31, 23, 59, 59))), '1999-12-31T23:59:59Z');
});
