import assert from 'node:assert/strict';
import { test } from 'node:test';

import { pino } from 'pino';

import { ClusterTrustBundleApiWatch, type ClusterTrustBundleDiscovery } from './cluster-trust-bundle-api.ts';

const logger = pino({ level: 'silent' });

/** Answers from a script: true/false = served or not, an Error = discovery failed. */
function scripted(answers: Array<boolean | Error>): ClusterTrustBundleDiscovery & { closed: boolean } {
  const discovery = {
    closed: false,
    served: () => {
      const next = answers.shift();
      return next instanceof Error ? Promise.reject(next) : Promise.resolve(next ?? false);
    },
    close: () => {
      discovery.closed = true;
      return Promise.resolve();
    },
  };
  return discovery;
}

test('without discovery (flag off) the API is disabled, at once', () => {
  assert.equal(new ClusterTrustBundleApiWatch({ logger }).current, 'disabled');
});

test('unknown until the first answer; a failed round keeps the last answer; later answers replace it', async () => {
  const discovery = scripted([new Error('connection refused'), false, new Error('timeout'), true]);
  const watch = new ClusterTrustBundleApiWatch({ logger, discovery, intervalMs: 3_600_000 });
  assert.equal(watch.current, undefined);
  await watch.refresh();
  assert.equal(watch.current, undefined, 'a failure says nothing');
  await watch.refresh();
  assert.equal(watch.current, 'unavailable');
  await watch.refresh();
  assert.equal(watch.current, 'unavailable', 'kept across a failure');
  await watch.refresh();
  assert.equal(watch.current, 'available', 'an API enabled later is noticed');
  await watch.close();
  assert.equal(discovery.closed, true);
});

test('start() asks at once', async () => {
  const watch = new ClusterTrustBundleApiWatch({ logger, discovery: scripted([true]), intervalMs: 3_600_000 });
  watch.start();
  await watch.refresh(); // joins the round start() began
  assert.equal(watch.current, 'available');
  await watch.close();
});
