// What the decision core needs to know about the process configuration (flags), and nothing else.

import type { SourceNamespaceSettings } from '@trust-manager/shared/api/source-namespaces.ts';
import type { DefaultPackage } from '../package/package.ts';
import type { ClusterTrustBundleAvailability } from './cluster-trust-bundles.ts';

/** trustNamespace and sourceNamespaces (our extension): see shared/src/api/source-namespaces.ts. */
export interface ReconcileOptions extends SourceNamespaceSettings {
  /** `--secret-targets-enabled`. */
  secretTargetsEnabled: boolean;
  /** `--filter-expired-certificates`. */
  filterExpiredCertificates: boolean;
  /** `--filter-non-ca-certs`. */
  filterNonCACerts: boolean;
  /** `--target-namespaces`: targets are only written there; empty = no restriction. */
  targetNamespaces: readonly string[];
  /** The default CA package loaded at startup (`--default-package-location`), if any. */
  defaultPackage?: DefaultPackage;
  /** Our extension (`--cluster-trust-bundles-enabled` plus API discovery); absent = disabled. */
  clusterTrustBundles?: ClusterTrustBundleAvailability;
  /**
   * Whether the installed Bundle CRD declares our status fields (status.ts STATUS_EXTENSIONS); false
   * against upstream's CRD. Learnt at run time from the API server, not a flag. Default true.
   */
  statusExtensions?: boolean;
}
