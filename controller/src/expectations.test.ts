import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WriteExpectations } from './expectations.ts';

function clock(start = 0): { now: () => number; advance: (ms: number) => void } {
  let t = start;
  return { now: () => t, advance: (ms) => void (t += ms) };
}

test('caught up once the cache shows a resourceVersion at least the written one', () => {
  const time = clock();
  const expectations = new WriteExpectations({ ttlMs: 5000, now: time.now });
  const cache = new Map<string, string>([['cm/a', '10']]);
  const lookup = (key: string): string | undefined => cache.get(key);
  expectations.expect('b', 'cm/a', '12');
  expectations.expect('b', 'cm/new', '13');
  assert.equal(expectations.caughtUp('b', lookup), false);
  cache.set('cm/a', '12');
  assert.equal(expectations.caughtUp('b', lookup), false, 'cm/new not seen yet');
  cache.set('cm/new', '99');
  assert.equal(expectations.caughtUp('b', lookup), true);
  assert.equal(expectations.caughtUp('other', lookup), true);
  expectations.clear();
});

test('numeric comparison, not string comparison; a write the cache already shows is not recorded', () => {
  const expectations = new WriteExpectations();
  expectations.expect('b', 'k', '9');
  assert.equal(expectations.caughtUp('b', () => '10'), true, '10 >= 9 numerically');
  expectations.expect('b', 'k', '100', '100');
  assert.equal(expectations.size, 0, 'the watch was faster than the response');
});

test('the watch event of our own write is ours; the last one queues a Bundle that was held back, once', () => {
  const queued: string[] = [];
  const expectations = new WriteExpectations({ onCaughtUp: (bundle) => queued.push(bundle) });
  expectations.expect('b', 'cm/a', '11');
  expectations.expect('b', 'cm/b', '12');
  assert.equal(expectations.observe('b', 'cm/a', '11'), true);
  assert.deepEqual(queued, [], 'nobody asked for a reconcile: our writes alone queue nothing');
  // A change by someone else meanwhile (another object of the Bundle): held back, not queued.
  assert.equal(expectations.observe('b', 'cm/other', '13'), false);
  assert.equal(expectations.caughtUp('b'), false);
  assert.equal(expectations.caughtUp('b'), false, 'asking twice still queues once');
  assert.equal(expectations.observe('b', 'cm/b', '12'), true);
  assert.deepEqual(queued, ['b']);
  assert.equal(expectations.caughtUp('b'), true);
  assert.equal(expectations.size, 0);
});

test('a later version than our write is visible progress but not ours; an older one is neither', () => {
  const queued: string[] = [];
  const expectations = new WriteExpectations({ onCaughtUp: (bundle) => queued.push(bundle) });
  expectations.expect('b', 'cm/a', '20');
  expectations.expect('b', 'cm/b', '21');
  assert.equal(expectations.observe('b', 'cm/a', '19'), false, 'older state replayed late');
  assert.equal(expectations.caughtUp('b'), false);
  assert.equal(expectations.observe('b', 'cm/a', '25'), false, 'changed again after our write: reconcile');
  assert.equal(expectations.observe('b', 'cm/b', '21'), true);
  assert.deepEqual(queued, ['b']);
});

test('a replay of every write (watch restart or relist) queues nothing when nothing else happened', () => {
  const queued: string[] = [];
  const expectations = new WriteExpectations({ onCaughtUp: (bundle) => queued.push(bundle) });
  for (let i = 0; i < 1000; i++) expectations.expect('b', `cm/${i}`, String(100 + i));
  for (let i = 0; i < 1000; i++) assert.equal(expectations.observe('b', `cm/${i}`, String(100 + i)), true);
  assert.deepEqual(queued, []);
  assert.equal(expectations.size, 0);
});

test('waiting ends ttl after the last progress, not after the first write', async () => {
  const time = clock();
  const queued: string[] = [];
  const expectations = new WriteExpectations({ ttlMs: 40, now: time.now, onCaughtUp: (bundle) => queued.push(bundle) });
  expectations.expect('b', 'cm/a', '1');
  expectations.expect('b', 'cm/b', '2');
  expectations.expect('b', 'cm/c', '3');
  assert.equal(expectations.caughtUp('b'), false);
  time.advance(30);
  assert.equal(expectations.observe('b', 'cm/a', '1'), true, 'progress at t=30');
  time.advance(20);
  assert.equal(expectations.caughtUp('b'), false, '20 ms since the last progress');
  time.advance(20);
  await new Promise((resolve) => setTimeout(resolve, 60));
  assert.deepEqual(queued, ['b'], 'the timer queued it once progress had stopped for ttl');
  assert.equal(expectations.size, 0, 'expired expectations are dropped');
});

test('non-numeric resourceVersions are not waited for; forget drops a Bundle', () => {
  const expectations = new WriteExpectations();
  expectations.expect('b', 'k', 'opaque-rv');
  expectations.expect('b', 'j', undefined);
  assert.equal(expectations.caughtUp('b', () => undefined), true);
  expectations.expect('c', 'k', '5');
  expectations.forget('c');
  assert.equal(expectations.caughtUp('c', () => undefined), true);
});
