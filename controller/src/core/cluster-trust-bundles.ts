// ClusterTrustBundles (certificates.k8s.io/v1beta1) as a Bundle target and source: pure decisions.
// - Target: one cluster-scoped object per Bundle, holding only the bundle's CA certificates (the API
//   refuses anything else), never written when the API server would reject it.
// - Source: objects selected as a projected clusterTrustBundle volume selects them.
// - Availability: whether trust-manager may use the API at all (flag) and whether it is served
//   (discovery); a Bundle that needs it otherwise gets a condition saying how to enable it.

import {
  CTB_API_VERSION,
  CTB_GROUP,
  CTB_KIND,
  CTB_PLURAL,
  MAX_TRUST_BUNDLE_SIZE,
  clusterTrustBundleName,
  clusterTrustBundlesUnusable,
  validateSignerName,
  type ClusterTrustBundleAvailability,
} from '@trust-manager/shared/api/cluster-trust-bundle.ts';
import { BUNDLE_LABEL, HASH_ANNOTATION } from '@trust-manager/shared/api/constants.ts';
import { aggregateMessage, goQuote } from '@trust-manager/shared/api/field-error.ts';
import type { Bundle, ClusterTrustBundleStatus, LabelSelector } from '@trust-manager/shared/api/types.ts';
import type { Certificate } from '@trust-manager/shared/certs/certificate.ts';
import { targetHash } from '@trust-manager/shared/certs/hash.ts';
import { certificatePem } from '@trust-manager/shared/certs/pool.ts';
import type { KubeObject, OwnerReference } from '../kube/object.ts';
import { matchesLabelSelector } from '@trust-manager/shared/selectors/label-selector.ts';
import { bundleOwnerReference, isControlledBy } from './targets.ts';

export type { ClusterTrustBundleAvailability };

/** A ClusterTrustBundle as the controller's cache holds it. */
export interface ClusterTrustBundleObject extends KubeObject {
  spec: { signerName?: string; trustBundle: string };
}

/** Server-side apply body of the target. */
export interface ClusterTrustBundleApplyBody {
  apiVersion: typeof CTB_API_VERSION;
  kind: typeof CTB_KIND;
  metadata: {
    name: string;
    labels: Record<string, string>;
    annotations: Record<string, string>;
    ownerReferences: OwnerReference[];
  };
  spec: { signerName?: string; trustBundle: string };
}

export interface ConditionProblem {
  reason: string;
  message: string;
}

export const REASON_API_UNAVAILABLE = 'ClusterTrustBundleAPIUnavailable';
export const REASON_DISABLED = 'ClusterTrustBundlesDisabled';
export const REASON_TARGET_INVALID = 'ClusterTrustBundleTargetInvalid';
export const REASON_TARGET_FAILED = 'SyncClusterTrustBundleTargetFailed';
export const REASON_LEFT_OUT = 'ClusterTrustBundleCertificatesLeftOut';

/** Why a Bundle that uses ClusterTrustBundles (`what`) cannot be served now, or undefined when it can. */
export function availabilityProblem(availability: ClusterTrustBundleAvailability | undefined, what: string): ConditionProblem | undefined {
  const effective = availability ?? 'disabled';
  const why = clusterTrustBundlesUnusable(effective);
  if (why === undefined) return undefined;
  return { reason: effective === 'unavailable' ? REASON_API_UNAVAILABLE : REASON_DISABLED, message: `Bundle uses ClusterTrustBundles (${what}) but ${why}` };
}

/** Field path of the first clusterTrustBundle source, if any. */
export function firstClusterTrustBundleSource(bundle: Bundle): string | undefined {
  const index = bundle.spec.sources.findIndex((source) => source.clusterTrustBundle !== undefined);
  return index < 0 ? undefined : `spec.sources[${index}].clusterTrustBundle`;
}

// ---------------------------------------------------------------------------------------------
// Source

/** Read access to the ClusterTrustBundle cache. */
export interface ClusterTrustBundleReader {
  getClusterTrustBundle(name: string): ClusterTrustBundleObject | undefined;
  listClusterTrustBundles(): ClusterTrustBundleObject[];
}

/** The projected volume's NotFound text for a named object. */
export function clusterTrustBundleNotFound(name: string): string {
  return `failed to get ClusterTrustBundle ${name}: ${CTB_PLURAL}.${CTB_GROUP} ${goQuote(name)} not found`;
}

/**
 * Objects of a signer that the selector matches, sorted by name. As in a projected volume an unset
 * selector selects none and `{}` selects every object of the signer.
 */
export function selectClusterTrustBundles(
  objects: readonly ClusterTrustBundleObject[],
  signerName: string,
  labelSelector: LabelSelector | undefined,
): ClusterTrustBundleObject[] {
  if (labelSelector === undefined) return [];
  return objects
    .filter((object) => (object.spec.signerName ?? '') === signerName && matchesLabelSelector(labelSelector, object.metadata.labels))
    .sort((a, b) => (a.metadata.name < b.metadata.name ? -1 : a.metadata.name > b.metadata.name ? 1 : 0));
}

/** Bundles with a clusterTrustBundle source that names or selects one of `objects` (old and new state on updates). */
export function bundlesUsingClusterTrustBundles(bundles: Iterable<Bundle>, objects: readonly ClusterTrustBundleObject[]): string[] {
  const names: string[] = [];
  for (const bundle of bundles) {
    const uses = bundle.spec.sources.some((source) => {
      const ref = source.clusterTrustBundle;
      if (ref === undefined) return false;
      if (ref.name !== undefined) return objects.some((object) => object.metadata.name === ref.name);
      return ref.signerName !== undefined && selectClusterTrustBundles(objects, ref.signerName, ref.labelSelector).length > 0;
    });
    if (uses) names.push(bundle.metadata.name);
  }
  return names;
}

// ---------------------------------------------------------------------------------------------
// Target

export interface ClusterTrustBundleTargetPlan {
  /** The write, when the object is missing or differs. */
  apply?: { name: string; body: ClusterTrustBundleApplyBody };
  /** Objects this Bundle controls that it no longer wants (target removed, signer changed). */
  delete: Array<{ name: string; uid?: string }>;
  /** Set when the target cannot be written; the Bundle is then not Synced. */
  problem?: ConditionProblem;
  /** What the status reports about the target, when it is (or stays) written. */
  status?: ClusterTrustBundleStatus;
  /** Appended to the Synced message, e.g. ` and to ClusterTrustBundle "x"`. */
  name?: string;
  /** A note about certificates left out, when there are any. */
  leftOutNote?: string;
}

/**
 * The target's desired state against the cached objects labelled for this Bundle. The certificates
 * are the bundle's, already deduplicated; non-CA ones are left out and counted.
 */
export function planClusterTrustBundleTarget(
  bundle: Bundle,
  certificates: readonly Certificate[],
  existing: readonly ClusterTrustBundleObject[],
  availability: ClusterTrustBundleAvailability | undefined,
): ClusterTrustBundleTargetPlan {
  const target = bundle.spec.target?.clusterTrustBundle;
  const owned = existing.filter((object) => isControlledBy(object.metadata, bundle) && object.metadata.deletionTimestamp === undefined);
  if (target === undefined) return { delete: owned.map(deletion) };

  const unavailable = availabilityProblem(availability, 'spec.target.clusterTrustBundle');
  if (unavailable !== undefined) return { delete: [], problem: unavailable };

  const signerName = target.signerName ?? '';
  const signerErrors = signerName === '' ? [] : validateSignerName('spec.target.clusterTrustBundle.signerName', signerName);
  if (signerErrors.length > 0) {
    return { delete: [], problem: { reason: REASON_TARGET_INVALID, message: `ClusterTrustBundle target is invalid: ${aggregateMessage(signerErrors)}` } };
  }

  const name = clusterTrustBundleName(bundle.metadata.name, signerName);
  const stale = owned.filter((object) => object.metadata.name !== name).map(deletion);
  const authorities = certificates.filter((certificate) => certificate.isCA);
  const leftOut = certificates.length - authorities.length;
  const quoted = goQuote(name);
  if (authorities.length === 0) {
    return {
      delete: stale,
      problem: {
        reason: REASON_TARGET_INVALID,
        message: `ClusterTrustBundle ${quoted} not written: none of the ${certificates.length} certificate(s) of the bundle is a CA certificate, and the ClusterTrustBundle API accepts only CA certificates`,
      },
    };
  }
  const trustBundle = authorities.map(certificatePem).join('').trimEnd();
  const size = Buffer.byteLength(trustBundle, 'utf8');
  if (size > MAX_TRUST_BUNDLE_SIZE) {
    return {
      delete: stale,
      problem: {
        reason: REASON_TARGET_INVALID,
        message: `ClusterTrustBundle ${quoted} not written: its ${authorities.length} CA certificate(s) take ${size} bytes of PEM, more than the ${MAX_TRUST_BUNDLE_SIZE} bytes the ClusterTrustBundle API accepts`,
      },
    };
  }

  const metadata = target.metadata;
  const hash = targetHash(trustBundle, { annotations: metadata?.annotations, labels: metadata?.labels });
  const body: ClusterTrustBundleApplyBody = {
    apiVersion: CTB_API_VERSION,
    kind: CTB_KIND,
    metadata: {
      name,
      labels: { ...metadata?.labels, [BUNDLE_LABEL]: bundle.metadata.name },
      annotations: { ...metadata?.annotations, [HASH_ANNOTATION]: hash },
      ownerReferences: [bundleOwnerReference(bundle)],
    },
    spec: { ...(signerName !== '' ? { signerName } : {}), trustBundle },
  };
  const current = existing.find((object) => object.metadata.name === name);
  const upToDate =
    current !== undefined &&
    current.metadata.deletionTimestamp === undefined &&
    isControlledBy(current.metadata, bundle) &&
    current.metadata.labels?.[BUNDLE_LABEL] === bundle.metadata.name &&
    current.metadata.annotations?.[HASH_ANNOTATION] === hash &&
    current.spec.trustBundle === trustBundle &&
    (current.spec.signerName ?? '') === signerName;

  return {
    ...(upToDate ? {} : { apply: { name, body } }),
    delete: stale,
    status: { name, certificateCount: authorities.length, ...(leftOut > 0 ? { nonCACertificatesLeftOut: leftOut } : {}) },
    name,
    ...(leftOut > 0
      ? {
          leftOutNote:
            `${leftOut} certificate(s) left out of ClusterTrustBundle ${quoted}: not CA certificates ` +
            '(basicConstraints CA is not true), which the ClusterTrustBundle API does not accept',
        }
      : {}),
  };
}

/** The condition (and Event) when writing the target failed. */
export function clusterTrustBundleWriteFailure(name: string, err: string): ConditionProblem {
  return { reason: REASON_TARGET_FAILED, message: `Failed to sync bundle to ClusterTrustBundle ${goQuote(name)}: ${err}` };
}

function deletion(object: ClusterTrustBundleObject): { name: string; uid?: string } {
  return { name: object.metadata.name, ...(object.metadata.uid !== undefined ? { uid: object.metadata.uid } : {}) };
}
