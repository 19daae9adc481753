import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildEvent, microTime, truncateUtf8 } from './events.ts';

const ctx = { reportingController: 'bundles', reportingInstance: 'bundles-host', now: new Date('2026-02-03T04:05:06.789Z') };

test('an Event about a cluster-scoped object goes to namespace default, with events.k8s.io fields', () => {
  const event = buildEvent(
    { apiVersion: 'trust.cert-manager.io/v1alpha1', kind: 'Bundle', name: 'my-bundle', uid: 'u1' },
    { type: 'Normal', reason: 'Synced', action: 'Synced', note: 'Successfully synced Bundle to all namespaces' },
    ctx,
  );
  assert.equal(event.apiVersion, 'events.k8s.io/v1');
  assert.equal(event.metadata.namespace, 'default');
  assert.match(event.metadata.name, /^my-bundle\.[0-9a-f]+$/);
  assert.equal(event.eventTime, '2026-02-03T04:05:06.789000Z');
  assert.equal(event.reportingController, 'bundles');
  assert.equal(event.regarding.name, 'my-bundle');
  assert.equal(event.note, 'Successfully synced Bundle to all namespaces');
});

test('namespaced objects keep their namespace; long names and notes are cut to the API limits', () => {
  const event = buildEvent(
    { apiVersion: 'v1', kind: 'ConfigMap', name: 'x'.repeat(253), namespace: 'team' },
    { type: 'Warning', reason: 'R', action: 'A', note: 'ü'.repeat(600) },
    ctx,
  );
  assert.equal(event.metadata.namespace, 'team');
  assert.ok(event.metadata.name.length <= 253);
  assert.equal(Buffer.byteLength(event.note), 1024);
});

test('microTime has six fractional digits; truncateUtf8 never splits a character', () => {
  assert.equal(microTime(new Date('2026-01-01T00:00:00.000Z')), '2026-01-01T00:00:00.000000Z');
  assert.equal(truncateUtf8('aé', 2), 'a');
  assert.equal(truncateUtf8('aé', 3), 'aé');
  assert.equal(truncateUtf8('€€', 5), '€');
});
