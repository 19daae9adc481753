// What the decision core needs to know about the process configuration (flags), and nothing else.

import type { DefaultPackage } from '@trust-manager/shared/package/package.ts';

export interface ReconcileOptions {
  /** `--trust-namespace`: where sources are read from when they name no namespace. */
  trustNamespace: string;
  /** Our extension (`--source-namespaces`): further namespaces a configMap/secret source may name. */
  sourceNamespaces: readonly string[];
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
  /**
   * Whether the installed Bundle CRD declares our status fields (status.ts STATUS_EXTENSIONS); false
   * against upstream's CRD. Learnt at run time from the API server, not a flag. Default true.
   */
  statusExtensions?: boolean;
}
