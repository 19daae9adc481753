// Port of upstream pkg/bundle/bundle_test.go Test_Reconcile as plan assertions: which targets are
// applied and pruned, and which status and Event the plan decides. Source resolution itself (the
// not-found texts, expiry filtering) is covered in sources.test.ts.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import type { V1ManagedFieldsEntry } from '@kubernetes/client-node';
import type { Bundle, BundleCondition, BundleStatus, BundleTarget, SourceCertHistory } from '@trust-manager/shared/api/types.ts';
import type { Certificate } from '@trust-manager/shared/certs/certificate.ts';
import type { ReconcileOptions } from './options.ts';
import { type NamespaceInfo, type ReconcileInput, type ReconcilePlan, applyFailure, planReconcile } from './reconcile.ts';
import type { SourcesResult } from './sources.ts';
import { type BundleData, type EncodedBundle, type EncodingFormats, type TargetKind, type TargetMetadata, targetHashFor } from './targets.ts';

const TRUST_NAMESPACE = 'trust-namespace';
const BUNDLE_NAME = 'test-bundle';
const BUNDLE_UID = '123';
const GENERATION = 2;
const TARGET_KEY = 'target-key';
const NOW = new Date('2021-01-01T01:00:00Z');
const NOW_TEXT = '2021-01-01T01:00:00Z';
const EARLIER_TEXT = '2020-06-01T00:00:00Z';
const ALL_NAMESPACES_MESSAGE = 'Successfully synced Bundle to all namespaces';

function fakeCertificate(fingerprint: string, notAfter: string): Certificate {
  return {
    der: Buffer.from(fingerprint),
    fingerprint,
    subject: `CN=${fingerprint}`,
    issuer: `CN=${fingerprint}`,
    notBefore: new Date('2020-01-01T00:00:00Z'),
    notAfter: new Date(notAfter),
    isCA: true,
    selfIssued: true,
  };
}

const CERTIFICATES = [fakeCertificate('aa', '2031-01-01T00:00:00Z'), fakeCertificate('bb', '2030-06-15T12:00:00Z'), fakeCertificate('cc', '2040-01-01T00:00:00Z')];
const PEM = 'JOINED-PEM-OF-THREE';
const CERT_FIELDS = { certificateCount: 3, earliestExpiry: '2030-06-15T12:00:00Z' };
const CERTIFICATE_SUMMARY = { count: 3, earliestNotAfter: new Date('2030-06-15T12:00:00Z') };
/** A plan with nothing to do for a Bundle synced to the three namespaces. */
function nothingToDo(desiredTargets = NAMESPACES.length): ReconcilePlan {
  return { apply: [], prune: [], status: { write: false }, outcome: { synced: true, desiredTargets, certificates: CERTIFICATE_SUMMARY } };
}

function okSources(extra: { pem?: string; defaultCAVersion?: string } = {}): SourcesResult {
  return {
    ok: true,
    pem: extra.pem ?? PEM,
    certificates: CERTIFICATES,
    ...(extra.defaultCAVersion !== undefined ? { defaultCAVersion: extra.defaultCAVersion } : {}),
  };
}

const OPTIONS: ReconcileOptions = {
  trustNamespace: TRUST_NAMESPACE,
  sourceNamespaces: [],
  secretTargetsEnabled: true,
  filterExpiredCertificates: true,
  filterNonCACerts: false,
  targetNamespaces: [],
};

const NAMESPACES: NamespaceInfo[] = [{ name: TRUST_NAMESPACE }, { name: 'ns-1' }, { name: 'ns-2' }];

/** `null` = no spec.target at all. */
function bundle(target: BundleTarget | null = { configMap: { key: TARGET_KEY } }, status?: BundleStatus): Bundle {
  return {
    apiVersion: 'trust.cert-manager.io/v1alpha1',
    kind: 'Bundle',
    metadata: { name: BUNDLE_NAME, uid: BUNDLE_UID, generation: GENERATION, resourceVersion: '1000' },
    spec: {
      sources: [
        { configMap: { name: 'source-configmap', key: 'configmap-key' } },
        { secret: { name: 'source-secret', key: 'secret-key' } },
        { inLine: 'cert-3' },
      ],
      ...(target !== null ? { target } : {}),
    },
    ...(status !== undefined ? { status } : {}),
  };
}

function syncedStatus(message = ALL_NAMESPACES_MESSAGE, extra: Partial<BundleStatus> = {}, generation = GENERATION): BundleStatus {
  return {
    conditions: [{ type: 'Synced', status: 'True', lastTransitionTime: EARLIER_TEXT, reason: 'Synced', message, observedGeneration: generation }],
    ...CERT_FIELDS,
    ...extra,
  };
}

function managedFields(dataKeys: string[], binaryKeys: string[] = []): V1ManagedFieldsEntry[] {
  const fields: Record<string, object> = {};
  if (dataKeys.length > 0) fields['f:data'] = Object.fromEntries(dataKeys.map((key) => [`f:${key}`, {}]));
  if (binaryKeys.length > 0) fields['f:binaryData'] = Object.fromEntries(binaryKeys.map((key) => [`f:${key}`, {}]));
  return [{ manager: 'trust-manager', operation: 'Apply', fieldsV1: fields }];
}

/** An existing target as the metadata cache holds it (upstream's targetConfigMap/targetSecret helpers). */
function target(
  kind: TargetKind,
  namespace: string,
  options: { hash: string; dataKeys?: string[]; binaryKeys?: string[]; withOwner?: boolean; deleting?: boolean; ownerUid?: string },
): TargetMetadata {
  return {
    kind,
    namespace,
    name: BUNDLE_NAME,
    labels: { 'trust.cert-manager.io/bundle': BUNDLE_NAME },
    annotations: { 'trust.cert-manager.io/hash': options.hash },
    ownerReferences:
      options.withOwner === false
        ? []
        : [{ apiVersion: 'trust.cert-manager.io/v1alpha1', kind: 'Bundle', name: BUNDLE_NAME, uid: options.ownerUid ?? BUNDLE_UID, controller: true, blockOwnerDeletion: true }],
    managedFields: managedFields(options.dataKeys ?? [TARGET_KEY], options.binaryKeys ?? []),
    ...(options.deleting === true ? { deletionTimestamp: '2021-01-01T00:00:00Z' } : {}),
  };
}

/** Targets in all three namespaces, up to date for `b` (same hash and keys). */
function syncedTargets(b: Bundle, kind: TargetKind = 'ConfigMap', pem = PEM): TargetMetadata[] {
  return NAMESPACES.map((ns) => target(kind, ns.name, { hash: targetHashFor(b, kind, pem) }));
}

/** Counts encodings so tests can assert the bundle is encoded lazily and once. */
function countingEncoder(): { encode: (data: BundleData, formats: EncodingFormats) => EncodedBundle; calls: () => number } {
  let calls = 0;
  return {
    encode: (data, formats) => {
      calls += 1;
      return {
        pem: data.pem,
        pemBase64: Buffer.from(data.pem).toString('base64'),
        ...(formats.jks !== undefined ? { jksBase64: Buffer.from(`JKS:${formats.jks.password}`).toString('base64') } : {}),
        ...(formats.pkcs12 !== undefined ? { pkcs12Base64: Buffer.from('P12').toString('base64') } : {}),
      };
    },
    calls: () => calls,
  };
}

function plan(input: Partial<ReconcileInput> & { bundle: Bundle }): ReconcilePlan {
  return planReconcile({
    sources: okSources(),
    namespaces: NAMESPACES,
    existingTargets: [],
    options: OPTIONS,
    now: NOW,
    encode: countingEncoder().encode,
    ...input,
  });
}

function refs(entries: ReconcilePlan['apply'] | ReconcilePlan['prune']): string[] {
  return entries.map(({ ref }) => `${ref.kind}/${ref.namespace}/${ref.name}`).sort();
}

function condition(status: 'True' | 'False', reason: string, message: string, lastTransitionTime = NOW_TEXT): BundleCondition {
  return { type: 'Synced', status, lastTransitionTime, reason, message, observedGeneration: GENERATION };
}

function statusBody(conditionValue: BundleCondition, extra: Partial<BundleStatus> = {}): object {
  return {
    apiVersion: 'trust.cert-manager.io/v1alpha1',
    kind: 'Bundle',
    metadata: { name: BUNDLE_NAME },
    status: { conditions: [conditionValue], ...extra },
  };
}

function assertSynced(result: ReconcilePlan, message = ALL_NAMESPACES_MESSAGE, extra: Partial<BundleStatus> = CERT_FIELDS, lastTransitionTime = NOW_TEXT): void {
  assert.deepEqual(result.status, { write: true, body: statusBody(condition('True', 'Synced', message, lastTransitionTime), extra) });
  assert.deepEqual(result.event, { type: 'Normal', reason: 'Synced', action: 'Synced', note: message });
  assert.equal(result.error, undefined);
}

const ALL_CONFIGMAPS = ['ConfigMap/ns-1/test-bundle', 'ConfigMap/ns-2/test-bundle', 'ConfigMap/trust-namespace/test-bundle'];
const ALL_SECRETS = ['Secret/ns-1/test-bundle', 'Secret/ns-2/test-bundle', 'Secret/trust-namespace/test-bundle'];

describe('source failures', () => {
  test('SourceNotFound: condition, Warning, no retry, targets untouched, owned status fields kept', () => {
    const message = 'Bundle source was not found: failed to get ConfigMap trust-namespace/source-configmap: configmaps "source-configmap" not found';
    const b = bundle(undefined, { defaultCAVersion: 'pkg-1-abc', certificateCount: 4, earliestExpiry: '2030-01-01T00:00:00Z' });
    b.spec.target = { configMap: { key: TARGET_KEY } };
    const result = plan({ bundle: b, sources: { ok: false, reason: 'SourceNotFound', message, retry: false }, existingTargets: syncedTargets(b) });
    assert.deepEqual(result.apply, []);
    assert.deepEqual(result.prune, []);
    assert.deepEqual(
      result.status,
      { write: true, body: statusBody(condition('False', 'SourceNotFound', message), { defaultCAVersion: 'pkg-1-abc', certificateCount: 4, earliestExpiry: '2030-01-01T00:00:00Z' }) },
    );
    assert.deepEqual(result.event, { type: 'Warning', reason: 'SourceNotFound', action: 'SyncFailed', note: message });
    assert.equal(result.error, undefined);
  });

  test('SourceBuildError: retried', () => {
    const message = 'Failed to build bundle sources: inline source contains invalid PEM data: invalid PEM block in bundle; blocks are not permitted to have PEM headers';
    const result = plan({ bundle: bundle(), sources: { ok: false, reason: 'SourceBuildError', message, retry: true } });
    assert.deepEqual(result.status, { write: true, body: statusBody(condition('False', 'SourceBuildError', message)) });
    assert.deepEqual(result.event, { type: 'Warning', reason: 'SourceBuildError', action: 'SyncFailed', note: message });
    assert.equal(result.error, message);
    assert.deepEqual(result.apply, []);
  });

  test('SourceNamespaceNotAllowed: Warning, not retried', () => {
    const message = 'Bundle source namespace is not allowed: ...';
    const result = plan({ bundle: bundle(), sources: { ok: false, reason: 'SourceNamespaceNotAllowed', message, retry: false } });
    assert.equal(result.event?.reason, 'SourceNamespaceNotAllowed');
    assert.equal(result.error, undefined);
    assert.deepEqual(result.apply, []);
  });

  test('the transition time survives a repeated failure', () => {
    const message = 'Bundle source was not found: x';
    const b = bundle(undefined, { conditions: [condition('False', 'SourceNotFound', 'older message', EARLIER_TEXT)] });
    const result = plan({ bundle: b, sources: { ok: false, reason: 'SourceNotFound', message, retry: false } });
    assert.deepEqual(result.status, { write: true, body: statusBody(condition('False', 'SourceNotFound', message, EARLIER_TEXT)) });
  });
});

describe('Test_Reconcile', () => {
  test('configMap target key changed: apply everywhere', () => {
    const old = [target('ConfigMap', 'ns-1', { hash: 'old', dataKeys: ['A', 'old-target'] }), target('ConfigMap', 'ns-2', { hash: 'old', dataKeys: ['A', 'old-target'] })];
    const result = plan({ bundle: bundle(), existingTargets: old });
    assert.deepEqual(refs(result.apply), ALL_CONFIGMAPS);
    assert.deepEqual(result.prune, []);
    assertSynced(result);
  });

  test('secret target replaces configMap target: Secrets applied, ConfigMaps cleaned up', () => {
    const configMapBundle = bundle();
    const secretBundle = bundle({ secret: { key: TARGET_KEY } });
    const result = plan({ bundle: secretBundle, existingTargets: syncedTargets(configMapBundle) });
    assert.deepEqual(refs(result.apply), ALL_SECRETS);
    assert.deepEqual(refs(result.prune), ALL_CONFIGMAPS);
    const prune = result.prune.find(({ ref }) => ref.namespace === 'ns-1');
    assert.deepEqual(prune?.body, {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: {
        name: BUNDLE_NAME,
        namespace: 'ns-1',
        labels: { 'trust.cert-manager.io/bundle': BUNDLE_NAME },
        ownerReferences: [{ apiVersion: 'trust.cert-manager.io/v1alpha1', kind: 'Bundle', name: BUNDLE_NAME, uid: BUNDLE_UID, controller: true, blockOwnerDeletion: true }],
      },
    });
    const secret = result.apply.find(({ ref }) => ref.namespace === 'ns-2')?.body();
    assert.deepEqual(secret?.data, { [TARGET_KEY]: Buffer.from(PEM).toString('base64') });
    assertSynced(result);
  });

  test('additional format key changed (JKS): apply with the new binaryData key', () => {
    const jksTarget: BundleTarget = { configMap: { key: TARGET_KEY }, additionalFormats: { jks: { key: 'target.jks', password: 'changeit' } } };
    const b = bundle(jksTarget);
    const hash = targetHashFor(b, 'ConfigMap', PEM);
    const existing = NAMESPACES.map((ns) => target('ConfigMap', ns.name, { hash, binaryKeys: ['old-target.jks'] }));
    const result = plan({ bundle: b, existingTargets: existing });
    assert.deepEqual(refs(result.apply), ALL_CONFIGMAPS);
    const body = result.apply[0]?.body();
    assert.deepEqual(Object.keys(body?.binaryData ?? {}), ['target.jks']);
    assert.deepEqual(body?.data, { [TARGET_KEY]: PEM });
  });

  test('JKS password unchanged: no target writes, status still added', () => {
    const jksTarget: BundleTarget = { configMap: { key: TARGET_KEY }, additionalFormats: { jks: { key: 'target.jks', password: 'changeit' } } };
    const b = bundle(jksTarget);
    const hash = targetHashFor(b, 'ConfigMap', PEM);
    const existing = NAMESPACES.map((ns) => target('ConfigMap', ns.name, { hash, binaryKeys: ['target.jks'] }));
    const encoder = countingEncoder();
    const result = plan({ bundle: b, existingTargets: existing, encode: encoder.encode });
    assert.deepEqual(result.apply, []);
    assert.equal(encoder.calls(), 0, 'nothing to write: nothing encoded');
    assertSynced(result);
  });

  test('JKS password changed: the targets with the old hash are applied', () => {
    const jksTarget: BundleTarget = { configMap: { key: TARGET_KEY }, additionalFormats: { jks: { key: 'target.jks', password: 'changeit' } } };
    const oldPassword: BundleTarget = { ...jksTarget, additionalFormats: { jks: { key: 'target.jks', password: 'OLD PASSWORD' } } };
    const b = bundle(jksTarget);
    const oldHash = targetHashFor(bundle(oldPassword), 'ConfigMap', PEM);
    const newHash = targetHashFor(b, 'ConfigMap', PEM);
    assert.notEqual(oldHash, newHash);
    const existing = [
      target('ConfigMap', TRUST_NAMESPACE, { hash: oldHash, binaryKeys: ['target.jks'] }),
      target('ConfigMap', 'ns-1', { hash: oldHash, binaryKeys: ['target.jks'] }),
      target('ConfigMap', 'ns-2', { hash: newHash, binaryKeys: ['target.jks'] }),
    ];
    const result = plan({ bundle: b, existingTargets: existing });
    assert.deepEqual(refs(result.apply), ['ConfigMap/ns-1/test-bundle', 'ConfigMap/trust-namespace/test-bundle']);
    const body = result.apply[0]?.body();
    assert.equal(body?.metadata.annotations?.['trust.cert-manager.io/hash'], newHash);
    assert.equal(Buffer.from(body?.binaryData?.['target.jks'] ?? '', 'base64').toString(), 'JKS:changeit');
  });

  test('PKCS12 profile changed: hash changes, targets applied', () => {
    const p12 = (profile: 'LegacyRC2' | 'Modern2023'): BundleTarget => ({
      configMap: { key: TARGET_KEY },
      additionalFormats: { pkcs12: { key: 'target.p12', password: '', profile } },
    });
    const b = bundle(p12('Modern2023'));
    const oldHash = targetHashFor(bundle(p12('LegacyRC2')), 'ConfigMap', PEM);
    const existing = NAMESPACES.map((ns) => target('ConfigMap', ns.name, { hash: oldHash, binaryKeys: ['target.p12'] }));
    assert.deepEqual(refs(plan({ bundle: b, existingTargets: existing }).apply), ALL_CONFIGMAPS);
  });

  test('secret and configMap targets not synced: both kinds applied everywhere', () => {
    const result = plan({ bundle: bundle({ configMap: { key: TARGET_KEY }, secret: { key: TARGET_KEY } }) });
    assert.deepEqual(refs(result.apply), [...ALL_CONFIGMAPS, ...ALL_SECRETS]);
    assertSynced(result);
  });

  test('terminating namespaces are skipped', () => {
    const result = plan({ bundle: bundle(), namespaces: [...NAMESPACES, { name: 'random-namespace', phase: 'Terminating' }, { name: 'active', phase: 'Active' }] });
    assert.deepEqual(refs(result.apply), ['ConfigMap/active/test-bundle', ...ALL_CONFIGMAPS]);
  });

  test('namespaces that do not match the selector are skipped', () => {
    const namespaces = [...NAMESPACES, { name: 'random-namespace', labels: { foo: 'bar' } }, { name: 'another-random-namespace', labels: { foo: 'bar' } }];
    const result = plan({ bundle: bundle({ configMap: { key: TARGET_KEY }, namespaceSelector: { matchLabels: { foo: 'bar' } } }), namespaces });
    assert.deepEqual(refs(result.apply), ['ConfigMap/another-random-namespace/test-bundle', 'ConfigMap/random-namespace/test-bundle']);
    assertSynced(result, 'Successfully synced Bundle to namespaces that match this label selector: foo=bar');
  });

  test('targets in namespaces no longer selected are cleaned up', () => {
    const b = bundle({ configMap: { key: TARGET_KEY }, namespaceSelector: { matchLabels: { foo: 'bar' } } });
    const result = plan({ bundle: b, existingTargets: syncedTargets(b) });
    assert.deepEqual(result.apply, []);
    assert.deepEqual(refs(result.prune), ALL_CONFIGMAPS);
    // Cleanup alone does not count as a change (upstream): the missing condition is what writes status here.
    assertSynced(result, 'Successfully synced Bundle to namespaces that match this label selector: foo=bar');
  });

  test('a target without owner reference is applied again', () => {
    const b = bundle(undefined, syncedStatus(ALL_NAMESPACES_MESSAGE, {}, GENERATION - 1));
    const hash = targetHashFor(b, 'ConfigMap', PEM);
    const existing = NAMESPACES.map((ns) => target('ConfigMap', ns.name, { hash, withOwner: false }));
    const result = plan({ bundle: b, existingTargets: existing });
    assert.deepEqual(refs(result.apply), ALL_CONFIGMAPS);
    assert.deepEqual(result.prune, []);
    // Same status True as before: its transition time is kept, the generation moves on.
    assertSynced(result, ALL_NAMESPACES_MESSAGE, CERT_FIELDS, EARLIER_TEXT);
  });

  test('synced targets but no condition: only the status is written', () => {
    const b = bundle();
    const result = plan({ bundle: b, existingTargets: syncedTargets(b) });
    assert.deepEqual(result.apply, []);
    assert.deepEqual(result.prune, []);
    assertSynced(result);
  });

  test('fully synced: no writes, no status, no Event', () => {
    const b = bundle(undefined, syncedStatus());
    const encoder = countingEncoder();
    const result = plan({ bundle: b, existingTargets: syncedTargets(b), encode: encoder.encode });
    assert.deepEqual(result, nothingToDo());
    assert.equal(encoder.calls(), 0);
  });

  test('fully synced with additional formats and both kinds: still nothing', () => {
    const t: BundleTarget = {
      configMap: { key: TARGET_KEY, metadata: { labels: { team: 'a' } } },
      secret: { key: TARGET_KEY, metadata: { annotations: { note: 'n' } } },
      additionalFormats: { jks: { key: 'a.jks', password: 'changeit' }, pkcs12: { key: 'a.p12', password: '', profile: 'Modern2023' } },
    };
    const b = bundle(t, syncedStatus());
    const existing = NAMESPACES.flatMap((ns) => [
      target('ConfigMap', ns.name, { hash: targetHashFor(b, 'ConfigMap', PEM), binaryKeys: ['a.jks', 'a.p12'] }),
      target('Secret', ns.name, { hash: targetHashFor(b, 'Secret', PEM), dataKeys: [TARGET_KEY, 'a.jks', 'a.p12'] }),
    ]);
    assert.deepEqual(plan({ bundle: b, existingTargets: existing }), nothingToDo(2 * NAMESPACES.length));
  });

  test('default CAs in use: targets updated and defaultCAVersion recorded', () => {
    const b = bundle(undefined, syncedStatus());
    const withDefaults = 'PEM-WITH-DEFAULT-CAS';
    const result = plan({ bundle: b, sources: okSources({ pem: withDefaults, defaultCAVersion: 'testpkg-123-abcdef0123456789' }), existingTargets: syncedTargets(b) });
    assert.deepEqual(refs(result.apply), ALL_CONFIGMAPS);
    assert.equal(result.apply[0]?.body().data?.[TARGET_KEY], withDefaults);
    assertSynced(result, ALL_NAMESPACES_MESSAGE, { defaultCAVersion: 'testpkg-123-abcdef0123456789', ...CERT_FIELDS }, EARLIER_TEXT);
  });

  test('default CAs no longer used: defaultCAVersion removed even when targets are synced', () => {
    const b = bundle(undefined, syncedStatus(ALL_NAMESPACES_MESSAGE, { defaultCAVersion: 'testpkg-123-abcdef0123456789' }));
    const result = plan({ bundle: b, existingTargets: syncedTargets(b) });
    assert.deepEqual(result.apply, []);
    assertSynced(result, ALL_NAMESPACES_MESSAGE, CERT_FIELDS, EARLIER_TEXT);
  });

  test('default CAs unchanged: nothing to do', () => {
    const b = bundle(undefined, syncedStatus(ALL_NAMESPACES_MESSAGE, { defaultCAVersion: 'testpkg-123-abc' }));
    const result = plan({ bundle: b, sources: okSources({ defaultCAVersion: 'testpkg-123-abc' }), existingTargets: syncedTargets(b) });
    assert.deepEqual(result, nothingToDo());
  });

  test('target removed from the spec: its objects are cleaned up', () => {
    const both = bundle({ configMap: { key: TARGET_KEY }, secret: { key: TARGET_KEY } });
    const existing = [...syncedTargets(both, 'ConfigMap'), ...syncedTargets(both, 'Secret')];
    const secretOnly = plan({ bundle: bundle({ secret: { key: TARGET_KEY } }), existingTargets: existing });
    assert.deepEqual(refs(secretOnly.prune), ALL_CONFIGMAPS);
    assert.deepEqual(secretOnly.apply, []);
    const noTarget = plan({ bundle: bundle(null), existingTargets: existing });
    assert.deepEqual(refs(noTarget.prune), [...ALL_CONFIGMAPS, ...ALL_SECRETS]);
    assert.deepEqual(noTarget.apply, []);
  });

  test('Secret targets disabled: nothing written, not even the ConfigMaps', () => {
    const b = bundle({ configMap: { key: TARGET_KEY }, secret: { key: TARGET_KEY } });
    const result = plan({ bundle: b, options: { ...OPTIONS, secretTargetsEnabled: false }, existingTargets: syncedTargets(bundle({ configMap: { key: 'old' } })) });
    const message = 'Bundle has Secret targets but the feature is disabled';
    assert.deepEqual(result.apply, []);
    assert.deepEqual(result.prune, []);
    assert.deepEqual(result.status, { write: true, body: statusBody(condition('False', 'SecretTargetsDisabled', message)) });
    assert.deepEqual(result.event, { type: 'Warning', reason: 'SecretTargetsDisabled', action: 'SyncFailed', note: message });
    assert.equal(result.error, undefined);
  });

  test('--target-namespaces restricts targets and changes the message', () => {
    const options = { ...OPTIONS, targetNamespaces: ['ns-1', 'not-existing'] };
    const all = plan({ bundle: bundle(), options });
    assert.deepEqual(refs(all.apply), ['ConfigMap/ns-1/test-bundle']);
    assertSynced(all, 'Successfully synced Bundle to all allowed namespaces');

    const namespaces = [...NAMESPACES, { name: 'labelled', labels: { foo: 'bar' } }, { name: 'labelled-allowed', labels: { foo: 'bar' } }];
    const selected = plan({
      bundle: bundle({ configMap: { key: TARGET_KEY }, namespaceSelector: { matchLabels: { foo: 'bar' } } }),
      namespaces,
      options: { ...OPTIONS, targetNamespaces: ['labelled-allowed', 'ns-1'] },
    });
    assert.deepEqual(refs(selected.apply), ['ConfigMap/labelled-allowed/test-bundle']);
    assertSynced(selected, 'Successfully synced Bundle to allowed namespaces that match this label selector: foo=bar');
  });
});

describe('beyond the upstream table', () => {
  test('the plan carries its outcome: synced, desired target count, certificate summary', () => {
    const certificates = CERTIFICATE_SUMMARY;
    const both = bundle({ configMap: { key: TARGET_KEY }, secret: { key: TARGET_KEY } });
    assert.deepEqual(plan({ bundle: both }).outcome, { synced: true, desiredTargets: 6, certificates });
    // Fully synced (nothing to write) is still synced, with the same count.
    const synced = bundle(undefined, syncedStatus());
    assert.deepEqual(plan({ bundle: synced, existingTargets: syncedTargets(synced) }).outcome, { synced: true, desiredTargets: 3, certificates });
    const selected = bundle({ configMap: { key: TARGET_KEY }, namespaceSelector: { matchLabels: { none: 'match' } } });
    assert.deepEqual(plan({ bundle: selected }).outcome, { synced: true, desiredTargets: 0, certificates });

    const sourceFailure: SourcesResult = { ok: false, reason: 'SourceNotFound', message: 'gone', retry: false };
    assert.deepEqual(plan({ bundle: bundle(), sources: sourceFailure }).outcome, { synced: false, desiredTargets: 0 });
    const disabled = plan({ bundle: both, options: { ...OPTIONS, secretTargetsEnabled: false } });
    assert.deepEqual(disabled.outcome, { synced: false, desiredTargets: 0, certificates });
    const badSelector = bundle({ configMap: { key: TARGET_KEY }, namespaceSelector: { matchLabels: { '@@@@': '' } } });
    assert.deepEqual(plan({ bundle: badSelector }).outcome, { synced: false, desiredTargets: 0, certificates });
  });

  test('an empty selector means all namespaces; expressions are formatted sorted', () => {
    assertSynced(plan({ bundle: bundle({ configMap: { key: TARGET_KEY }, namespaceSelector: {} }) }));
    const result = plan({
      bundle: bundle({
        configMap: { key: TARGET_KEY },
        namespaceSelector: { matchLabels: { zone: 'a' }, matchExpressions: [{ key: 'env', operator: 'In', values: ['prod', 'dev'] }, { key: 'skip', operator: 'DoesNotExist' }] },
      }),
      namespaces: [{ name: 'x', labels: { zone: 'a', env: 'dev' } }, { name: 'y', labels: { zone: 'a', env: 'dev', skip: '' } }],
    });
    assert.deepEqual(refs(result.apply), ['ConfigMap/x/test-bundle']);
    assert.equal(result.event?.note, 'Successfully synced Bundle to namespaces that match this label selector: env in (dev,prod),!skip,zone=a');
  });

  test('an invalid namespace selector: Warning, retry, no status write, nothing written', () => {
    const b = bundle({ configMap: { key: TARGET_KEY }, namespaceSelector: { matchLabels: { '@@@@': '' } } });
    const result = plan({ bundle: b, existingTargets: syncedTargets(bundle()) });
    assert.deepEqual(result.apply, []);
    assert.deepEqual(result.prune, []);
    assert.deepEqual(result.status, { write: false });
    assert.equal(result.event?.type, 'Warning');
    assert.equal(result.event?.reason, 'NamespaceSelectorError');
    assert.match(result.event?.note ?? '', /^Failed to build namespace match labels selector: spec\.target\.namespaceSelector\.matchLabels: Invalid value: "@@@@"/);
    assert.match(result.error ?? '', /^failed to build NamespaceSelector: /);
  });

  test('prune skips targets being deleted, not controlled, labelled for others, already cleaned, and Secrets when disabled', () => {
    const b = bundle({ configMap: { key: TARGET_KEY }, namespaceSelector: { matchLabels: { selected: 'yes' } } });
    const cleaned = target('ConfigMap', 'cleaned', { hash: 'x', dataKeys: [] });
    cleaned.annotations = {};
    cleaned.managedFields = [
      { manager: 'trust-manager', operation: 'Apply', fieldsV1: { 'f:metadata': { 'f:labels': { 'f:trust.cert-manager.io/bundle': {} } } } },
      { manager: 'kubectl', operation: 'Update', fieldsV1: { 'f:data': { 'f:foreign': {} } } },
    ];
    const otherBundle = target('ConfigMap', 'other-label', { hash: 'x' });
    otherBundle.labels = { 'trust.cert-manager.io/bundle': 'another-bundle' };
    const existing = [
      target('ConfigMap', 'deleting', { hash: 'x', deleting: true }),
      target('ConfigMap', 'no-owner', { hash: 'x', withOwner: false }),
      target('ConfigMap', 'other-owner', { hash: 'x', ownerUid: 'other-uid' }),
      otherBundle,
      cleaned,
      target('Secret', 'secret', { hash: 'x' }),
      target('ConfigMap', 'to-prune', { hash: 'x' }),
    ];
    const namespaces = existing.map((t) => ({ name: t.namespace }));
    assert.deepEqual(refs(plan({ bundle: b, namespaces, existingTargets: existing }).prune), ['ConfigMap/to-prune/test-bundle', 'Secret/secret/test-bundle']);
    assert.deepEqual(refs(plan({ bundle: b, namespaces, existingTargets: existing, options: { ...OPTIONS, secretTargetsEnabled: false } }).prune), [
      'ConfigMap/to-prune/test-bundle',
    ]);
  });

  test('a desired target being deleted is judged like any other (upstream): never pruned, applied when stale', () => {
    const b = bundle(undefined, syncedStatus());
    const deleting = (t: TargetMetadata): TargetMetadata => (t.namespace === 'ns-1' ? { ...t, deletionTimestamp: new Date('2021-01-01T00:00:00Z') } : t);
    const upToDate = plan({ bundle: b, existingTargets: syncedTargets(b).map(deleting) });
    assert.deepEqual(upToDate, nothingToDo());
    const stale = plan({ bundle: b, existingTargets: syncedTargets(b, 'ConfigMap', 'OLD-PEM').map(deleting) });
    assert.deepEqual(refs(stale.apply), ALL_CONFIGMAPS);
    assert.deepEqual(stale.prune, []);
  });

  test('a same-named object without our label counts as missing', () => {
    const b = bundle(undefined, syncedStatus());
    const existing = syncedTargets(b).map((t) => (t.namespace === 'ns-2' ? { ...t, labels: {} } : t));
    assert.deepEqual(refs(plan({ bundle: b, existingTargets: existing }).apply), ['ConfigMap/ns-2/test-bundle']);
  });

  test('the bundle is encoded once however many bodies are built, and only when asked', () => {
    const encoder = countingEncoder();
    const result = plan({ bundle: bundle({ configMap: { key: TARGET_KEY }, secret: { key: TARGET_KEY } }), encode: encoder.encode });
    assert.equal(result.apply.length, 6);
    assert.equal(encoder.calls(), 0, 'planning alone encodes nothing');
    const bodies = result.apply.map(({ body }) => body());
    result.apply.map(({ body }) => body());
    assert.equal(encoder.calls(), 1);
    assert.equal(bodies.filter((body) => body.kind === 'Secret').length, 3);
  });

  test('the default encoder is used when none is given', () => {
    const result = planReconcile({ bundle: bundle(), sources: okSources(), namespaces: [{ name: 'ns-1' }], existingTargets: [], options: OPTIONS, now: NOW });
    assert.deepEqual(result.apply[0]?.body().data, { [TARGET_KEY]: PEM });
  });

  test('a certificate-count change alone rewrites status, without target writes', () => {
    const b = bundle(undefined, syncedStatus(ALL_NAMESPACES_MESSAGE, { certificateCount: 2 }));
    const result = plan({ bundle: b, existingTargets: syncedTargets(b) });
    assert.deepEqual(result.apply, []);
    assertSynced(result, ALL_NAMESPACES_MESSAGE, CERT_FIELDS, EARLIER_TEXT);
  });

  test("against upstream's CRD (statusExtensions: false) a synced Bundle without our status fields costs nothing", () => {
    const options = { ...OPTIONS, statusExtensions: false };
    const upstreamStatus = (generation: number): BundleStatus => ({ conditions: syncedStatus(ALL_NAMESPACES_MESSAGE, {}, generation).conditions });
    const synced = bundle(undefined, upstreamStatus(GENERATION));
    const result = plan({ bundle: synced, existingTargets: syncedTargets(synced), options });
    assert.deepEqual(result.status, { write: false });
    assert.equal(result.event, undefined);
    // With our CRD the same Bundle gets its certificate fields written.
    assertSynced(plan({ bundle: synced, existingTargets: syncedTargets(synced) }), ALL_NAMESPACES_MESSAGE, CERT_FIELDS, EARLIER_TEXT);
    // A status that does change is written with upstream's fields only.
    const stale = bundle(undefined, upstreamStatus(GENERATION - 1));
    assertSynced(plan({ bundle: stale, existingTargets: syncedTargets(stale), options }), ALL_NAMESPACES_MESSAGE, {}, EARLIER_TEXT);
  });

  test('a newer generation rewrites status with the same transition time', () => {
    const b = bundle(undefined, syncedStatus(ALL_NAMESPACES_MESSAGE, {}, GENERATION - 1));
    const result = plan({ bundle: b, existingTargets: syncedTargets(b) });
    assertSynced(result, ALL_NAMESPACES_MESSAGE, CERT_FIELDS, EARLIER_TEXT);
  });

  test('recovery from a failure moves the transition time', () => {
    const b = bundle(undefined, { conditions: [condition('False', 'SourceNotFound', 'x', EARLIER_TEXT)], ...CERT_FIELDS });
    assertSynced(plan({ bundle: b, existingTargets: syncedTargets(b) }));
  });

  test('a Bundle without target writes nothing but reports Synced', () => {
    const result = plan({ bundle: bundle(null) });
    assert.deepEqual(result.apply, []);
    assertSynced(result);
  });
});

describe('applyFailure', () => {
  test('ConfigMap: upstream texts, current status fields kept', () => {
    const b = bundle(undefined, syncedStatus(ALL_NAMESPACES_MESSAGE, { defaultCAVersion: 'pkg' }));
    const failure = applyFailure(b, { kind: 'ConfigMap', namespace: 'ns-1', name: BUNDLE_NAME }, 'configmaps "test-bundle" is forbidden', NOW);
    assert.deepEqual(failure.event, {
      type: 'Warning',
      reason: 'SyncConfigMapTargetFailed',
      action: 'SyncFailed',
      note: 'Failed to sync target ConfigMap in Namespace "ns-1": configmaps "test-bundle" is forbidden',
    });
    assert.deepEqual(
      failure.status,
      {
        write: true,
        body: statusBody(
          condition('False', 'SyncConfigMapTargetFailed', 'Failed to sync bundle ConfigMap to namespace "ns-1": configmaps "test-bundle" is forbidden'),
          { defaultCAVersion: 'pkg', ...CERT_FIELDS },
        ),
      },
    );
  });

  test('Secret: reason SyncSecretTargetFailed', () => {
    const failure = applyFailure(bundle(), { kind: 'Secret', namespace: 'team-a', name: BUNDLE_NAME }, 'boom', NOW);
    assert.equal(failure.event.reason, 'SyncSecretTargetFailed');
    assert.equal(failure.event.note, 'Failed to sync target Secret in Namespace "team-a": boom');
    assert.ok(failure.status.write);
    assert.equal(failure.status.body.status.conditions?.[0]?.message, 'Failed to sync bundle Secret to namespace "team-a": boom');
  });
});

describe('ClusterTrustBundle target (our extension)', () => {
  const CTB_OPTIONS: ReconcileOptions = { ...OPTIONS, clusterTrustBundles: 'available' };
  const ctbOnly = (): Bundle => bundle({ clusterTrustBundle: {} });

  test('alone: the object is written, the message names it, the status describes it; no namespaced target', () => {
    const result = plan({ bundle: ctbOnly(), options: CTB_OPTIONS });
    assert.deepEqual(result.apply, []);
    assert.equal(result.clusterTrustBundle?.apply?.name, BUNDLE_NAME);
    assert.deepEqual(result.clusterTrustBundle?.delete, []);
    assertSynced(result, `Successfully synced Bundle to ClusterTrustBundle "${BUNDLE_NAME}"`, { ...CERT_FIELDS, clusterTrustBundle: { name: BUNDLE_NAME, certificateCount: 3 } });
    assert.equal(result.notices, undefined);
  });

  test('beside a ConfigMap target, with a non-CA certificate: both in the message, the left-out count in status and a Warning', () => {
    const leafCertificate = { ...fakeCertificate('dd', '2035-01-01T00:00:00Z'), isCA: false };
    const sources: SourcesResult = { ok: true, pem: PEM, certificates: [...CERTIFICATES, leafCertificate] };
    const result = plan({ bundle: bundle({ configMap: { key: TARGET_KEY }, clusterTrustBundle: {} }), sources, options: CTB_OPTIONS });
    assert.deepEqual(refs(result.apply), ALL_CONFIGMAPS);
    const note = `1 certificate(s) left out of ClusterTrustBundle "${BUNDLE_NAME}": not CA certificates (basicConstraints CA is not true), which the ClusterTrustBundle API does not accept`;
    assertSynced(result, `${ALL_NAMESPACES_MESSAGE} and to ClusterTrustBundle "${BUNDLE_NAME}"; ${note}`, {
      certificateCount: 4,
      earliestExpiry: CERT_FIELDS.earliestExpiry,
      clusterTrustBundle: { name: BUNDLE_NAME, certificateCount: 3, nonCACertificatesLeftOut: 1 },
    });
    assert.deepEqual(result.notices, [{ type: 'Warning', reason: 'ClusterTrustBundleCertificatesLeftOut', action: 'SyncFailed', note }]);
  });

  test('fully synced (object up to date, status and condition current): no write, no Event', () => {
    const first = plan({ bundle: ctbOnly(), options: CTB_OPTIONS });
    const body = first.clusterTrustBundle!.apply!.body;
    const existing = { metadata: { ...body.metadata, uid: 'ctb-uid' }, spec: body.spec };
    const message = `Successfully synced Bundle to ClusterTrustBundle "${BUNDLE_NAME}"`;
    const synced = bundle({ clusterTrustBundle: {} }, syncedStatus(message, { clusterTrustBundle: { name: BUNDLE_NAME, certificateCount: 3 } }));
    const result = plan({ bundle: synced, options: CTB_OPTIONS, existingClusterTrustBundles: [existing] });
    assert.deepEqual(result.apply, []);
    assert.equal(result.clusterTrustBundle, undefined);
    assert.deepEqual(result.status, { write: false });
    assert.equal(result.event, undefined);
    assert.equal(result.outcome.synced, true);
  });

  test('API not served: namespaced targets still written, the condition says why, the last status kept, no retry', () => {
    const last = { name: BUNDLE_NAME, certificateCount: 2 };
    const b = bundle({ configMap: { key: TARGET_KEY }, clusterTrustBundle: {} }, syncedStatus(ALL_NAMESPACES_MESSAGE, { clusterTrustBundle: last }));
    const result = plan({ bundle: b, options: { ...OPTIONS, clusterTrustBundles: 'unavailable' } });
    assert.deepEqual(refs(result.apply), ALL_CONFIGMAPS);
    assert.equal(result.clusterTrustBundle, undefined);
    const written = result.status.write ? result.status.body.status : undefined;
    assert.equal(written?.conditions?.[0]?.reason, 'ClusterTrustBundleAPIUnavailable');
    assert.equal(written?.conditions?.[0]?.status, 'False');
    assert.deepEqual(written?.clusterTrustBundle, last);
    assert.equal(result.event?.type, 'Warning');
    assert.equal(result.event?.reason, 'ClusterTrustBundleAPIUnavailable');
    assert.equal(result.error, undefined);
  });

  test('target removed: the objects the Bundle controls are deleted and the status field dropped', () => {
    const existing = {
      metadata: {
        name: BUNDLE_NAME,
        uid: 'ctb-uid',
        labels: { 'trust.cert-manager.io/bundle': BUNDLE_NAME },
        ownerReferences: [{ apiVersion: 'trust.cert-manager.io/v1alpha1', kind: 'Bundle', name: BUNDLE_NAME, uid: BUNDLE_UID, controller: true }],
      },
      spec: { trustBundle: 'x' },
    };
    const b = bundle(null, syncedStatus(ALL_NAMESPACES_MESSAGE, { clusterTrustBundle: { name: BUNDLE_NAME, certificateCount: 3 } }));
    const result = plan({ bundle: b, options: CTB_OPTIONS, existingClusterTrustBundles: [existing] });
    assert.deepEqual(result.clusterTrustBundle, { delete: [{ name: BUNDLE_NAME, uid: 'ctb-uid' }] });
    assertSynced(result, ALL_NAMESPACES_MESSAGE, CERT_FIELDS, EARLIER_TEXT);
  });
});

describe('status.certHistory (keepHistory sources)', () => {
  const HISTORY: SourceCertHistory[] = [
    {
      source: 'Secret trust-namespace/source-secret, key secret-key',
      seen: [{ fingerprint: 'bb', subject: 'CN=bb', notAfter: '2030-06-15T12:00:00Z', pem: 'PEM-BB' }],
      retired: [{ fingerprint: 'aa', subject: 'CN=aa', notAfter: '2031-01-01T00:00:00Z', retiredAt: NOW_TEXT, pem: 'PEM-AA' }],
    },
  ];

  test('a new history is written with the status, alongside the certificate fields', () => {
    const b = bundle(undefined, syncedStatus());
    const result = plan({ bundle: b, existingTargets: syncedTargets(b), certHistory: HISTORY });
    assertSynced(result, ALL_NAMESPACES_MESSAGE, { ...CERT_FIELDS, certHistory: HISTORY }, EARLIER_TEXT);
    assert.deepEqual(result.apply, []);
  });

  test('an unchanged history costs no write, whatever the key order the API server returns', () => {
    const sortKeys = (value: unknown): unknown =>
      Array.isArray(value)
        ? value.map(sortKeys)
        : typeof value === 'object' && value !== null
          ? Object.fromEntries(Object.entries(value).sort(([a], [b]) => (a < b ? -1 : 1)).map(([key, member]) => [key, sortKeys(member)]))
          : value;
    const served = sortKeys(HISTORY) as SourceCertHistory[];
    assert.notEqual(JSON.stringify(served), JSON.stringify(HISTORY), 'the served form really has another key order');
    const b = bundle(undefined, syncedStatus(ALL_NAMESPACES_MESSAGE, { certHistory: served }));
    const result = plan({ bundle: b, existingTargets: syncedTargets(b), certHistory: structuredClone(HISTORY) });
    assert.deepEqual(result, nothingToDo());
  });

  test('an emptied history (opt-in removed) removes the field', () => {
    const b = bundle(undefined, syncedStatus(ALL_NAMESPACES_MESSAGE, { certHistory: HISTORY }));
    assertSynced(plan({ bundle: b, existingTargets: syncedTargets(b), certHistory: [] }), ALL_NAMESPACES_MESSAGE, CERT_FIELDS, EARLIER_TEXT);
    assertSynced(plan({ bundle: b, existingTargets: syncedTargets(b) }), ALL_NAMESPACES_MESSAGE, CERT_FIELDS, EARLIER_TEXT);
  });

  test('a source failure and a target failure keep the history as it is (it is not lost while sources are broken)', () => {
    const b = bundle(undefined, syncedStatus(ALL_NAMESPACES_MESSAGE, { certHistory: HISTORY }));
    const failed = plan({ bundle: b, sources: { ok: false, reason: 'SourceNotFound', message: 'gone', retry: false } });
    assert.ok(failed.status.write);
    assert.deepEqual(failed.status.body.status.certHistory, HISTORY);
    const applyFailed = applyFailure(b, { kind: 'ConfigMap', namespace: 'ns-1', name: BUNDLE_NAME }, 'boom', NOW);
    assert.ok(applyFailed.status.write);
    assert.deepEqual(applyFailed.status.body.status.certHistory, HISTORY);
  });
});
