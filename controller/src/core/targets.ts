// Desired state of one target ConfigMap/Secret (upstream-compatibility.md 4.2 step 7 and 4.6): whether it
// must be written, the server-side apply bodies, and the bundle encodings those bodies carry.

import { createHash } from 'node:crypto';

import type { V1ManagedFieldsEntry, V1OwnerReference } from '@kubernetes/client-node';
import {
  API_VERSION,
  BUNDLE_LABEL,
  DEFAULT_JKS_PASSWORD,
  DEFAULT_PKCS12_PASSWORD,
  FIELD_MANAGER,
  HASH_ANNOTATION,
  KIND,
} from '@trust-manager/shared/api/constants.ts';
import type { Bundle, TargetTemplate } from '@trust-manager/shared/api/types.ts';
import type { Certificate } from '@trust-manager/shared/certs/certificate.ts';
import { targetHash } from '@trust-manager/shared/certs/hash.ts';
import { encodeJks } from '@trust-manager/shared/certs/jks.ts';
import { encodePkcs12, type Pkcs12Profile } from '@trust-manager/shared/certs/pkcs12.ts';

export type TargetKind = 'ConfigMap' | 'Secret';

export interface TargetRef {
  kind: TargetKind;
  namespace: string;
  name: string;
}

/**
 * An existing target as the runtime's metadata-only cache holds it (PartialObjectMetadata fields).
 * Not to be confused with the Bundle template's `TargetMetadata` in api/types.ts (labels/annotations to copy).
 */
export interface TargetMetadata extends TargetRef {
  uid?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: V1OwnerReference[];
  managedFields?: V1ManagedFieldsEntry[];
  deletionTimestamp?: Date | string;
}

/** The built bundle: what every target of one reconcile carries. */
export interface BundleData {
  pem: string;
  certificates: Certificate[];
}

/** Additional formats as the encoder needs them, CRD defaults applied. */
export interface EncodingFormats {
  jks?: { password: string };
  pkcs12?: { password: string; profile: Pkcs12Profile };
}

/** Encoded bundle, ready to embed in apply bodies (base64 is what the API expects for bytes). */
export interface EncodedBundle {
  pem: string;
  pemBase64: string;
  jksBase64?: string;
  pkcs12Base64?: string;
}

/** Pluggable so the runtime can memoise encodings across reconciles (see EncodingCache). */
export type BundleEncoder = (data: BundleData, formats: EncodingFormats) => EncodedBundle;

/** Server-side apply body for a target. */
export interface TargetApplyBody {
  apiVersion: 'v1';
  kind: TargetKind;
  metadata: {
    name: string;
    namespace: string;
    labels: Record<string, string>;
    annotations?: Record<string, string>;
    ownerReferences: V1OwnerReference[];
  };
  data?: Record<string, string>;
  binaryData?: Record<string, string>;
}

export function targetRefKey(ref: TargetRef): string {
  return `${ref.kind}/${ref.namespace}/${ref.name}`;
}

export function targetTemplate(bundle: Bundle, kind: TargetKind): TargetTemplate | undefined {
  return kind === 'ConfigMap' ? bundle.spec.target?.configMap : bundle.spec.target?.secret;
}

/**
 * The hash annotation value (upstream TrustBundleHash): PEM, the additional-format passwords and
 * profile as written in the spec, and this kind's template labels/annotations. Target keys are not
 * part of it: key changes are caught by the managed-fields check.
 */
export function targetHashFor(bundle: Bundle, kind: TargetKind, pem: string): string {
  const formats = bundle.spec.target?.additionalFormats;
  const metadata = targetTemplate(bundle, kind)?.metadata;
  return targetHash(pem, {
    jksPassword: formats?.jks?.password,
    pkcs12Password: formats?.pkcs12?.password,
    pkcs12Profile: formats?.pkcs12?.profile,
    annotations: metadata?.annotations,
    labels: metadata?.labels,
  });
}

/**
 * Upstream's up-to-date check: write unless the object is controlled by this Bundle, carries its
 * label and the expected hash, and trust-manager owns exactly the expected data keys. The last part
 * reverts manual edits of a data key (the editor takes ownership) and detects key renames.
 */
export function needsUpdate(existing: TargetMetadata | undefined, bundle: Bundle, kind: TargetKind, hash: string): boolean {
  if (existing === undefined) return true;
  if (!isControlledBy(existing, bundle)) return true;
  if (existing.labels?.[BUNDLE_LABEL] !== bundle.metadata.name) return true;
  if (existing.annotations?.[HASH_ANNOTATION] !== hash) return true;
  return !sameKeys(ownedDataKeys(existing.managedFields, kind, isTrustManagerApply), expectedDataKeys(bundle, kind));
}

/** Go's metav1.IsControlledBy: the first controller reference carries this Bundle's UID. */
export function isControlledBy(existing: { ownerReferences?: ReadonlyArray<{ controller?: boolean; uid: string }> }, bundle: Bundle): boolean {
  const controller = existing.ownerReferences?.find((ref) => ref.controller === true);
  return controller !== undefined && controller.uid === (bundle.metadata.uid ?? '');
}

/**
 * Whether an unselected target still needs the cleanup apply. Upstream applies it on every
 * reconcile; we skip objects it has already cleaned (trust-manager owns neither a data key nor the
 * hash annotation) unless no manager owns any data key at all, i.e. the object is empty and the
 * cleanup round trip is what gets it deleted.
 */
export function cleanupNeeded(existing: TargetMetadata): boolean {
  const fields = existing.managedFields;
  if (ownedDataKeys(fields, existing.kind, isTrustManagerApply).size > 0) return true;
  if (ownsHashAnnotation(fields)) return true;
  return ownedDataKeys(fields, existing.kind, () => true).size === 0;
}

export function buildTargetApply(
  ref: TargetRef,
  bundle: Bundle,
  encoded: EncodedBundle,
  hash: string = targetHashFor(bundle, ref.kind, encoded.pem),
): TargetApplyBody {
  const template = targetTemplate(bundle, ref.kind);
  if (template === undefined) {
    throw new Error(`Bundle ${bundle.metadata.name} has no ${ref.kind} target`);
  }
  const formats = bundle.spec.target?.additionalFormats;
  const binary: Record<string, string> = {};
  // A body without a requested format would be rewritten on every reconcile: fail loudly instead.
  if (formats?.jks !== undefined) binary[formats.jks.key] = requireEncoding(encoded.jksBase64, 'JKS');
  if (formats?.pkcs12 !== undefined) binary[formats.pkcs12.key] = requireEncoding(encoded.pkcs12Base64, 'PKCS#12');

  const body: TargetApplyBody = {
    apiVersion: 'v1',
    kind: ref.kind,
    metadata: {
      name: ref.name,
      namespace: ref.namespace,
      labels: { ...template.metadata?.labels, [BUNDLE_LABEL]: bundle.metadata.name },
      annotations: { ...template.metadata?.annotations, [HASH_ANNOTATION]: hash },
      ownerReferences: [bundleOwnerReference(bundle)],
    },
  };
  if (ref.kind === 'ConfigMap') {
    body.data = { [template.key]: encoded.pem };
    if (Object.keys(binary).length > 0) body.binaryData = binary;
  } else {
    // No `type`: the API server defaults it to Opaque, and a later type change would be refused.
    body.data = { [template.key]: encoded.pemBase64, ...binary };
  }
  return body;
}

/** Only label + owner reference: SSA then drops every data key, label and annotation trust-manager applied before. */
export function buildCleanupApply(ref: TargetRef, bundle: Bundle): TargetApplyBody {
  return {
    apiVersion: 'v1',
    kind: ref.kind,
    metadata: {
      name: ref.name,
      namespace: ref.namespace,
      labels: { [BUNDLE_LABEL]: bundle.metadata.name },
      ownerReferences: [bundleOwnerReference(bundle)],
    },
  };
}

/** After the cleanup apply: delete the object when nothing is left in it (Secrets have no binaryData). */
export function isEmptyAfterCleanup(obj: { data?: Record<string, unknown> | null; binaryData?: Record<string, unknown> | null }): boolean {
  return Object.keys(obj.data ?? {}).length === 0 && Object.keys(obj.binaryData ?? {}).length === 0;
}

export function bundleOwnerReference(bundle: Bundle): V1OwnerReference {
  return {
    apiVersion: API_VERSION,
    kind: KIND,
    name: bundle.metadata.name,
    uid: bundle.metadata.uid ?? '',
    controller: true,
    blockOwnerDeletion: true,
  };
}

export function encodingFormatsFor(bundle: Bundle): EncodingFormats {
  const formats = bundle.spec.target?.additionalFormats;
  const result: EncodingFormats = {};
  if (formats?.jks !== undefined) {
    result.jks = { password: formats.jks.password ?? DEFAULT_JKS_PASSWORD };
  }
  if (formats?.pkcs12 !== undefined) {
    result.pkcs12 = { password: formats.pkcs12.password ?? DEFAULT_PKCS12_PASSWORD, profile: formats.pkcs12.profile ?? '' };
  }
  return result;
}

/** Encodes every format once; what all targets of a reconcile share. */
export function encodeBundle(data: BundleData, formats: EncodingFormats): EncodedBundle {
  const encoded: EncodedBundle = { pem: data.pem, pemBase64: Buffer.from(data.pem, 'utf8').toString('base64') };
  if (formats.jks !== undefined) {
    encoded.jksBase64 = encodeJks(data.certificates, formats.jks.password).toString('base64');
  }
  if (formats.pkcs12 !== undefined) {
    encoded.pkcs12Base64 = encodePkcs12(data.certificates, formats.pkcs12.password, formats.pkcs12.profile).toString('base64');
  }
  return encoded;
}

/**
 * Identity of an encoding: SHA-256 over the PEM and the formats (passwords included, so the key is
 * hashed rather than kept readable in memory).
 */
export function encodingKey(pem: string, formats: EncodingFormats): string {
  return createHash('sha256').update(pem).update('\0').update(JSON.stringify(formats)).digest('hex');
}

/**
 * Memoises encodings across reconciles (bounded, least recently used first out), so an unchanged
 * bundle is not re-encoded on every resync. Pass `cache.encode` to planReconcile.
 */
export class EncodingCache {
  readonly #maxEntries: number;
  readonly #entries = new Map<string, EncodedBundle>();
  readonly #encoder: BundleEncoder;

  constructor(maxEntries = 64, encoder: BundleEncoder = encodeBundle) {
    this.#maxEntries = maxEntries;
    this.#encoder = encoder;
  }

  get size(): number {
    return this.#entries.size;
  }

  readonly encode: BundleEncoder = (data, formats) => {
    const key = encodingKey(data.pem, formats);
    const cached = this.#entries.get(key);
    if (cached !== undefined) {
      this.#entries.delete(key);
      this.#entries.set(key, cached);
      return cached;
    }
    const encoded = this.#encoder(data, formats);
    this.#entries.set(key, encoded);
    while (this.#entries.size > this.#maxEntries) {
      const oldest = this.#entries.keys().next();
      if (oldest.done === true) break;
      this.#entries.delete(oldest.value);
    }
    return encoded;
  };
}

function requireEncoding(value: string | undefined, format: string): string {
  if (value === undefined) throw new Error(`the encoded bundle lacks the ${format} encoding the Bundle asks for`);
  return value;
}

function expectedDataKeys(bundle: Bundle, kind: TargetKind): Set<string> {
  const keys = new Set<string>();
  const template = targetTemplate(bundle, kind);
  if (template !== undefined) keys.add(template.key);
  const formats = bundle.spec.target?.additionalFormats;
  if (formats?.jks !== undefined) keys.add(formats.jks.key);
  if (formats?.pkcs12 !== undefined) keys.add(formats.pkcs12.key);
  return keys;
}

function isTrustManagerApply(entry: V1ManagedFieldsEntry): boolean {
  return entry.manager === FIELD_MANAGER && entry.operation === 'Apply';
}

/** Data keys (ConfigMap: `data` and `binaryData`; Secret: `data`) owned by the managers `owns` accepts. */
function ownedDataKeys(
  managedFields: readonly V1ManagedFieldsEntry[] | undefined,
  kind: TargetKind,
  owns: (entry: V1ManagedFieldsEntry) => boolean,
): Set<string> {
  const fieldNames = kind === 'ConfigMap' ? ['f:data', 'f:binaryData'] : ['f:data'];
  const keys = new Set<string>();
  for (const entry of managedFields ?? []) {
    if (!owns(entry)) continue;
    const fields = fieldsV1Of(entry);
    for (const fieldName of fieldNames) {
      for (const member of Object.keys(asFieldSet(fields[fieldName]))) {
        if (member.startsWith('f:')) keys.add(member.slice(2));
      }
    }
  }
  return keys;
}

function ownsHashAnnotation(managedFields: readonly V1ManagedFieldsEntry[] | undefined): boolean {
  return (managedFields ?? []).some((entry) => {
    if (!isTrustManagerApply(entry)) return false;
    const annotations = asFieldSet(asFieldSet(fieldsV1Of(entry)['f:metadata'])['f:annotations']);
    return Object.hasOwn(annotations, `f:${HASH_ANNOTATION}`);
  });
}

/** `fieldsV1` as an object: client-node keeps it as parsed JSON, a raw cache may keep the string. */
function fieldsV1Of(entry: V1ManagedFieldsEntry): Record<string, unknown> {
  const raw: unknown = entry.fieldsV1;
  if (typeof raw === 'string') {
    try {
      return asFieldSet(JSON.parse(raw));
    } catch {
      return {};
    }
  }
  return asFieldSet(raw);
}

function asFieldSet(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

function sameKeys(a: ReadonlySet<string>, b: ReadonlySet<string>): boolean {
  if (a.size !== b.size) return false;
  for (const key of a) if (!b.has(key)) return false;
  return true;
}
