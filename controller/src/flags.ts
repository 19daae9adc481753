// Command-line flags of the controller: upstream's names and defaults (upstream-compatibility.md
// section 6) plus ours. The flags shared with the webhook come from shared/src/cli/common-flags.ts;
// parsing, errors and --help from shared/src/cli/flags.ts.
import {
  CLUSTER_TRUST_BUNDLES_FLAGS,
  KUBECONFIG_FLAGS,
  LOGGING_FLAGS,
  METRICS_FLAGS,
  namespaceListProblem,
  namespaceProblem,
  PROBE_FLAGS,
  SOURCE_NAMESPACES_FLAGS,
  TRUST_NAMESPACE_FLAGS,
} from '@trust-manager/shared/cli/common-flags.ts';
import { flag, parseArgv, renderHelp, type FlagValues } from '@trust-manager/shared/cli/flags.ts';

const atLeastOne = (value: number): string | undefined => (value >= 1 ? undefined : 'must be at least 1');

export const FLAGS = {
  // Upstream flags.
  ...PROBE_FLAGS,
  leaderElect: flag.bool('leader-elect', true, 'Elect a leader among replicas through a Lease so only one reconciles at a time.'),
  leaderElectionLeaseDuration: flag.duration('leader-election-lease-duration', 15_000, 'How long a Lease stays valid without renewal before another replica may take it.'),
  leaderElectionRenewDeadline: flag.duration('leader-election-renew-deadline', 10_000, 'How long the leader keeps trying to renew its Lease before it gives up leading.'),
  ...METRICS_FLAGS,
  ...TRUST_NAMESPACE_FLAGS,
  defaultPackageLocation: flag.string('default-package-location', '', 'Path of a JSON default CA package; if set, it must load, or the controller does not start.'),
  secretTargetsEnabled: flag.bool('secret-targets-enabled', false, 'Allow Bundles to write Secret targets.'),
  filterExpiredCertificates: flag.bool('filter-expired-certificates', false, 'Leave expired certificates out of bundles.'),
  filterNonCACerts: flag.bool('filter-non-ca-certs', false, 'Leave certificates that are not CAs out of bundles.'),
  targetNamespaces: flag.list('target-namespaces', [], 'Comma-separated namespaces to restrict caches and target writes to; empty means all namespaces.', {
    check: namespaceListProblem,
  }),
  ...LOGGING_FLAGS,
  ...KUBECONFIG_FLAGS,
  context: flag.string('context', '', 'kubeconfig context to use; the current context when empty.'),
  // Ours.
  ...SOURCE_NAMESPACES_FLAGS,
  leaderElectionNamespace: flag.string('leader-election-namespace', '', "Namespace of the leader election Lease; the pod's namespace when empty (else the trust namespace).", {
    check: (value) => (value === '' ? undefined : namespaceProblem(value)),
  }),
  leaderElectionRetryPeriod: flag.duration('leader-election-retry-period', 2_000, 'How often candidates try to acquire, and the leader to renew, the Lease.'),
  maxConcurrentWrites: flag.int('max-concurrent-writes', 32, 'Target writes in flight at once per reconcile.', { check: atLeastOne }),
  ...CLUSTER_TRUST_BUNDLES_FLAGS,
  workers: flag.int('workers', 4, 'Bundles reconciled at once (one Bundle is never reconciled twice at the same time).', { check: atLeastOne }),
};

export type FlagName = keyof typeof FLAGS;
export type ControllerFlags = FlagValues<typeof FLAGS>;

export type ParseResult = { kind: 'flags'; flags: ControllerFlags } | { kind: 'help'; text: string };

/** Throws a FlagError whose message is what `error: <message>` should print. */
export function parseFlags(argv: readonly string[], program = 'trust-manager-controller'): ParseResult {
  const parsed = parseArgv(FLAGS, argv);
  return parsed.kind === 'help' ? { kind: 'help', text: helpText(program) } : parsed;
}

export function helpText(program: string): string {
  return renderHelp(FLAGS, {
    program,
    description: 'trust-manager controller: reconciles Bundles (trust.cert-manager.io/v1alpha1) into ConfigMap and Secret targets.',
  });
}
