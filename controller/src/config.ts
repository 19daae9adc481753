// From parsed flags to the controller's configuration: checks that need more than one flag, and
// the defaults that depend on the environment (the pod's namespace).
import { allowedSourceNamespaces } from '@trust-manager/shared/api/source-namespaces.ts';
import type { LogFormat } from '@trust-manager/shared/logging/logging.ts';
import type { ReconcileOptions } from './core/options.ts';
import type { ControllerFlags } from './flags.ts';

const { readFileSync } = process.getBuiltinModule('node:fs');

/** Where Kubernetes mounts the pod's namespace. */
export const POD_NAMESPACE_FILE = '/var/run/secrets/kubernetes.io/serviceaccount/namespace';

export interface LeaderElectionConfig {
  enabled: boolean;
  namespace: string;
  leaseDurationMs: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
}

export interface ControllerConfig {
  /** What the reconcile core needs (the default package is added once loaded). */
  reconcile: Omit<ReconcileOptions, 'defaultPackage' | 'clusterTrustBundles'>;
  /** `--cluster-trust-bundles-enabled`; whether the API is served is discovered at startup. */
  clusterTrustBundlesEnabled: boolean;
  defaultPackageLocation: string;
  leaderElection: LeaderElectionConfig;
  readinessProbePort: number;
  readinessProbePath: string;
  metricsPort: number;
  logFormat: LogFormat;
  logLevel: number;
  kubeconfig: string;
  context: string;
  maxConcurrentWrites: number;
  workers: number;
}

/**
 * Throws an Error whose message is what `error: <message>` should print. Checks of a single flag's
 * value (ports, paths, namespaces, counts) live in the flag specs, so parseFlags has made them.
 */
export function buildConfig(flags: ControllerFlags, readPodNamespace: () => string | undefined = podNamespace): ControllerConfig {
  if (flags.leaderElect) {
    if (flags.leaderElectionRenewDeadline <= 0 || flags.leaderElectionRetryPeriod <= 0) throw new Error('leader election durations must be positive');
    if (flags.leaderElectionLeaseDuration <= flags.leaderElectionRenewDeadline) {
      throw new Error('--leader-election-lease-duration must be greater than --leader-election-renew-deadline');
    }
    if (flags.leaderElectionRenewDeadline <= flags.leaderElectionRetryPeriod) {
      throw new Error('--leader-election-renew-deadline must be greater than --leader-election-retry-period');
    }
  }

  return {
    reconcile: {
      trustNamespace: flags.trustNamespace,
      // The trust namespace is always allowed; the list holds only the others.
      sourceNamespaces: allowedSourceNamespaces(flags).slice(1),
      secretTargetsEnabled: flags.secretTargetsEnabled,
      filterExpiredCertificates: flags.filterExpiredCertificates,
      filterNonCACerts: flags.filterNonCACerts,
      targetNamespaces: unique(flags.targetNamespaces),
    },
    defaultPackageLocation: flags.defaultPackageLocation,
    clusterTrustBundlesEnabled: flags.clusterTrustBundlesEnabled,
    leaderElection: {
      enabled: flags.leaderElect,
      namespace: flags.leaderElectionNamespace || readPodNamespace() || flags.trustNamespace,
      leaseDurationMs: flags.leaderElectionLeaseDuration,
      renewDeadlineMs: flags.leaderElectionRenewDeadline,
      retryPeriodMs: flags.leaderElectionRetryPeriod,
    },
    readinessProbePort: flags.readinessProbePort,
    readinessProbePath: flags.readinessProbePath,
    metricsPort: flags.metricsPort,
    logFormat: flags.logFormat,
    logLevel: flags.logLevel,
    kubeconfig: flags.kubeconfig,
    context: flags.context,
    maxConcurrentWrites: flags.maxConcurrentWrites,
    workers: flags.workers,
  };
}

export function podNamespace(): string | undefined {
  try {
    return readFileSync(POD_NAMESPACE_FILE, 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}

function unique(values: readonly string[]): string[] {
  return [...new Set(values)];
}
