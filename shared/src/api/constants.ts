// One source of truth for the names users and other components depend on
// (docs/architecture.md, "The one place for each rule").

export const GROUP = 'trust.cert-manager.io';
export const VERSION = 'v1alpha1';
export const API_VERSION = `${GROUP}/${VERSION}`;
export const KIND = 'Bundle';
export const LIST_KIND = 'BundleList';
export const PLURAL = 'bundles';
export const SINGULAR = 'bundle';
export const CRD_NAME = `${PLURAL}.${GROUP}`;

/** Label on every target, value = Bundle name. */
export const BUNDLE_LABEL = 'trust.cert-manager.io/bundle';
/** Annotation on every target, value = target hash (certs/hash.ts). */
export const HASH_ANNOTATION = 'trust.cert-manager.io/hash';
/** Server-side apply field manager for every write. */
export const FIELD_MANAGER = 'trust-manager';
/** Reporting controller for events.k8s.io Events. */
export const EVENT_REPORTING_CONTROLLER = 'bundles';

export const CONDITION_SYNCED = 'Synced';

export const DEFAULT_JKS_PASSWORD = 'changeit';
export const DEFAULT_PKCS12_PASSWORD = '';

export const DEFAULT_TRUST_NAMESPACE = 'cert-manager';
export const LEADER_ELECTION_LEASE_NAME = 'trust-manager-leader-election';

/** Validating webhook: name in the ValidatingWebhookConfiguration, path, defaults. */
export const WEBHOOK_NAME = 'trust.cert-manager.io';
export const WEBHOOK_PATH = '/validate-trust-cert-manager-io-v1alpha1-bundle';
export const DEFAULT_WEBHOOK_HOST = '0.0.0.0';
export const DEFAULT_WEBHOOK_PORT = 6443;
export const DEFAULT_WEBHOOK_CERT_DIR = '/tls';

export const DEFAULT_READINESS_PROBE_PORT = 6060;
export const DEFAULT_READINESS_PROBE_PATH = '/readyz';
export const DEFAULT_METRICS_PORT = 9402;
