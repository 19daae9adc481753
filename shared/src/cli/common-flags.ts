// The flags both processes take (upstream-compatibility.md section 6 plus our --source-namespaces):
// declared once here, with one help text and one validation, and spread into each process's table.
import {
  DEFAULT_METRICS_PORT,
  DEFAULT_READINESS_PROBE_PATH,
  DEFAULT_READINESS_PROBE_PORT,
  DEFAULT_TRUST_NAMESPACE,
} from '../api/constants.ts';
import { LOG_FORMATS } from '../logging/logging.ts';
import { isDNS1123Label } from '../selectors/label-validation.ts';
import { flag } from './flags.ts';

/** Why a namespace name is invalid (a DNS-1123 label), or undefined. */
export function namespaceProblem(value: string): string | undefined {
  if (value === '') return 'must not be empty';
  const errors = isDNS1123Label(value);
  return errors.length > 0 ? `namespace ${JSON.stringify(value)}: ${errors.join('; ')}` : undefined;
}

/** A check for list flags of namespaces: the first invalid item. */
export function namespaceListProblem(values: readonly string[]): string | undefined {
  return values.map(namespaceProblem).find((problem) => problem !== undefined);
}

export const LOGGING_FLAGS = {
  logFormat: flag.enum('log-format', LOG_FORMATS, 'text', 'Log format: text or json.'),
  logLevel: flag.int('log-level', 1, 'Log verbosity 1-5; 2 and above add debug lines.', {
    short: 'v',
    check: (value) => (value >= 0 ? undefined : 'must be a non-negative integer'),
  }),
};

export const PROBE_FLAGS = {
  readinessProbePort: flag.port('readiness-probe-port', DEFAULT_READINESS_PROBE_PORT, 'Port of the plain-HTTP health probe server (/healthz and the readiness path); 0 picks a free port.'),
  readinessProbePath: flag.string('readiness-probe-path', DEFAULT_READINESS_PROBE_PATH, 'HTTP path of the readiness probe (/healthz is served too).', {
    check: (value) => (value.startsWith('/') ? undefined : 'must start with "/"'),
  }),
};

export const METRICS_FLAGS = {
  metricsPort: flag.port('metrics-port', DEFAULT_METRICS_PORT, "Port to serve Prometheus metrics on at '/metrics' (plain HTTP, all interfaces); 0 picks a free port."),
};

export const TRUST_NAMESPACE_FLAGS = {
  trustNamespace: flag.string('trust-namespace', DEFAULT_TRUST_NAMESPACE, 'Namespace that Bundle sources are read from by default.', { check: namespaceProblem }),
};

export const SOURCE_NAMESPACES_FLAGS = {
  sourceNamespaces: flag.list('source-namespaces', [], 'Comma-separated namespaces, besides the trust namespace, that configMap/secret sources may name.', {
    check: namespaceListProblem,
  }),
};

/** Ours: the controller syncs clusterTrustBundle targets and sources, the webhook checks the API is served. */
export const CLUSTER_TRUST_BUNDLES_FLAGS = {
  clusterTrustBundlesEnabled: flag.bool(
    'cluster-trust-bundles-enabled',
    false,
    'Support ClusterTrustBundle (certificates.k8s.io/v1beta1) targets and sources; the API must be served (Kubernetes 1.33+, beta API enabled).',
  ),
};

export const KUBECONFIG_FLAGS = {
  kubeconfig: flag.string('kubeconfig', '', 'Path to a kubeconfig file; in-cluster configuration (or $KUBECONFIG) when empty.'),
};

/** Every shared flag. */
export const COMMON_FLAGS = {
  ...LOGGING_FLAGS,
  ...PROBE_FLAGS,
  ...METRICS_FLAGS,
  ...TRUST_NAMESPACE_FLAGS,
  ...SOURCE_NAMESPACES_FLAGS,
  ...CLUSTER_TRUST_BUNDLES_FLAGS,
  ...KUBECONFIG_FLAGS,
};
