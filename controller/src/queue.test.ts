import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { backoffDelay, runWorkers, WorkQueue } from './queue.ts';

test('a waiting key is held once however often it is added', async () => {
  const queue = new WorkQueue();
  queue.add('a');
  queue.add('b');
  queue.add('a');
  assert.equal(queue.length, 2);
  assert.equal(await queue.get(), 'a');
  assert.equal(await queue.get(), 'b');
});

test('a key added while processing comes back after done(), never to a second worker at once', async () => {
  const queue = new WorkQueue();
  queue.add('a');
  const key = await queue.get();
  queue.add('a');
  assert.equal(queue.length, 0, 'not handed out while in progress');
  const second = queue.get();
  let handedOut = false;
  void second.then(() => (handedOut = true));
  await sleep(5);
  assert.equal(handedOut, false);
  queue.done(key!);
  assert.equal(await second, 'a');
});

test('per-key exponential backoff 5 ms doubling up to 1000 s; forget resets it', () => {
  assert.deepEqual([0, 1, 2, 3].map((n) => backoffDelay(n, 5, 1_000_000)), [5, 10, 20, 40]);
  assert.equal(backoffDelay(40, 5, 1_000_000), 1_000_000);
  const queue = new WorkQueue();
  assert.equal(queue.addRateLimited('k'), 5);
  assert.equal(queue.addRateLimited('k'), 10);
  assert.equal(queue.failures('k'), 2);
  queue.forget('k');
  assert.equal(queue.failures('k'), 0);
  queue.shutDown();
});

test('addAfter: the earliest pending delay wins, and a direct add supersedes it', async () => {
  const queue = new WorkQueue();
  queue.addAfter('k', 60_000);
  queue.addAfter('k', 10);
  assert.equal(await queue.get(), 'k');
  queue.done('k');
  queue.addAfter('j', 60_000);
  queue.add('j');
  assert.equal(await queue.get(), 'j');
  queue.done('j');
  assert.equal(queue.length, 0);
  queue.shutDown();
});

test('runWorkers: bounded concurrency, distinct keys in parallel, failures retried with backoff', async () => {
  const queue = new WorkQueue({ baseDelayMs: 1 });
  let inFlight = 0;
  let maxInFlight = 0;
  const attempts = new Map<string, number>();
  const finished: string[] = [];
  const workers = runWorkers(queue, 2, async (key) => {
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    const attempt = (attempts.get(key) ?? 0) + 1;
    attempts.set(key, attempt);
    await sleep(5);
    inFlight--;
    if (key === 'flaky' && attempt < 3) throw new Error('try again');
    finished.push(key);
  });
  for (const key of ['a', 'b', 'c', 'flaky']) queue.add(key);
  while (finished.length < 4) await sleep(5);
  assert.equal(maxInFlight, 2);
  assert.equal(attempts.get('flaky'), 3);
  assert.equal(queue.failures('flaky'), 0, 'success forgets the failures');
  queue.shutDown();
  await workers;
});

test('runWorkers: shutdown lets the running handler finish and starts nothing new', async () => {
  const queue = new WorkQueue();
  let started = 0;
  let completed = 0;
  const slow = runWorkers(queue, 1, async () => {
    started++;
    await sleep(20);
    completed++;
  });
  queue.add('slow');
  queue.add('never');
  await sleep(5);
  queue.shutDown();
  await slow;
  assert.equal(started, 1);
  assert.equal(completed, 1);
});

test('a handler may ask for its key again later', async () => {
  const queue = new WorkQueue();
  let runs = 0;
  const workers = runWorkers(queue, 1, () => {
    runs++;
    return Promise.resolve(runs === 1 ? { requeueAfterMs: 5 } : undefined);
  });
  queue.add('k');
  while (runs < 2) await sleep(2);
  queue.shutDown();
  await workers;
  assert.equal(runs, 2);
});
