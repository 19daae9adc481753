// Bundle status decisions (upstream-behaviour.md 4.2 steps 2, 9, 11, 12): the Synced condition, its
// transition time, defaultCAVersion, our certificate fields, and the status apply body.

import { API_VERSION, CONDITION_SYNCED, KIND } from '@trust-manager/shared/api/constants.ts';
import type { Bundle, BundleCondition, BundleStatus } from '@trust-manager/shared/api/types.ts';
import type { CertificateSummary } from '@trust-manager/shared/certs/pool.ts';
import { rfc3339 } from '@trust-manager/shared/api/time.ts';

/** The decision part of a condition; lastTransitionTime is derived (conditionFor). */
export type ConditionSpec = Omit<BundleCondition, 'lastTransitionTime'>;

/** Server-side apply body for `bundles/status`. */
export interface BundleStatusApply {
  apiVersion: string;
  kind: string;
  metadata: { name: string };
  status: BundleStatus;
}

export type StatusDecision = { write: false } | { write: true; body: BundleStatusApply };

/** The status fields besides conditions that trust-manager owns; carried over unchanged on early exits. */
export type StatusFields = Pick<BundleStatus, 'defaultCAVersion' | 'certificateCount' | 'earliestExpiry'>;

export function syncedCondition(bundle: Bundle, status: BundleCondition['status'], reason: string, message: string): ConditionSpec {
  const condition: ConditionSpec = { type: CONDITION_SYNCED, status, reason, message };
  if (bundle.metadata.generation !== undefined) condition.observedGeneration = bundle.metadata.generation;
  return condition;
}

/** Upstream bundleHasCondition: same type, status, reason, message and observedGeneration; the time is ignored. */
export function hasCondition(existing: readonly BundleCondition[] | undefined, wanted: ConditionSpec): boolean {
  const current = existing?.find((condition) => condition.type === wanted.type);
  return (
    current !== undefined &&
    current.status === wanted.status &&
    current.reason === wanted.reason &&
    current.message === wanted.message &&
    (current.observedGeneration ?? 0) === (wanted.observedGeneration ?? 0)
  );
}

/** lastTransitionTime moves only when the status of that condition type changes. */
export function conditionFor(existing: readonly BundleCondition[] | undefined, wanted: ConditionSpec, now: Date): BundleCondition {
  const current = existing?.find((condition) => condition.type === wanted.type);
  const lastTransitionTime = current !== undefined && current.status === wanted.status ? current.lastTransitionTime : rfc3339(now);
  return {
    type: wanted.type,
    status: wanted.status,
    lastTransitionTime,
    reason: wanted.reason,
    message: wanted.message,
    ...(wanted.observedGeneration !== undefined ? { observedGeneration: wanted.observedGeneration } : {}),
  };
}

/**
 * The apply body with each condition's lastTransitionTime as of `at`: the plan is made when the
 * reconcile starts, the status is written after every target (upstream stamps completion).
 */
export function stampedAt(bundle: Bundle, body: BundleStatusApply, at: Date): BundleStatusApply {
  const conditions = body.status.conditions?.map(({ lastTransitionTime: _planned, ...wanted }) => conditionFor(bundle.status?.conditions, wanted, at));
  return conditions === undefined ? body : { ...body, status: { ...body.status, conditions } };
}

/** Upstream setBundleStatusDefaultCAVersion: a present-but-empty value counts as set. */
export function defaultCAVersionChanged(current: string | undefined, required: string | undefined): boolean {
  if (required === undefined || required === '') return current !== undefined;
  return current !== required;
}

/** Our extension: what the status says about the certificates of a successful build. */
export function certificateFields(summary: CertificateSummary): Pick<BundleStatus, 'certificateCount' | 'earliestExpiry'> {
  return {
    certificateCount: summary.count,
    ...(summary.earliestNotAfter !== undefined ? { earliestExpiry: rfc3339(summary.earliestNotAfter) } : {}),
  };
}

export function currentStatusFields(bundle: Bundle): StatusFields {
  const status = bundle.status ?? {};
  const fields: StatusFields = {};
  if (status.defaultCAVersion !== undefined) fields.defaultCAVersion = status.defaultCAVersion;
  if (status.certificateCount !== undefined) fields.certificateCount = status.certificateCount;
  if (status.earliestExpiry !== undefined) fields.earliestExpiry = status.earliestExpiry;
  return fields;
}

export function statusFieldsChanged(bundle: Bundle, wanted: StatusFields): boolean {
  const current = currentStatusFields(bundle);
  return (
    defaultCAVersionChanged(current.defaultCAVersion, wanted.defaultCAVersion) ||
    current.certificateCount !== wanted.certificateCount ||
    current.earliestExpiry !== wanted.earliestExpiry
  );
}

/**
 * The whole status trust-manager owns, in one apply: fields left out would lose their owner and be
 * removed, which is why early exits carry the current values along.
 */
export function statusWrite(bundle: Bundle, wanted: ConditionSpec, fields: StatusFields, now: Date): StatusDecision {
  const status: BundleStatus = { conditions: [conditionFor(bundle.status?.conditions, wanted, now)] };
  if (fields.defaultCAVersion !== undefined && fields.defaultCAVersion !== '') status.defaultCAVersion = fields.defaultCAVersion;
  if (fields.certificateCount !== undefined) status.certificateCount = fields.certificateCount;
  if (fields.earliestExpiry !== undefined) status.earliestExpiry = fields.earliestExpiry;
  return {
    write: true,
    body: { apiVersion: API_VERSION, kind: KIND, metadata: { name: bundle.metadata.name }, status },
  };
}
