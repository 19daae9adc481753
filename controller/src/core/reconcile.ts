// The reconcile decision (upstream-behaviour.md 4.2 steps 3-11): given a Bundle, its built sources and
// what the caches hold, which targets to write, which to clean up, and what status and Event to report.
// Pure: the runtime performs the writes, in any order and concurrency, and reports apply failures back
// through applyFailure.

import { aggregateMessage, goQuote } from '@trust-manager/shared/api/field-error.ts';
import { BUNDLE_LABEL } from '@trust-manager/shared/api/constants.ts';
import type { Bundle } from '@trust-manager/shared/api/types.ts';
import { formatLabelSelector, matchesLabelSelector, validateLabelSelector } from '@trust-manager/shared/selectors/label-selector.ts';
import type { ReconcileOptions } from './options.ts';
import type { SourcesResult } from './sources.ts';
import {
  type ConditionSpec,
  type StatusDecision,
  type StatusFields,
  certificateFields,
  currentStatusFields,
  hasCondition,
  statusFieldsChanged,
  statusWrite,
  syncedCondition,
} from './status.ts';
import {
  type BundleEncoder,
  type EncodedBundle,
  type TargetApplyBody,
  type TargetKind,
  type TargetMetadata,
  type TargetRef,
  buildCleanupApply,
  buildTargetApply,
  cleanupNeeded,
  encodeBundle,
  encodingFormatsFor,
  isControlledBy,
  needsUpdate,
  targetHashFor,
  targetRefKey,
  targetTemplate,
} from './targets.ts';

export type { StatusDecision } from './status.ts';

/** An events.k8s.io Event about the Bundle (upstream 4.9). */
export interface EventSpec {
  type: 'Normal' | 'Warning';
  reason: string;
  action: string;
  note: string;
}

export interface NamespaceInfo {
  name: string;
  labels?: Record<string, string>;
  phase?: string;
}

export interface ReconcileInput {
  bundle: Bundle;
  sources: SourcesResult;
  /** Every namespace the runtime knows (the plan applies the Bundle's selector itself). */
  namespaces: NamespaceInfo[];
  /** The target cache entries labelled with this Bundle. */
  existingTargets: TargetMetadata[];
  options: ReconcileOptions;
  now: Date;
  /** Defaults to encodeBundle; pass EncodingCache.encode to reuse encodings across reconciles. */
  encode?: BundleEncoder;
}

export interface ReconcilePlan {
  /** Targets that need a write. `body()` encodes the bundle on first use, once per plan. */
  apply: Array<{ ref: TargetRef; body: () => TargetApplyBody }>;
  /** Cleanup applies for unselected targets this Bundle controls; delete those isEmptyAfterCleanup says are empty. */
  prune: Array<{ ref: TargetRef; body: TargetApplyBody }>;
  status: StatusDecision;
  event?: EventSpec;
  /** Set when the runtime should retry with backoff. */
  error?: string;
}

const ACTION_SYNCED = 'Synced';
const ACTION_SYNC_FAILED = 'SyncFailed';
const NAMESPACE_TERMINATING = 'Terminating';
const TARGET_KINDS: readonly TargetKind[] = ['ConfigMap', 'Secret'];

export function planReconcile(input: ReconcileInput): ReconcilePlan {
  const { bundle, sources, options, now } = input;

  if (!sources.ok) {
    return failurePlan(bundle, sources.reason, sources.message, now, sources.retry ? sources.message : undefined);
  }

  // Upstream writes nothing at all here, not even the ConfigMap targets.
  if (!options.secretTargetsEnabled && bundle.spec.target?.secret !== undefined) {
    return failurePlan(bundle, 'SecretTargetsDisabled', 'Bundle has Secret targets but the feature is disabled', now);
  }

  const namespaceSelector = bundle.spec.target?.namespaceSelector;
  const selectorErrors = validateLabelSelector(namespaceSelector, 'spec.target.namespaceSelector');
  if (selectorErrors.length > 0) {
    const reason = aggregateMessage(selectorErrors);
    return {
      apply: [],
      prune: [],
      status: { write: false },
      event: warning('NamespaceSelectorError', `Failed to build namespace match labels selector: ${reason}`),
      error: `failed to build NamespaceSelector: ${reason}`,
    };
  }

  const desired = desiredTargets(bundle, input.namespaces, options);
  const desiredKeys = new Set(desired.map(targetRefKey));
  const existing = new Map(input.existingTargets.filter((target) => isLabelledFor(target, bundle)).map((target) => [targetRefKey(target), target]));

  const prune = [...existing.values()]
    .filter(
      (target) =>
        (target.kind === 'ConfigMap' || options.secretTargetsEnabled) &&
        !desiredKeys.has(targetRefKey(target)) &&
        target.deletionTimestamp == null &&
        isControlledBy(target, bundle) &&
        cleanupNeeded(target),
    )
    .map((target) => {
      const ref = refOf(target);
      return { ref, body: buildCleanupApply(ref, bundle) };
    });

  const hashes = new Map<TargetKind, string>();
  const hashFor = (kind: TargetKind): string => {
    let hash = hashes.get(kind);
    if (hash === undefined) {
      hash = targetHashFor(bundle, kind, sources.pem);
      hashes.set(kind, hash);
    }
    return hash;
  };
  const encode = input.encode ?? encodeBundle;
  let encoded: EncodedBundle | undefined;
  const encodedOnce = (): EncodedBundle => (encoded ??= encode({ pem: sources.pem, certificates: sources.certificates }, encodingFormatsFor(bundle)));

  const apply = desired
    .filter((ref) => needsUpdate(existing.get(targetRefKey(ref)), bundle, ref.kind, hashFor(ref.kind)))
    .map((ref) => ({ ref, body: () => buildTargetApply(ref, bundle, encodedOnce(), hashFor(ref.kind)) }));

  const fields: StatusFields = {
    ...(sources.defaultCAVersion !== undefined ? { defaultCAVersion: sources.defaultCAVersion } : {}),
    ...(options.statusExtensions !== false ? certificateFields(sources.certificates) : {}),
  };
  const message = successMessage(bundle, options);
  const condition = syncedCondition(bundle, 'True', 'Synced', message);

  // A fully synced Bundle costs no write and no Event.
  if (apply.length === 0 && !statusFieldsChanged(bundle, fields) && hasCondition(bundle.status?.conditions, condition)) {
    return { apply, prune, status: { write: false } };
  }
  return {
    apply,
    prune,
    status: statusWrite(bundle, condition, fields, now),
    event: { type: 'Normal', reason: 'Synced', action: ACTION_SYNCED, note: message },
  };
}

/** Upstream 4.2 step 8: the first target write that failed decides status and Event; the runtime retries. */
export function applyFailure(bundle: Bundle, ref: TargetRef, err: string, now: Date): { status: StatusDecision; event: EventSpec } {
  const reason = `Sync${ref.kind}TargetFailed`;
  const namespace = goQuote(ref.namespace);
  const condition = syncedCondition(bundle, 'False', reason, `Failed to sync bundle ${ref.kind} to namespace ${namespace}: ${err}`);
  return {
    status: statusWrite(bundle, condition, currentStatusFields(bundle), now),
    event: warning(reason, `Failed to sync target ${ref.kind} in Namespace ${namespace}: ${err}`),
  };
}

/**
 * Namespaces the Bundle targets: those its selector matches (none given = all), minus terminating ones,
 * minus those outside --target-namespaces. The trust namespace is an ordinary target namespace.
 */
export function desiredTargets(bundle: Bundle, namespaces: readonly NamespaceInfo[], options: ReconcileOptions): TargetRef[] {
  const target = bundle.spec.target;
  const kinds = TARGET_KINDS.filter((kind) => targetTemplate(bundle, kind) !== undefined);
  if (target === undefined || kinds.length === 0) return [];
  const restrictTo = options.targetNamespaces.length > 0 ? new Set(options.targetNamespaces) : undefined;
  const refs: TargetRef[] = [];
  for (const namespace of [...namespaces].sort((a, b) => compareStrings(a.name, b.name))) {
    if (namespace.phase === NAMESPACE_TERMINATING) continue;
    if (restrictTo !== undefined && !restrictTo.has(namespace.name)) continue;
    if (!matchesLabelSelector(target.namespaceSelector, namespace.labels)) continue;
    for (const kind of kinds) refs.push({ kind, namespace: namespace.name, name: bundle.metadata.name });
  }
  return refs;
}

/** Upstream 4.2 step 10. */
export function successMessage(bundle: Bundle, options: ReconcileOptions): string {
  const selector = bundle.spec.target?.namespaceSelector;
  const selectorText = selector !== undefined ? formatLabelSelector(selector) : '';
  if (options.targetNamespaces.length > 0) {
    return selectorText === ''
      ? 'Successfully synced Bundle to all allowed namespaces'
      : `Successfully synced Bundle to allowed namespaces that match this label selector: ${selectorText}`;
  }
  return selectorText === ''
    ? 'Successfully synced Bundle to all namespaces'
    : `Successfully synced Bundle to namespaces that match this label selector: ${selectorText}`;
}

/** Early exits (sources, disabled Secret targets): status Synced=False and a Warning, targets untouched. */
function failurePlan(bundle: Bundle, reason: string, message: string, now: Date, error?: string): ReconcilePlan {
  const condition: ConditionSpec = syncedCondition(bundle, 'False', reason, message);
  return {
    apply: [],
    prune: [],
    status: statusWrite(bundle, condition, currentStatusFields(bundle), now),
    event: warning(reason, message),
    ...(error !== undefined ? { error } : {}),
  };
}

function warning(reason: string, note: string): EventSpec {
  return { type: 'Warning', reason, action: ACTION_SYNC_FAILED, note };
}

function isLabelledFor(target: TargetMetadata, bundle: Bundle): boolean {
  return target.labels?.[BUNDLE_LABEL] === bundle.metadata.name;
}

function refOf(target: TargetMetadata): TargetRef {
  return { kind: target.kind, namespace: target.namespace, name: target.name };
}

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
