import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ExponentialBackoff, sleep } from './backoff.ts';

test('delays double up to the cap, with jitter on top, and reset starts over', () => {
  const backoff = new ExponentialBackoff({ initialMs: 100, maxMs: 1000, jitter: 0.5, random: () => 0 });
  assert.deepEqual([1, 2, 3, 4, 5, 6].map(() => backoff.next()), [100, 200, 400, 800, 1000, 1000]);
  assert.equal(backoff.failures, 6);
  backoff.reset();
  assert.equal(backoff.next(), 100);
  const jittered = new ExponentialBackoff({ initialMs: 100, maxMs: 1000, jitter: 0.5, random: () => 0.999 });
  assert.equal(jittered.next(), 150);
});

test('sleep rejects with the abort reason', async () => {
  const controller = new AbortController();
  const pending = sleep(60_000, controller.signal);
  controller.abort(new Error('stop'));
  await assert.rejects(pending, /stop/);
  await assert.rejects(sleep(1, controller.signal), /stop/);
});
