import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';

import { CTB_API_ENABLE_HINT, CTB_FEATURE_ENABLE_HINT, MAX_TRUST_BUNDLE_SIZE } from '@trust-manager/shared/api/cluster-trust-bundle.ts';
import { BUNDLE_LABEL, HASH_ANNOTATION } from '@trust-manager/shared/api/constants.ts';
import type { Bundle, BundleTarget } from '@trust-manager/shared/api/types.ts';
import type { Certificate } from '@trust-manager/shared/certs/certificate.ts';
import { certificatePem } from '@trust-manager/shared/certs/pool.ts';
import { parsePemCertificates } from '@trust-manager/shared/certs/scan.ts';
import { makeCA } from '@trust-manager/shared/certs/testing/fixtures.ts';
import {
  availabilityProblem,
  bundlesUsingClusterTrustBundles,
  planClusterTrustBundleTarget,
  selectClusterTrustBundles,
  type ClusterTrustBundleObject,
} from './cluster-trust-bundles.ts';

const UID = 'bundle-uid';
let ca1: Certificate;
let ca2: Certificate;
let leaf: Certificate;

before(async () => {
  const [a, b] = await Promise.all([makeCA({ cn: 'ctb-unit-1' }), makeCA({ cn: 'ctb-unit-2' })]);
  const l = await makeCA({ cn: 'ctb-unit-leaf', isCA: false, issuer: a });
  [ca1, ca2, leaf] = [a, b, l].map((cert) => parsePemCertificates(cert.pem)[0]!) as [Certificate, Certificate, Certificate];
});

function bundle(target: BundleTarget | undefined, name = 'my-bundle'): Bundle {
  return {
    apiVersion: 'trust.cert-manager.io/v1alpha1',
    kind: 'Bundle',
    metadata: { name, uid: UID },
    spec: { sources: [{ inLine: 'x' }], ...(target !== undefined ? { target } : {}) },
  };
}

function owned(name: string, trustBundle: string, extra: Partial<ClusterTrustBundleObject['metadata']> = {}, signerName?: string): ClusterTrustBundleObject {
  return {
    metadata: {
      name,
      uid: `uid-${name}`,
      labels: { [BUNDLE_LABEL]: 'my-bundle' },
      ownerReferences: [{ apiVersion: 'trust.cert-manager.io/v1alpha1', kind: 'Bundle', name: 'my-bundle', uid: UID, controller: true }],
      ...extra,
    },
    spec: { ...(signerName ? { signerName } : {}), trustBundle },
  };
}

describe('planClusterTrustBundleTarget', () => {
  test('writes only the CA certificates, with the Bundle label, hash, template metadata and owner; counts what it left out', () => {
    const plan = planClusterTrustBundleTarget(
      bundle({ clusterTrustBundle: { metadata: { labels: { team: 'a' }, annotations: { note: 'n' } } } }),
      [ca1, leaf, ca2],
      [],
      'available',
    );
    assert.equal(plan.problem, undefined);
    assert.ok(plan.apply);
    const { body } = plan.apply;
    assert.equal(body.apiVersion, 'certificates.k8s.io/v1beta1');
    assert.equal(body.kind, 'ClusterTrustBundle');
    assert.equal(body.metadata.name, 'my-bundle');
    assert.deepEqual(body.metadata.labels, { team: 'a', [BUNDLE_LABEL]: 'my-bundle' });
    assert.equal(body.metadata.annotations.note, 'n');
    assert.match(body.metadata.annotations[HASH_ANNOTATION] ?? '', /^[0-9a-f]{64}$/);
    assert.deepEqual(body.metadata.ownerReferences, [
      { apiVersion: 'trust.cert-manager.io/v1alpha1', kind: 'Bundle', name: 'my-bundle', uid: UID, controller: true, blockOwnerDeletion: true },
    ]);
    assert.equal(body.spec.signerName, undefined);
    assert.deepEqual(
      parsePemCertificates(body.spec.trustBundle).map((c) => c.fingerprint),
      [ca1, ca2].map((c) => c.fingerprint),
    );
    assert.doesNotMatch(body.spec.trustBundle, /Proc-Type|:/, 'no PEM headers');
    assert.deepEqual(plan.status, { name: 'my-bundle', certificateCount: 2, nonCACertificatesLeftOut: 1 });
    assert.equal(
      plan.leftOutNote,
      '1 certificate(s) left out of ClusterTrustBundle "my-bundle": not CA certificates (basicConstraints CA is not true), which the ClusterTrustBundle API does not accept',
    );
  });

  test('signerName: the name carries the signer prefix and spec.signerName is set', () => {
    const plan = planClusterTrustBundleTarget(bundle({ clusterTrustBundle: { signerName: 'example.com/my-signer' } }), [ca1], [], 'available');
    assert.equal(plan.apply?.name, 'example.com:my-signer:my-bundle');
    assert.equal(plan.apply?.body.spec.signerName, 'example.com/my-signer');
    assert.equal(plan.leftOutNote, undefined);
    assert.deepEqual(plan.status, { name: 'example.com:my-signer:my-bundle', certificateCount: 1 });
  });

  test('an up-to-date object is not written again; any difference (content, hash, owner, label) is', () => {
    const target = bundle({ clusterTrustBundle: {} });
    const first = planClusterTrustBundleTarget(target, [ca1], [], 'available');
    const written = first.apply!.body;
    const current = owned('my-bundle', written.spec.trustBundle, { annotations: { [HASH_ANNOTATION]: written.metadata.annotations[HASH_ANNOTATION]! } });
    assert.equal(planClusterTrustBundleTarget(target, [ca1], [current], 'available').apply, undefined);
    const variants: ClusterTrustBundleObject[] = [
      { ...current, spec: { trustBundle: `${written.spec.trustBundle}\n` } },
      { ...current, metadata: { ...current.metadata, annotations: { [HASH_ANNOTATION]: 'other' } } },
      { ...current, metadata: { ...current.metadata, ownerReferences: [] } },
      { ...current, metadata: { ...current.metadata, labels: {} } },
    ];
    for (const variant of variants) assert.ok(planClusterTrustBundleTarget(target, [ca1], [variant], 'available').apply, JSON.stringify(variant.metadata));
    // Template metadata is part of the hash.
    assert.ok(planClusterTrustBundleTarget(bundle({ clusterTrustBundle: { metadata: { labels: { x: 'y' } } } }), [ca1], [current], 'available').apply);
  });

  test('objects this Bundle controls under another name are deleted (signer changed); others are left alone', () => {
    const stale = owned('example.com:old:my-bundle', 'pem', {}, 'example.com/old');
    const foreign = { ...owned('someone-else', 'pem'), metadata: { name: 'someone-else', labels: { [BUNDLE_LABEL]: 'my-bundle' } } };
    const plan = planClusterTrustBundleTarget(bundle({ clusterTrustBundle: {} }), [ca1], [stale, foreign], 'available');
    assert.deepEqual(plan.delete, [{ name: 'example.com:old:my-bundle', uid: 'uid-example.com:old:my-bundle' }]);
    assert.equal(plan.apply?.name, 'my-bundle');
  });

  test('target removed: every object the Bundle controls is deleted, nothing written, no status', () => {
    const plan = planClusterTrustBundleTarget(bundle({ configMap: { key: 'k' } }), [ca1], [owned('my-bundle', 'pem')], 'available');
    assert.deepEqual(plan, { delete: [{ name: 'my-bundle', uid: 'uid-my-bundle' }] });
  });

  test('disabled or unavailable: a problem naming the fix, nothing written or deleted', () => {
    for (const availability of ['disabled', 'unavailable', undefined] as const) {
      const plan = planClusterTrustBundleTarget(bundle({ clusterTrustBundle: {} }), [ca1], [owned('my-bundle', 'pem')], availability);
      assert.equal(plan.apply, undefined);
      assert.deepEqual(plan.delete, []);
      assert.equal(plan.problem?.reason, availability === 'unavailable' ? 'ClusterTrustBundleAPIUnavailable' : 'ClusterTrustBundlesDisabled');
    }
  });

  test('never writes what the API server would reject: bad signer, no CA certificate, over 1 MiB', () => {
    const badSigner = planClusterTrustBundleTarget(bundle({ clusterTrustBundle: { signerName: 'no-slash' } }), [ca1], [], 'available');
    assert.equal(badSigner.apply, undefined);
    assert.deepEqual(badSigner.problem, {
      reason: 'ClusterTrustBundleTargetInvalid',
      message:
        'ClusterTrustBundle target is invalid: spec.target.clusterTrustBundle.signerName: Invalid value: "no-slash": must be a fully qualified domain and path of the form \'example.com/signer-name\'',
    });

    const leavesOnly = planClusterTrustBundleTarget(bundle({ clusterTrustBundle: {} }), [leaf], [], 'available');
    assert.equal(leavesOnly.apply, undefined);
    assert.deepEqual(leavesOnly.problem, {
      reason: 'ClusterTrustBundleTargetInvalid',
      message: 'ClusterTrustBundle "my-bundle" not written: none of the 1 certificate(s) of the bundle is a CA certificate, and the ClusterTrustBundle API accepts only CA certificates',
    });

    // The same CA many times cannot happen (the pool deduplicates); size is checked on the PEM written.
    const many = Array.from({ length: Math.ceil(MAX_TRUST_BUNDLE_SIZE / certificatePem(ca1).length) + 1 }, (_, i) => ({ ...ca1, fingerprint: `f${i}` }));
    const tooBig = planClusterTrustBundleTarget(bundle({ clusterTrustBundle: {} }), many, [], 'available');
    assert.equal(tooBig.apply, undefined);
    assert.equal(tooBig.problem?.reason, 'ClusterTrustBundleTargetInvalid');
    assert.match(tooBig.problem?.message ?? '', /more than the 1048576 bytes the ClusterTrustBundle API accepts$/);
  });
});

describe('availabilityProblem', () => {
  test('texts name the API, the flags and the chart value', () => {
    assert.equal(availabilityProblem('available', 'x'), undefined);
    assert.deepEqual(availabilityProblem('unavailable', 'spec.target.clusterTrustBundle'), {
      reason: 'ClusterTrustBundleAPIUnavailable',
      message: `Bundle uses ClusterTrustBundles (spec.target.clusterTrustBundle) but this cluster does not serve the clustertrustbundles.certificates.k8s.io/v1beta1 API: ${CTB_API_ENABLE_HINT}`,
    });
    assert.match(CTB_API_ENABLE_HINT, /--runtime-config=certificates\.k8s\.io\/v1beta1\/clustertrustbundles=true/);
    assert.match(CTB_API_ENABLE_HINT, /--feature-gates=ClusterTrustBundle=true/);
    assert.deepEqual(availabilityProblem('disabled', 'p'), {
      reason: 'ClusterTrustBundlesDisabled',
      message: `Bundle uses ClusterTrustBundles (p) but ClusterTrustBundle support is disabled: ${CTB_FEATURE_ENABLE_HINT}`,
    });
    assert.match(CTB_FEATURE_ENABLE_HINT, /--cluster-trust-bundles-enabled.*clusterTrustBundles\.enabled=true/);
  });
});

describe('selection (projected-volume semantics)', () => {
  const object = (name: string, signerName: string | undefined, labels: Record<string, string> = {}): ClusterTrustBundleObject => ({
    metadata: { name, labels },
    spec: { ...(signerName ? { signerName } : {}), trustBundle: '' },
  });
  const objects = [
    object('example.com:s:b', 'example.com/s', { group: 'x' }),
    object('example.com:s:a', 'example.com/s', { group: 'y' }),
    object('example.org:t:a', 'example.org/t', { group: 'x' }),
    object('plain', undefined, { group: 'x' }),
  ];
  const names = (list: ClusterTrustBundleObject[]): string[] => list.map((o) => o.metadata.name);

  test('an unset selector selects none, {} every object of the signer (sorted by name), labels filter', () => {
    assert.deepEqual(names(selectClusterTrustBundles(objects, 'example.com/s', undefined)), []);
    assert.deepEqual(names(selectClusterTrustBundles(objects, 'example.com/s', {})), ['example.com:s:a', 'example.com:s:b']);
    assert.deepEqual(names(selectClusterTrustBundles(objects, 'example.com/s', { matchLabels: { group: 'x' } })), ['example.com:s:b']);
    assert.deepEqual(names(selectClusterTrustBundles(objects, 'example.org/t', { matchExpressions: [{ key: 'group', operator: 'In', values: ['x'] }] })), ['example.org:t:a']);
  });

  test('a change concerns the Bundles whose source names or selects the object', () => {
    const using = (sources: Bundle['spec']['sources'], name: string): Bundle => ({ ...bundle(undefined, name), spec: { sources } });
    const bundles = [
      using([{ clusterTrustBundle: { name: 'plain' } }], 'by-name'),
      using([{ clusterTrustBundle: { signerName: 'example.com/s', labelSelector: { matchLabels: { group: 'x' } } } }], 'by-signer'),
      using([{ clusterTrustBundle: { signerName: 'example.com/s' } }], 'selects-none'),
      using([{ inLine: 'x' }], 'unrelated'),
    ];
    assert.deepEqual(bundlesUsingClusterTrustBundles(bundles, [objects[3]!]), ['by-name']);
    assert.deepEqual(bundlesUsingClusterTrustBundles(bundles, [objects[0]!]), ['by-signer']);
    // On an update both states count: a label removed still reaches the Bundle that selected it.
    assert.deepEqual(bundlesUsingClusterTrustBundles(bundles, [objects[1]!, objects[0]!]), ['by-signer']);
  });
});
