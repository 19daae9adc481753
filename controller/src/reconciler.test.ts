import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { forEachBounded } from './reconciler.ts';

test('forEachBounded keeps at most `limit` in flight and visits everything', async () => {
  let inFlight = 0;
  let max = 0;
  const seen: number[] = [];
  await forEachBounded([1, 2, 3, 4, 5, 6, 7], 3, new AbortController().signal, async (n) => {
    inFlight++;
    max = Math.max(max, inFlight);
    await sleep(2);
    seen.push(n);
    inFlight--;
  });
  assert.equal(max, 3);
  assert.deepEqual(seen.sort(), [1, 2, 3, 4, 5, 6, 7]);
});

test('forEachBounded starts nothing new after abort, but lets running items finish', async () => {
  const abort = new AbortController();
  const finished: number[] = [];
  await forEachBounded([1, 2, 3, 4], 2, abort.signal, async (n) => {
    if (n === 2) abort.abort();
    await sleep(2);
    finished.push(n);
  });
  assert.deepEqual(finished.sort(), [1, 2]);
});
