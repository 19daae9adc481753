// TypeScript view of the v1alpha1 Bundle (upstream-compatibility.md section 1). The JSON Schema in
// schema.ts is the source of truth for validation; these types describe the same shape.

export interface LabelSelectorRequirement {
  key: string;
  operator: string; // In | NotIn | Exists | DoesNotExist (validated, not trusted)
  values?: string[];
}

export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: LabelSelectorRequirement[];
}

export interface SourceObjectKeySelector {
  name?: string;
  selector?: LabelSelector;
  key?: string;
  includeAllKeys?: boolean;
  /** Our extension: defaults to the trust namespace; must be an allowed source namespace. */
  namespace?: string;
  /** Our extension: keep certificates that disappear from this source until they expire (docs/ca-rotation.md). */
  keepHistory?: KeepHistory;
}

export interface KeepHistory {
  /** Previous certificates kept for the source, newest first; 1..MAX_HISTORY_LIMIT, default DEFAULT_HISTORY_LIMIT. */
  limit?: number;
  /** Go duration: a previous certificate is dropped this long after it left the source. */
  maxAge?: string;
}

/**
 * Our extension: ClusterTrustBundles (certificates.k8s.io/v1beta1) to read, selected as a projected
 * `clusterTrustBundle` volume selects them: one by name, or every one of a signer that the label
 * selector matches (unset selects none, `{}` selects all).
 */
export interface ClusterTrustBundleSource {
  name?: string;
  signerName?: string;
  labelSelector?: LabelSelector;
}

export interface BundleSource {
  configMap?: SourceObjectKeySelector;
  secret?: SourceObjectKeySelector;
  inLine?: string;
  useDefaultCAs?: boolean;
  /** Our extension. */
  clusterTrustBundle?: ClusterTrustBundleSource;
}

export interface TargetMetadata {
  annotations?: Record<string, string>;
  labels?: Record<string, string>;
}

export interface KeySelector {
  key: string;
}

export interface TargetTemplate {
  key: string;
  metadata?: TargetMetadata;
}

export interface JKS {
  key: string;
  password?: string;
}

export type PKCS12Profile = 'LegacyRC2' | 'LegacyDES' | 'Modern2023';

export interface PKCS12 {
  key: string;
  password?: string;
  profile?: PKCS12Profile;
}

export interface AdditionalFormats {
  jks?: JKS;
  pkcs12?: PKCS12;
}

/**
 * Our extension: one cluster-scoped ClusterTrustBundle named after the Bundle (with the signer
 * prefix when `signerName` is set). No key: the object has a single PEM field, spec.trustBundle.
 */
export interface ClusterTrustBundleTarget {
  signerName?: string;
  metadata?: TargetMetadata;
}

export interface BundleTarget {
  configMap?: TargetTemplate;
  secret?: TargetTemplate;
  /** Our extension. */
  clusterTrustBundle?: ClusterTrustBundleTarget;
  additionalFormats?: AdditionalFormats;
  namespaceSelector?: LabelSelector;
}

export interface BundleSpec {
  sources: BundleSource[];
  target?: BundleTarget;
}

export interface BundleCondition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  lastTransitionTime: string;
  reason: string;
  message: string;
  observedGeneration?: number;
}

export interface BundleStatus {
  conditions?: BundleCondition[];
  defaultCAVersion?: string;
  /** Our extension: number of certificates in the last successful build. */
  certificateCount?: number;
  /** Our extension: earliest notAfter (RFC 3339) among the certificates of the last successful build. */
  earliestExpiry?: string;
  /** Our extension: the ClusterTrustBundle target as last written. */
  clusterTrustBundle?: ClusterTrustBundleStatus;
  /** Our extension: per keepHistory source, what it held and the previous certificates still kept. */
  certHistory?: SourceCertHistory[];
}

export interface CertificateRecord {
  /** Lower-hex SHA-256 of the DER. */
  fingerprint: string;
  subject: string;
  /** RFC 3339. */
  notAfter: string;
  pem: string;
}

export interface RetiredCertificate extends CertificateRecord {
  /** RFC 3339: when the certificate was first seen gone from the source. */
  retiredAt: string;
}

export interface SourceCertHistory {
  source: string;
  seen?: CertificateRecord[];
  retired?: RetiredCertificate[];
}

export interface ClusterTrustBundleStatus {
  name: string;
  certificateCount: number;
  /** Certificates of the bundle left out because the API accepts only CA certificates. */
  nonCACertificatesLeftOut?: number;
}

export interface ObjectMeta {
  name: string;
  uid?: string;
  generation?: number;
  resourceVersion?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  creationTimestamp?: string;
  deletionTimestamp?: string;
}

export interface Bundle {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  spec: BundleSpec;
  status?: BundleStatus;
}
