import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WriteExpectations } from './expectations.ts';

test('pending until the cache shows a resourceVersion at least the written one', () => {
  const expectations = new WriteExpectations(5000);
  const cache = new Map<string, string>([['cm/a', '10']]);
  const lookup = (key: string): string | undefined => cache.get(key);
  expectations.expect('b', 'cm/a', '12', 0);
  expectations.expect('b', 'cm/new', '13', 0);
  assert.equal(expectations.pending('b', lookup, 100), true);
  cache.set('cm/a', '12');
  assert.equal(expectations.pending('b', lookup, 100), true, 'cm/new not seen yet');
  cache.set('cm/new', '99');
  assert.equal(expectations.pending('b', lookup, 100), false);
  assert.equal(expectations.pending('other', lookup, 100), false);
});

test('numeric comparison, not string comparison; unmet expectations expire', () => {
  const expectations = new WriteExpectations(5000);
  expectations.expect('b', 'k', '9', 0);
  assert.equal(expectations.pending('b', () => '10', 1), false, '10 >= 9 numerically');
  expectations.expect('b', 'k', '100', 0);
  assert.equal(expectations.pending('b', () => '99', 4999), true);
  assert.equal(expectations.pending('b', () => '99', 5000), false, 'expired');
});

test('non-numeric resourceVersions are not waited for; forget drops a Bundle', () => {
  const expectations = new WriteExpectations();
  expectations.expect('b', 'k', 'opaque-rv', 0);
  expectations.expect('b', 'j', undefined, 0);
  assert.equal(expectations.pending('b', () => undefined, 1), false);
  expectations.expect('c', 'k', '5', 0);
  expectations.forget('c');
  assert.equal(expectations.pending('c', () => undefined, 1), false);
});
