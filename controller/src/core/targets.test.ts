// Port of upstream pkg/bundle/internal/target/target_test.go (needsUpdate matrix, Test_TrustBundleHash)
// plus the apply bodies, cleanup decisions and encodings.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import type { V1ManagedFieldsEntry, V1OwnerReference } from '@kubernetes/client-node';
import type { Bundle, BundleTarget } from '@trust-manager/shared/api/types.ts';
import { parsePemCertificates } from '@trust-manager/shared/certs/scan.ts';
import { makeCA } from '@trust-manager/shared/certs/testing/fixtures.ts';
import {
  type BundleData,
  type EncodedBundle,
  type EncodingFormats,
  type TargetKind,
  type TargetMetadata,
  EncodingCache,
  buildCleanupApply,
  encodeBundle,
  buildTargetApply,
  cleanupNeeded,
  encodingFormatsFor,
  encodingKey,
  isEmptyAfterCleanup,
  needsUpdate,
  targetHashFor,
} from './targets.ts';

const BUNDLE_NAME = 'test-bundle';
const BUNDLE_UID = 'uid-123';
const KEY = 'trust.pem';
const JKS_KEY = 'trust.jks';
const PKCS12_KEY = 'trust.p12';
const HASH = 'the-hash';
const NAMESPACE = 'test-namespace';

function bundleWith(target: BundleTarget): Bundle {
  return {
    apiVersion: 'trust.cert-manager.io/v1alpha1',
    kind: 'Bundle',
    metadata: { name: BUNDLE_NAME, uid: BUNDLE_UID, generation: 1 },
    spec: { sources: [{ inLine: 'x' }], target },
  };
}

function bundleFor(kind: TargetKind, formats: { jks?: boolean; pkcs12?: boolean } = {}): Bundle {
  const template = { key: KEY };
  const target: BundleTarget = kind === 'ConfigMap' ? { configMap: template } : { secret: template };
  if (formats.jks === true || formats.pkcs12 === true) {
    target.additionalFormats = {
      ...(formats.jks === true ? { jks: { key: JKS_KEY, password: 'changeit' } } : {}),
      ...(formats.pkcs12 === true ? { pkcs12: { key: PKCS12_KEY, password: '' } } : {}),
    };
  }
  return bundleWith(target);
}

/** Like upstream ssa_client.ManagedFieldEntries: keys under data and binaryData, applied by trust-manager. */
function managedFields(dataKeys: string[], binaryKeys: string[] = [], manager = 'trust-manager', operation = 'Apply'): V1ManagedFieldsEntry[] {
  const fields: Record<string, Record<string, object>> = {};
  if (dataKeys.length > 0) fields['f:data'] = Object.fromEntries(dataKeys.map((key) => [`f:${key}`, {}]));
  if (binaryKeys.length > 0) fields['f:binaryData'] = Object.fromEntries(binaryKeys.map((key) => [`f:${key}`, {}]));
  return [{ manager, operation, apiVersion: 'v1', fieldsType: 'FieldsV1', fieldsV1: fields }];
}

function controllerRef(name = BUNDLE_NAME, uid = BUNDLE_UID, controller = true): V1OwnerReference {
  return { apiVersion: 'trust.cert-manager.io/v1alpha1', kind: 'Bundle', name, uid, controller, blockOwnerDeletion: true };
}

function existing(kind: TargetKind, overrides: Partial<TargetMetadata> = {}): TargetMetadata {
  return {
    kind,
    namespace: NAMESPACE,
    name: BUNDLE_NAME,
    labels: { 'trust.cert-manager.io/bundle': BUNDLE_NAME },
    annotations: { 'trust.cert-manager.io/hash': HASH },
    ownerReferences: [controllerRef()],
    managedFields: managedFields([KEY]),
    ...overrides,
  };
}

for (const kind of ['ConfigMap', 'Secret'] as const) {
  // Where the additional formats live: a ConfigMap keeps them in binaryData, a Secret in data.
  const formatFields = (keys: string[]): V1ManagedFieldsEntry[] => (kind === 'ConfigMap' ? managedFields([KEY], keys) : managedFields([KEY, ...keys]));

  describe(`needsUpdate ${kind}`, () => {
    const cases: [string, TargetMetadata | undefined, { jks?: boolean; pkcs12?: boolean }, boolean][] = [
      ["object doesn't exist", undefined, {}, true],
      ["object doesn't exist, with JKS", undefined, { jks: true }, true],
      ["object doesn't exist, with PKCS12", undefined, { pkcs12: true }, true],
      ['exists without data or owner', existing(kind, { ownerReferences: undefined, managedFields: managedFields([]) }), {}, true],
      ['exists with data but no owner', existing(kind, { ownerReferences: undefined }), {}, true],
      ['exists with owner but no data', existing(kind, { managedFields: undefined }), {}, true],
      ['exists with owner but wrong hash', existing(kind, { annotations: { 'trust.cert-manager.io/hash': 'wrong hash' } }), {}, true],
      ['exists with owner but without JKS', existing(kind), { jks: true }, true],
      ['exists with owner but without PKCS12', existing(kind), { pkcs12: true }, true],
      ['exists with owner but wrong key', existing(kind, { managedFields: managedFields(['wrong key']) }), {}, true],
      ['exists with owner but wrong JKS key', existing(kind, { managedFields: formatFields(['wrong key']) }), { jks: true }, true],
      ['exists with owner but wrong PKCS12 key', existing(kind, { managedFields: formatFields(['wrong key']) }), { pkcs12: true }, true],
      ['exists with owner and an extra owned key', existing(kind, { managedFields: managedFields([KEY, 'old-key']) }), {}, true],
      ['exists with correct data', existing(kind), {}, false],
      ['exists with correct data and JKS', existing(kind, { managedFields: formatFields([JKS_KEY]) }), { jks: true }, false],
      ['exists with correct data and PKCS12', existing(kind, { managedFields: formatFields([PKCS12_KEY]) }), { pkcs12: true }, false],
      ['exists with correct data, JKS and PKCS12', existing(kind, { managedFields: formatFields([JKS_KEY, PKCS12_KEY]) }), { jks: true, pkcs12: true }, false],
      [
        'correct data plus foreign data keys and a second controller reference after ours',
        existing(kind, {
          ownerReferences: [controllerRef(), controllerRef('another-bundle', 'uid-other')],
          managedFields: [...managedFields([KEY]), ...managedFields(['another-key'], [], 'kubectl', 'Update')],
        }),
        {},
        false,
      ],
      ['missing hash annotation', existing(kind, { annotations: undefined }), {}, true],
      ['missing bundle label', existing(kind, { labels: { other: 'x' } }), {}, true],
      ['label naming another bundle', existing(kind, { labels: { 'trust.cert-manager.io/bundle': 'other' } }), {}, true],
      ['controller reference with another UID', existing(kind, { ownerReferences: [controllerRef(BUNDLE_NAME, 'uid-other')] }), {}, true],
      ['owner reference that is not the controller', existing(kind, { ownerReferences: [controllerRef(BUNDLE_NAME, BUNDLE_UID, false)] }), {}, true],
      ['first controller reference is another owner', existing(kind, { ownerReferences: [controllerRef('other', 'uid-other'), controllerRef()] }), {}, true],
      ['key owned by trust-manager through Update, not Apply', existing(kind, { managedFields: managedFields([KEY], [], 'trust-manager', 'Update') }), {}, true],
      ['key owned by another manager only', existing(kind, { managedFields: managedFields([KEY], [], 'kubectl-edit', 'Update') }), {}, true],
      [
        'fieldsV1 kept as a JSON string',
        existing(kind, { managedFields: [{ manager: 'trust-manager', operation: 'Apply', fieldsV1: JSON.stringify({ 'f:data': { [`f:${KEY}`]: {} } }) }] }),
        {},
        false,
      ],
    ];
    for (const [name, object, formats, expected] of cases) {
      test(name, () => {
        assert.equal(needsUpdate(object, bundleFor(kind, formats), kind, HASH), expected);
      });
    }
  });
}

test('needsUpdate: a Secret does not count binaryData ownership, a ConfigMap does', () => {
  const fields = managedFields([], [KEY]);
  assert.equal(needsUpdate(existing('ConfigMap', { managedFields: fields }), bundleFor('ConfigMap'), 'ConfigMap', HASH), false);
  assert.equal(needsUpdate(existing('Secret', { managedFields: fields }), bundleFor('Secret'), 'Secret', HASH), true);
});

describe('targetHashFor (upstream Test_TrustBundleHash)', () => {
  const pem = '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----';
  const base: BundleTarget = { configMap: { key: KEY }, secret: { key: KEY } };
  const hash = (target: BundleTarget, kind: TargetKind = 'ConfigMap', data = pem): string => targetHashFor(bundleWith(target), kind, data);

  test('is deterministic and lower-hex SHA-256 sized', () => {
    assert.equal(hash(base), hash(base));
    assert.match(hash(base), /^[0-9a-f]{64}$/);
  });

  test('empty extras hash like no extras', () => {
    assert.equal(hash(base), hash({ ...base, additionalFormats: {} }));
    assert.equal(hash(base), hash({ ...base, additionalFormats: { jks: { key: JKS_KEY, password: '' } } }));
    assert.equal(hash(base), hash({ ...base, additionalFormats: { pkcs12: { key: PKCS12_KEY, password: '' } } }));
  });

  test('data and every hashed part change it', () => {
    const variants: BundleTarget[] = [
      // Distinct values: upstream hashes a plain concatenation, so equal bytes in different parts collide.
      { ...base, additionalFormats: { jks: { key: JKS_KEY, password: 'jks-password' } } },
      { ...base, additionalFormats: { pkcs12: { key: PKCS12_KEY, password: 'p12-password' } } },
      { ...base, additionalFormats: { pkcs12: { key: PKCS12_KEY, password: '', profile: 'Modern2023' } } },
      { ...base, configMap: { key: KEY, metadata: { labels: { team: 'label' } } } },
      { ...base, configMap: { key: KEY, metadata: { annotations: { team: 'annotation' } } } },
    ];
    const hashes = new Set([hash(base), hash(base, 'ConfigMap', `${pem}x`), ...variants.map((target) => hash(target))]);
    assert.equal(hashes.size, variants.length + 2);
    assert.notEqual(
      hash({ ...base, additionalFormats: { jks: { key: JKS_KEY, password: 'password' } } }),
      hash({ ...base, additionalFormats: { jks: { key: JKS_KEY, password: 'wrong' } } }),
    );
  });

  test('target keys are not part of it, and only the own kind template counts', () => {
    assert.equal(hash(base), hash({ ...base, configMap: { key: 'other.pem' } }));
    const labelledConfigMap: BundleTarget = { ...base, configMap: { key: KEY, metadata: { labels: { team: 'a' } } } };
    assert.equal(hash(labelledConfigMap, 'Secret'), hash(base, 'Secret'));
    assert.notEqual(hash(labelledConfigMap, 'ConfigMap'), hash(base, 'ConfigMap'));
  });
});

describe('apply bodies', () => {
  const encoded: EncodedBundle = {
    pem: 'PEM',
    pemBase64: Buffer.from('PEM').toString('base64'),
    jksBase64: Buffer.from('JKS').toString('base64'),
    pkcs12Base64: Buffer.from('PKCS12').toString('base64'),
  };
  const ownerReferences = [
    { apiVersion: 'trust.cert-manager.io/v1alpha1', kind: 'Bundle', name: BUNDLE_NAME, uid: BUNDLE_UID, controller: true, blockOwnerDeletion: true },
  ];

  test('ConfigMap: PEM in data, other formats in binaryData, template metadata copied', () => {
    const bundle = bundleWith({
      configMap: { key: KEY, metadata: { labels: { team: 'a' }, annotations: { note: 'n' } } },
      additionalFormats: { jks: { key: JKS_KEY, password: 'changeit' }, pkcs12: { key: PKCS12_KEY, password: '' } },
    });
    assert.deepEqual(buildTargetApply({ kind: 'ConfigMap', namespace: 'ns-1', name: BUNDLE_NAME }, bundle, encoded, HASH), {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: {
        name: BUNDLE_NAME,
        namespace: 'ns-1',
        labels: { team: 'a', 'trust.cert-manager.io/bundle': BUNDLE_NAME },
        annotations: { note: 'n', 'trust.cert-manager.io/hash': HASH },
        ownerReferences,
      },
      data: { [KEY]: 'PEM' },
      binaryData: { [JKS_KEY]: encoded.jksBase64, [PKCS12_KEY]: encoded.pkcs12Base64 },
    });
  });

  test('ConfigMap without additional formats has no binaryData', () => {
    const body = buildTargetApply({ kind: 'ConfigMap', namespace: 'ns-1', name: BUNDLE_NAME }, bundleFor('ConfigMap'), encoded, HASH);
    assert.equal('binaryData' in body, false);
    assert.deepEqual(body.data, { [KEY]: 'PEM' });
    assert.deepEqual(body.metadata.labels, { 'trust.cert-manager.io/bundle': BUNDLE_NAME });
    assert.deepEqual(body.metadata.annotations, { 'trust.cert-manager.io/hash': HASH });
  });

  test('Secret: everything base64 in data, no type, the Secret template used', () => {
    const bundle = bundleWith({
      configMap: { key: 'cm.pem', metadata: { labels: { cm: 'only' } } },
      secret: { key: KEY, metadata: { labels: { secret: 'yes' } } },
      additionalFormats: { jks: { key: JKS_KEY, password: 'changeit' } },
    });
    const body = buildTargetApply({ kind: 'Secret', namespace: 'ns-2', name: BUNDLE_NAME }, bundle, encoded, HASH);
    assert.deepEqual(body, {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: {
        name: BUNDLE_NAME,
        namespace: 'ns-2',
        labels: { secret: 'yes', 'trust.cert-manager.io/bundle': BUNDLE_NAME },
        annotations: { 'trust.cert-manager.io/hash': HASH },
        ownerReferences,
      },
      data: { [KEY]: encoded.pemBase64, [JKS_KEY]: encoded.jksBase64 },
    });
    assert.equal('type' in body, false);
  });

  test('the bundle label wins over a template label of the same key', () => {
    const bundle = bundleWith({ configMap: { key: KEY, metadata: { labels: { 'trust.cert-manager.io/bundle': 'spoof' } } } });
    const body = buildTargetApply({ kind: 'ConfigMap', namespace: 'ns', name: BUNDLE_NAME }, bundle, encoded, HASH);
    assert.equal(body.metadata.labels['trust.cert-manager.io/bundle'], BUNDLE_NAME);
  });

  test('without a hash argument the target hash is computed', () => {
    const bundle = bundleFor('ConfigMap');
    const body = buildTargetApply({ kind: 'ConfigMap', namespace: 'ns', name: BUNDLE_NAME }, bundle, encoded);
    assert.equal(body.metadata.annotations?.['trust.cert-manager.io/hash'], targetHashFor(bundle, 'ConfigMap', 'PEM'));
  });

  test('a kind without template, or a missing requested encoding, is a programming error', () => {
    assert.throws(() => buildTargetApply({ kind: 'Secret', namespace: 'ns', name: BUNDLE_NAME }, bundleFor('ConfigMap'), encoded, HASH), /no Secret target/);
    const plain: EncodedBundle = { pem: 'PEM', pemBase64: encoded.pemBase64 };
    assert.throws(() => buildTargetApply({ kind: 'ConfigMap', namespace: 'ns', name: BUNDLE_NAME }, bundleFor('ConfigMap', { jks: true }), plain, HASH), /JKS/);
    assert.throws(() => buildTargetApply({ kind: 'Secret', namespace: 'ns', name: BUNDLE_NAME }, bundleFor('Secret', { pkcs12: true }), plain, HASH), /PKCS#12/);
  });

  test('cleanup apply: label and owner reference only', () => {
    assert.deepEqual(buildCleanupApply({ kind: 'Secret', namespace: 'ns-3', name: BUNDLE_NAME }, bundleFor('Secret')), {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: BUNDLE_NAME, namespace: 'ns-3', labels: { 'trust.cert-manager.io/bundle': BUNDLE_NAME }, ownerReferences },
    });
  });
});

test('isEmptyAfterCleanup', () => {
  assert.equal(isEmptyAfterCleanup({}), true);
  assert.equal(isEmptyAfterCleanup({ data: {}, binaryData: {} }), true);
  assert.equal(isEmptyAfterCleanup({ data: null }), true);
  assert.equal(isEmptyAfterCleanup({ data: { A: 'B' } }), false);
  assert.equal(isEmptyAfterCleanup({ binaryData: { A: 'Qg==' } }), false);
});

test('cleanupNeeded: only while trust-manager still owns data or the hash, or the object is empty', () => {
  const withHashOwned: V1ManagedFieldsEntry[] = [
    { manager: 'trust-manager', operation: 'Apply', fieldsV1: { 'f:metadata': { 'f:annotations': { 'f:trust.cert-manager.io/hash': {} } } } },
    ...managedFields(['foreign'], [], 'kubectl', 'Update'),
  ];
  const cleaned: V1ManagedFieldsEntry[] = [
    { manager: 'trust-manager', operation: 'Apply', fieldsV1: { 'f:metadata': { 'f:labels': { 'f:trust.cert-manager.io/bundle': {} } } } },
    ...managedFields(['foreign'], [], 'kubectl', 'Update'),
  ];
  assert.equal(cleanupNeeded(existing('ConfigMap')), true, 'owns a data key');
  assert.equal(cleanupNeeded(existing('ConfigMap', { managedFields: managedFields([], [JKS_KEY]) })), true, 'owns a binaryData key');
  assert.equal(cleanupNeeded(existing('ConfigMap', { managedFields: withHashOwned })), true, 'owns the hash annotation');
  assert.equal(cleanupNeeded(existing('ConfigMap', { managedFields: cleaned })), false, 'already cleaned, foreign data left');
  assert.equal(cleanupNeeded(existing('Secret', { managedFields: cleaned })), false, 'already cleaned Secret');
  assert.equal(cleanupNeeded(existing('ConfigMap', { managedFields: cleaned.slice(0, 1) })), true, 'cleaned but empty: apply again so it gets deleted');
  assert.equal(cleanupNeeded(existing('ConfigMap', { managedFields: undefined })), true, 'no managed fields at all');
});

test('encodingFormatsFor applies the CRD defaults', () => {
  assert.deepEqual(encodingFormatsFor(bundleFor('ConfigMap')), {});
  const bundle = bundleWith({ configMap: { key: KEY }, additionalFormats: { jks: { key: JKS_KEY }, pkcs12: { key: PKCS12_KEY } } });
  assert.deepEqual(encodingFormatsFor(bundle), { jks: { password: 'changeit' }, pkcs12: { password: '', profile: '' } });
  const explicit = bundleWith({
    configMap: { key: KEY },
    additionalFormats: { jks: { key: JKS_KEY, password: 'pw' }, pkcs12: { key: PKCS12_KEY, password: 'p', profile: 'LegacyDES' } },
  });
  assert.deepEqual(encodingFormatsFor(explicit), { jks: { password: 'pw' }, pkcs12: { password: 'p', profile: 'LegacyDES' } });
});

test('encodingKey separates PEM and formats, and never shows a password', () => {
  const formats: EncodingFormats = { pkcs12: { password: 'secret-pw', profile: 'Modern2023' } };
  const key = encodingKey('PEM', formats);
  assert.match(key, /^[0-9a-f]{64}$/);
  assert.equal(key.includes('secret-pw'), false);
  assert.equal(key, encodingKey('PEM', { pkcs12: { password: 'secret-pw', profile: 'Modern2023' } }));
  assert.notEqual(key, encodingKey('PEM', { pkcs12: { password: 'other', profile: 'Modern2023' } }));
  assert.notEqual(key, encodingKey('PEM2', formats));
  assert.notEqual(encodingKey('PEM', {}), encodingKey('PEM', { jks: { password: 'changeit' } }));
});

test('EncodingCache encodes each (PEM, formats) once and evicts the least recently used', () => {
  const calls: string[] = [];
  const cache = new EncodingCache(2, (data: BundleData, formats: EncodingFormats) => {
    calls.push(`${data.pem}:${formats.jks?.password ?? '-'}`);
    return { pem: data.pem, pemBase64: Buffer.from(data.pem).toString('base64') };
  });
  const data = (pem: string): BundleData => ({ pem, certificates: [] });
  const first = cache.encode(data('A'), {});
  assert.equal(cache.encode(data('A'), {}), first, 'same object reused');
  cache.encode(data('A'), { jks: { password: 'changeit' } });
  assert.deepEqual(calls, ['A:-', 'A:changeit']);
  cache.encode(data('A'), {}); // A:- becomes most recently used
  cache.encode(data('B'), {}); // evicts A:changeit
  assert.equal(cache.size, 2);
  cache.encode(data('A'), {});
  cache.encode(data('A'), { jks: { password: 'changeit' } });
  assert.deepEqual(calls, ['A:-', 'A:changeit', 'B:-', 'A:changeit']);
});

test('encodeBundle: PEM as text and base64, JKS and PKCS#12 only when asked', async () => {
  const ca = await makeCA({ cn: 'encode-test' });
  const data: BundleData = { pem: ca.pem.trim(), certificates: parsePemCertificates(ca.pem) };

  const plain = encodeBundle(data, {});
  assert.deepEqual(plain, { pem: data.pem, pemBase64: Buffer.from(data.pem).toString('base64') });

  const all = encodeBundle(data, { jks: { password: 'changeit' }, pkcs12: { password: '', profile: '' } });
  const jks = Buffer.from(all.jksBase64 ?? '', 'base64');
  assert.equal(jks.subarray(0, 4).toString('hex'), 'feedfeed', 'JKS magic');
  const pkcs12 = Buffer.from(all.pkcs12Base64 ?? '', 'base64');
  assert.equal(pkcs12[0], 0x30, 'PKCS#12 is a DER SEQUENCE');
  // JKS and password-less PKCS#12 are deterministic, so equal inputs give equal bytes.
  assert.deepEqual(encodeBundle(data, { jks: { password: 'changeit' }, pkcs12: { password: '', profile: '' } }), all);
  assert.notEqual(encodeBundle(data, { jks: { password: 'other' } }).jksBase64, all.jksBase64);
});
