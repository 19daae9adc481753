// Bundle status decisions (upstream-compatibility.md 4.2 steps 2, 9, 11, 12): the Synced condition, its
// transition time, defaultCAVersion, our certificate fields, and the status apply body.

import { API_VERSION, CONDITION_SYNCED, KIND } from '@trust-manager/shared/api/constants.ts';
import type { Bundle, BundleCondition, BundleStatus, ClusterTrustBundleStatus } from '@trust-manager/shared/api/types.ts';
import type { CertificateSummary } from '@trust-manager/shared/certs/pool.ts';
import { rfc3339 } from '@trust-manager/shared/api/time.ts';

const { isDeepStrictEqual } = process.getBuiltinModule('node:util');

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
export type StatusFields = Pick<BundleStatus, 'defaultCAVersion' | 'certificateCount' | 'earliestExpiry' | 'clusterTrustBundle' | 'certHistory'>;

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

/**
 * Our status fields beyond upstream's. Upstream's Bundle CRD does not declare them, and server-side
 * apply rejects an undeclared field, so against that CRD they are left out (statusExtensions: false).
 */
export const STATUS_EXTENSIONS = ['certificateCount', 'earliestExpiry', 'clusterTrustBundle', 'certHistory'] as const;

/** The API server's answer to an apply that sets one of our fields on a CRD that does not declare it. */
const UNDECLARED_EXTENSION = new RegExp(`\\.status\\.(${STATUS_EXTENSIONS.join('|')}): field not declared in schema`);

export function isUndeclaredStatusExtension(errorMessage: string): boolean {
  return UNDECLARED_EXTENSION.test(errorMessage);
}

export function hasStatusExtensions(body: BundleStatusApply): boolean {
  return STATUS_EXTENSIONS.some((field) => body.status[field] !== undefined);
}

export function withoutStatusExtensions(body: BundleStatusApply): BundleStatusApply {
  const status: BundleStatus = { ...body.status };
  for (const field of STATUS_EXTENSIONS) delete status[field];
  return { ...body, status };
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
  if (status.clusterTrustBundle !== undefined) fields.clusterTrustBundle = status.clusterTrustBundle;
  if (status.certHistory !== undefined && status.certHistory.length > 0) fields.certHistory = status.certHistory;
  return fields;
}

export function statusFieldsChanged(bundle: Bundle, wanted: StatusFields): boolean {
  const current = currentStatusFields(bundle);
  return (
    defaultCAVersionChanged(current.defaultCAVersion, wanted.defaultCAVersion) ||
    current.certificateCount !== wanted.certificateCount ||
    current.earliestExpiry !== wanted.earliestExpiry ||
    !sameClusterTrustBundleStatus(current.clusterTrustBundle, wanted.clusterTrustBundle) ||
    // Key order is not significant: the API server returns objects with their keys sorted.
    !isDeepStrictEqual(current.certHistory ?? [], wanted.certHistory ?? [])
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
  if (fields.clusterTrustBundle !== undefined) status.clusterTrustBundle = fields.clusterTrustBundle;
  if (fields.certHistory !== undefined && fields.certHistory.length > 0) status.certHistory = fields.certHistory;
  return {
    write: true,
    body: { apiVersion: API_VERSION, kind: KIND, metadata: { name: bundle.metadata.name }, status },
  };
}

function sameClusterTrustBundleStatus(a: ClusterTrustBundleStatus | undefined, b: ClusterTrustBundleStatus | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return a.name === b.name && a.certificateCount === b.certificateCount && (a.nonCACertificatesLeftOut ?? 0) === (b.nonCACertificatesLeftOut ?? 0);
}
