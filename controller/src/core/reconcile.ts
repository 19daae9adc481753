// The reconcile decision (upstream-compatibility.md 4.2 steps 3-11): given a Bundle, its built sources and
// what the caches hold, which targets to write, which to clean up, and what status and Event to report.
// Pure: the runtime performs the writes, in any order and concurrency, and reports apply failures back
// through applyFailure.

import { aggregateMessage, goQuote } from '@trust-manager/shared/api/field-error.ts';
import { BUNDLE_LABEL } from '@trust-manager/shared/api/constants.ts';
import type { Bundle, SourceCertHistory } from '@trust-manager/shared/api/types.ts';
import { summarizeCertificates, type CertificateSummary } from '@trust-manager/shared/certs/pool.ts';
import { formatLabelSelector, matchesLabelSelector, validateLabelSelector } from '@trust-manager/shared/selectors/label-selector.ts';
import { compareStrings } from '@trust-manager/shared/text/compare.ts';
import { clusterTrustBundleWriteFailure, planClusterTrustBundleTarget, REASON_LEFT_OUT, type ClusterTrustBundleObject, type ClusterTrustBundleTargetPlan } from './cluster-trust-bundles.ts';
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
  /** The cached ClusterTrustBundles labelled with this Bundle (none when the API is not in use). */
  existingClusterTrustBundles?: ClusterTrustBundleObject[];
  options: ReconcileOptions;
  now: Date;
  /** Defaults to encodeBundle; pass EncodingCache.encode to reuse encodings across reconciles. */
  encode?: BundleEncoder;
  /** The new status.certHistory (history.ts); `sources` then already holds the kept certificates. */
  certHistory?: SourceCertHistory[];
}

export interface ReconcilePlan {
  /** Targets that need a write. `body()` encodes the bundle on first use, once per plan. */
  apply: Array<{ ref: TargetRef; body: () => TargetApplyBody }>;
  /** Cleanup applies for unselected targets this Bundle controls; delete those isEmptyAfterCleanup says are empty. */
  prune: Array<{ ref: TargetRef; body: TargetApplyBody }>;
  /** The ClusterTrustBundle target: its write and the deletes of objects this Bundle no longer wants. */
  clusterTrustBundle?: Pick<ClusterTrustBundleTargetPlan, 'apply' | 'delete'>;
  status: StatusDecision;
  event?: EventSpec;
  /** Further Events, recorded after `event` when the status is written. */
  notices?: EventSpec[];
  /** Set when the runtime should retry with backoff. */
  error?: string;
  /** What the plan amounts to, for the runtime's metrics and logs (never re-derived there). */
  outcome: PlanOutcome;
}

export interface PlanOutcome {
  /** Sources built and targets planned; only a failed target write can still make it a failure. */
  synced: boolean;
  /** Targets the Bundle should have (0 unless synced). */
  desiredTargets: number;
  /** The certificates of a successful source build; absent when the sources failed. */
  certificates?: CertificateSummary;
}

const ACTION_SYNCED = 'Synced';
const ACTION_SYNC_FAILED = 'SyncFailed';
const NAMESPACE_TERMINATING = 'Terminating';
const TARGET_KINDS: readonly TargetKind[] = ['ConfigMap', 'Secret'];

export function planReconcile(input: ReconcileInput): ReconcilePlan {
  const { bundle, sources, options, now } = input;

  if (!sources.ok) {
    return failurePlan(bundle, sources.reason, sources.message, now, { synced: false, desiredTargets: 0 }, sources.retry ? sources.message : undefined);
  }
  const certificates = summarizeCertificates(sources.certificates);
  const notSynced: PlanOutcome = { synced: false, desiredTargets: 0, certificates };

  // Upstream writes nothing at all here, not even the ConfigMap targets.
  if (!options.secretTargetsEnabled && bundle.spec.target?.secret !== undefined) {
    return failurePlan(bundle, 'SecretTargetsDisabled', 'Bundle has Secret targets but the feature is disabled', now, notSynced);
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
      outcome: notSynced,
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

  const ctb = planClusterTrustBundleTarget(bundle, sources.certificates, input.existingClusterTrustBundles ?? [], options.clusterTrustBundles);
  const currentCtbStatus = bundle.status?.clusterTrustBundle;
  const ctbStatus = ctb.status ?? (ctb.problem !== undefined ? currentCtbStatus : undefined);
  const fields: StatusFields = {
    ...(sources.defaultCAVersion !== undefined ? { defaultCAVersion: sources.defaultCAVersion } : {}),
    // Against upstream's CRD (statusExtensions false) only upstream's status fields are written.
    ...(options.statusExtensions !== false
      ? {
          ...certificateFields(certificates),
          ...(ctbStatus !== undefined ? { clusterTrustBundle: ctbStatus } : {}),
          ...(input.certHistory !== undefined && input.certHistory.length > 0 ? { certHistory: input.certHistory } : {}),
        }
      : {}),
  };
  const condition =
    ctb.problem !== undefined
      ? syncedCondition(bundle, 'False', ctb.problem.reason, ctb.problem.message)
      : syncedCondition(bundle, 'True', 'Synced', syncedMessage(bundle, options, ctb));
  const ctbWrites = ctb.apply !== undefined || ctb.delete.length > 0;
  const writes = { apply, prune, ...(ctbWrites ? { clusterTrustBundle: { ...(ctb.apply !== undefined ? { apply: ctb.apply } : {}), delete: ctb.delete } } : {}) };
  const outcome: PlanOutcome = { synced: ctb.problem === undefined, desiredTargets: desired.length, certificates };

  // A fully synced Bundle costs no write and no Event.
  if (apply.length === 0 && !ctbWrites && !statusFieldsChanged(bundle, fields) && hasCondition(bundle.status?.conditions, condition)) {
    return { ...writes, status: { write: false }, outcome };
  }
  const event: EventSpec =
    ctb.problem !== undefined ? warning(ctb.problem.reason, ctb.problem.message) : { type: 'Normal', reason: 'Synced', action: ACTION_SYNCED, note: condition.message };
  const notices = ctb.apply !== undefined && ctb.leftOutNote !== undefined ? [warning(REASON_LEFT_OUT, ctb.leftOutNote)] : [];
  return {
    ...writes,
    status: statusWrite(bundle, condition, fields, now),
    event,
    ...(notices.length > 0 ? { notices } : {}),
    outcome,
  };
}

/** The Synced message: upstream's for namespaced targets, plus the ClusterTrustBundle target when there is one. */
function syncedMessage(bundle: Bundle, options: ReconcileOptions, ctb: ClusterTrustBundleTargetPlan): string {
  let message = successMessage(bundle, options);
  if (ctb.name !== undefined) {
    const namespaced = TARGET_KINDS.some((kind) => targetTemplate(bundle, kind) !== undefined);
    const ctbPart = `ClusterTrustBundle ${goQuote(ctb.name)}`;
    message = namespaced ? `${message} and to ${ctbPart}` : `Successfully synced Bundle to ${ctbPart}`;
  }
  return ctb.leftOutNote !== undefined ? `${message}; ${ctb.leftOutNote}` : message;
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

/** Our ClusterTrustBundle target: a failed write decides status and Event as a failed target write does. */
export function clusterTrustBundleApplyFailure(bundle: Bundle, name: string, err: string, now: Date): { status: StatusDecision; event: EventSpec } {
  const failure = clusterTrustBundleWriteFailure(name, err);
  return {
    status: statusWrite(bundle, syncedCondition(bundle, 'False', failure.reason, failure.message), currentStatusFields(bundle), now),
    event: warning(failure.reason, failure.message),
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
function failurePlan(bundle: Bundle, reason: string, message: string, now: Date, outcome: PlanOutcome, error?: string): ReconcilePlan {
  const condition: ConditionSpec = syncedCondition(bundle, 'False', reason, message);
  return {
    apply: [],
    prune: [],
    status: statusWrite(bundle, condition, currentStatusFields(bundle), now),
    event: warning(reason, message),
    ...(error !== undefined ? { error } : {}),
    outcome,
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
