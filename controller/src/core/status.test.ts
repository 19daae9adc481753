// Port of upstream pkg/bundle/util_test.go plus our status fields.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import type { Bundle, BundleCondition } from '@trust-manager/shared/api/types.ts';
import type { Certificate } from '@trust-manager/shared/certs/certificate.ts';
import { summarizeCertificates } from '@trust-manager/shared/certs/pool.ts';
import {
  type ConditionSpec,
  certificateFields,
  conditionFor,
  defaultCAVersionChanged,
  hasCondition,
  hasStatusExtensions,
  isUndeclaredStatusExtension,
  withoutStatusExtensions,
  statusFieldsChanged,
  stampedAt,
  statusWrite,
  syncedCondition,
} from './status.ts';
import { rfc3339 } from '@trust-manager/shared/api/time.ts';

const GENERATION = 2;
const FIXED_TIME = new Date('2021-01-01T01:00:00Z');
const EARLIER = '2021-01-01T00:59:59Z';

function condition(overrides: Partial<BundleCondition>): BundleCondition {
  return { type: 'Synced', status: 'True', lastTransitionTime: EARLIER, reason: 'A', message: '', ...overrides };
}

function bundleWithStatus(status: Bundle['status']): Bundle {
  return {
    apiVersion: 'trust.cert-manager.io/v1alpha1',
    kind: 'Bundle',
    metadata: { name: 'test-bundle', generation: GENERATION, uid: '123' },
    spec: { sources: [{ inLine: 'x' }] },
    ...(status !== undefined ? { status } : {}),
  };
}

test('hasCondition (upstream Test_bundleHasCondition)', () => {
  const wanted: ConditionSpec = { type: 'Synced', status: 'True', reason: 'A', message: '', observedGeneration: GENERATION };
  const cases: [string, BundleCondition[], boolean][] = [
    ['no existing conditions', [], false],
    ['different reason', [condition({ reason: 'B', observedGeneration: GENERATION })], false],
    ['older generation', [condition({ observedGeneration: GENERATION - 1 })], false],
    ['same condition and generation', [condition({ observedGeneration: GENERATION })], true],
    ['different lastTransitionTime still matches', [condition({ observedGeneration: GENERATION, lastTransitionTime: '2000-01-01T00:00:00Z' })], true],
    ['different status', [condition({ status: 'False', observedGeneration: GENERATION })], false],
    ['different message', [condition({ message: 'other', observedGeneration: GENERATION })], false],
    ['other type only', [condition({ type: 'Deprecated', observedGeneration: GENERATION })], false],
  ];
  for (const [name, existing, expected] of cases) {
    assert.equal(hasCondition(existing, wanted), expected, name);
  }
  assert.equal(hasCondition(undefined, wanted), false);
});

test('conditionFor keeps lastTransitionTime only while the status is unchanged (upstream Test_setBundleCondition)', () => {
  const wanted: ConditionSpec = { type: 'A', status: 'True', reason: 'B', message: 'C', observedGeneration: GENERATION };
  const expectedNew: BundleCondition = { type: 'A', status: 'True', reason: 'B', message: 'C', lastTransitionTime: '2021-01-01T01:00:00Z', observedGeneration: GENERATION };

  assert.deepEqual(conditionFor([], wanted, FIXED_TIME), expectedNew, 'no existing conditions');
  assert.deepEqual(conditionFor([condition({ type: 'B' })], wanted, FIXED_TIME), expectedNew, 'existing condition of another type');
  assert.deepEqual(
    conditionFor([condition({ type: 'A', status: 'False', reason: 'B', message: 'C', observedGeneration: GENERATION - 1 })], wanted, FIXED_TIME),
    expectedNew,
    'status changed: new time',
  );
  assert.deepEqual(
    conditionFor([condition({ type: 'A', status: 'True', reason: 'X', message: 'Y', observedGeneration: GENERATION - 1 })], wanted, FIXED_TIME),
    { ...expectedNew, lastTransitionTime: EARLIER },
    'same status: old time kept, rest replaced',
  );
});

test('defaultCAVersionChanged (upstream Test_setBundleStatusDefaultCAVersion)', () => {
  const cases: [string, string | undefined, string | undefined, boolean][] = [
    ['required empty, status populated', 'abc123', undefined, true],
    ['required empty, status present but empty', '', undefined, true],
    ['required empty, status absent', undefined, undefined, false],
    ['required set, status absent', undefined, 'abc123', true],
    ['required set, status different', 'def456', 'abc123', true],
    ['required set, status equal', 'abc123', 'abc123', false],
  ];
  for (const [name, current, required, expected] of cases) {
    assert.equal(defaultCAVersionChanged(current, required), expected, name);
  }
});

test('syncedCondition carries the generation; without one it is omitted', () => {
  assert.deepEqual(syncedCondition(bundleWithStatus(undefined), 'True', 'Synced', 'm'), {
    type: 'Synced',
    status: 'True',
    reason: 'Synced',
    message: 'm',
    observedGeneration: GENERATION,
  });
  const noGeneration = bundleWithStatus(undefined);
  delete noGeneration.metadata.generation;
  assert.equal('observedGeneration' in syncedCondition(noGeneration, 'True', 'Synced', 'm'), false);
});

test('statusWrite: the SSA body holds one condition and only the fields given', () => {
  const bundle = bundleWithStatus({ conditions: [condition({ type: 'Other' })] });
  const decision = statusWrite(
    bundle,
    syncedCondition(bundle, 'True', 'Synced', 'ok'),
    { defaultCAVersion: 'pkg-1-abc', certificateCount: 3, earliestExpiry: '2030-01-01T00:00:00Z' },
    FIXED_TIME,
  );
  assert.deepEqual(decision, {
    write: true,
    body: {
      apiVersion: 'trust.cert-manager.io/v1alpha1',
      kind: 'Bundle',
      metadata: { name: 'test-bundle' },
      status: {
        conditions: [
          { type: 'Synced', status: 'True', lastTransitionTime: '2021-01-01T01:00:00Z', reason: 'Synced', message: 'ok', observedGeneration: GENERATION },
        ],
        defaultCAVersion: 'pkg-1-abc',
        certificateCount: 3,
        earliestExpiry: '2030-01-01T00:00:00Z',
      },
    },
  });
  const bare = statusWrite(bundle, syncedCondition(bundle, 'False', 'X', 'y'), {}, FIXED_TIME);
  assert.ok(bare.write);
  assert.deepEqual(Object.keys(bare.body.status), ['conditions']);
});

test('stampedAt: a transition is stamped when the status is written; an unchanged status keeps its time', () => {
  const started = new Date('2021-01-01T01:00:00Z');
  const written = new Date('2021-01-01T01:00:18Z');
  const fresh = bundleWithStatus({ conditions: [condition({ status: 'False', reason: 'X' })] });
  const planned = statusWrite(fresh, syncedCondition(fresh, 'True', 'Synced', 'ok'), { certificateCount: 1 }, started);
  assert.ok(planned.write);
  const stamped = stampedAt(fresh, planned.body, written);
  assert.equal(stamped.status.conditions?.[0]?.lastTransitionTime, '2021-01-01T01:00:18Z');
  assert.deepEqual({ ...stamped.status.conditions?.[0], lastTransitionTime: '' }, { ...planned.body.status.conditions?.[0], lastTransitionTime: '' }, 'only the time moves');
  assert.equal(stamped.status.certificateCount, 1);

  const synced = bundleWithStatus({ conditions: [condition({ status: 'True', reason: 'Synced', message: 'old' })] });
  const update = statusWrite(synced, syncedCondition(synced, 'True', 'Synced', 'ok'), {}, started);
  assert.ok(update.write);
  assert.equal(stampedAt(synced, update.body, written).status.conditions?.[0]?.lastTransitionTime, EARLIER, 'status True before and after: no transition');
});

test('certificateFields: count and earliest notAfter at second precision', () => {
  const cert = (notAfter: string): Certificate =>
    ({ der: Buffer.alloc(0), fingerprint: '', subject: '', issuer: '', notBefore: new Date(0), notAfter: new Date(notAfter), isCA: true, selfIssued: true });
  const summary = summarizeCertificates([cert('2031-05-01T10:00:00.000Z'), cert('2029-02-03T04:05:06.900Z'), cert('2040-01-01T00:00:00Z')]);
  assert.deepEqual(certificateFields(summary), {
    certificateCount: 3,
    earliestExpiry: '2029-02-03T04:05:06Z',
  });
  assert.deepEqual(certificateFields(summarizeCertificates([])), { certificateCount: 0 });
});

test('statusFieldsChanged compares defaultCAVersion, certificateCount and earliestExpiry', () => {
  const current = bundleWithStatus({ defaultCAVersion: 'v1', certificateCount: 2, earliestExpiry: '2030-01-01T00:00:00Z' });
  assert.equal(statusFieldsChanged(current, { defaultCAVersion: 'v1', certificateCount: 2, earliestExpiry: '2030-01-01T00:00:00Z' }), false);
  assert.equal(statusFieldsChanged(current, { defaultCAVersion: 'v2', certificateCount: 2, earliestExpiry: '2030-01-01T00:00:00Z' }), true);
  assert.equal(statusFieldsChanged(current, { certificateCount: 2, earliestExpiry: '2030-01-01T00:00:00Z' }), true);
  assert.equal(statusFieldsChanged(current, { defaultCAVersion: 'v1', certificateCount: 3, earliestExpiry: '2030-01-01T00:00:00Z' }), true);
  assert.equal(statusFieldsChanged(current, { defaultCAVersion: 'v1', certificateCount: 2, earliestExpiry: '2031-01-01T00:00:00Z' }), true);
  assert.equal(statusFieldsChanged(bundleWithStatus(undefined), {}), false);
});

test('rfc3339 drops milliseconds and uses UTC', () => {
  assert.equal(rfc3339(new Date('2024-02-29T23:59:58.999+02:00')), '2024-02-29T21:59:58Z');
});

test("our status fields are recognised in the API server's answer for upstream's CRD, and dropped", () => {
  // The message server-side apply returns for a field the CRD's schema lacks.
  const answer =
    'failed to create typed patch object (/b; trust.cert-manager.io/v1alpha1, Kind=Bundle): .status.certificateCount: field not declared in schema';
  assert.equal(isUndeclaredStatusExtension(answer), true);
  assert.equal(isUndeclaredStatusExtension(answer.replace('certificateCount', 'earliestExpiry')), true);
  assert.equal(isUndeclaredStatusExtension(answer.replace('certificateCount', 'defaultCAVersion')), false, 'an upstream field is a real error');
  assert.equal(isUndeclaredStatusExtension('bundles.trust.cert-manager.io "b" is forbidden'), false);

  const bundle = bundleWithStatus(undefined);
  const decision = statusWrite(bundle, syncedCondition(bundle, 'True', 'Synced', 'ok'), { defaultCAVersion: 'pkg-1', certificateCount: 2, earliestExpiry: '2030-01-01T00:00:00Z' }, FIXED_TIME);
  assert.ok(decision.write);
  assert.equal(hasStatusExtensions(decision.body), true);
  const upstream = withoutStatusExtensions(decision.body);
  assert.equal(hasStatusExtensions(upstream), false);
  assert.deepEqual(upstream.status, { conditions: decision.body.status.conditions, defaultCAVersion: 'pkg-1' });
  assert.equal(decision.body.status.certificateCount, 2, 'the original body is left alone');
});
