// Command line of the webhook process: upstream's flag names and defaults (upstream-compatibility.md 6)
// that concern the webhook, plus ours. The flags shared with the controller come from
// shared/src/cli/common-flags.ts; parsing, errors and --help from shared/src/cli/flags.ts.

import {
  CLUSTER_TRUST_BUNDLES_FLAGS,
  KUBECONFIG_FLAGS,
  LOGGING_FLAGS,
  METRICS_FLAGS,
  PROBE_FLAGS,
  SOURCE_NAMESPACES_FLAGS,
  TRUST_NAMESPACE_FLAGS,
} from '@trust-manager/shared/cli/common-flags.ts';
import { flag, FlagError, parseArgv, renderHelp, type FlagValues } from '@trust-manager/shared/cli/flags.ts';
import { DEFAULT_WEBHOOK_CERT_DIR, DEFAULT_WEBHOOK_HOST, DEFAULT_WEBHOOK_PORT } from '@trust-manager/shared/api/constants.ts';

import { isKnownCipherSuite, TLS_VERSIONS } from './tls-options.ts';

export const WEBHOOK_FLAGS = {
  webhookHost: flag.string('webhook-host', DEFAULT_WEBHOOK_HOST, 'Host to serve the validating webhook on.'),
  webhookPort: flag.port('webhook-port', DEFAULT_WEBHOOK_PORT, 'Port to serve the validating webhook (HTTPS) on.'),
  certificateDir: flag.string('webhook-certificate-dir', DEFAULT_WEBHOOK_CERT_DIR, 'Directory holding tls.crt and tls.key; reloaded when they change.'),
  /** Go name (VersionTLS12...) or '' for the runtime default; checked by parseWebhookFlags. */
  tlsMinVersion: flag.string('tls-min-version', '', `Minimum TLS version: ${Object.keys(TLS_VERSIONS).join(', ')}. Empty = runtime default (TLS 1.2).`),
  /** Go cipher suite names; empty = runtime default; checked by parseWebhookFlags. */
  tlsCipherSuites: flag.list(
    'tls-cipher-suites',
    [],
    'Comma-separated Go cipher suite names for TLS <= 1.2 (e.g. TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256). Empty = runtime default.',
  ),
  ...LOGGING_FLAGS,
  ...TRUST_NAMESPACE_FLAGS,
  ...SOURCE_NAMESPACES_FLAGS,
  ...PROBE_FLAGS,
  ...METRICS_FLAGS,
  // Ours: with ClusterTrustBundles enabled, API discovery (in-cluster credentials or --kubeconfig).
  ...CLUSTER_TRUST_BUNDLES_FLAGS,
  ...KUBECONFIG_FLAGS,
};

export type WebhookConfig = FlagValues<typeof WEBHOOK_FLAGS>;

export type FlagsResult = { kind: 'config'; config: WebhookConfig } | { kind: 'help'; text: string };

/** Throws a FlagError whose message is what `error: <message>` should print. */
export function parseWebhookFlags(argv: readonly string[]): FlagsResult {
  const parsed = parseArgv(WEBHOOK_FLAGS, argv);
  if (parsed.kind === 'help') return { kind: 'help', text: webhookHelp() };
  const problem = tlsProblem(parsed.flags);
  // Upstream reports bad TLS options as `invalid flags: ...`.
  if (problem !== undefined) throw new FlagError(`invalid flags: ${problem}`);
  return { kind: 'config', config: parsed.flags };
}

function tlsProblem(config: WebhookConfig): string | undefined {
  const versions = Object.keys(TLS_VERSIONS);
  if (config.tlsMinVersion !== '' && !versions.includes(config.tlsMinVersion)) {
    return `--${WEBHOOK_FLAGS.tlsMinVersion.name}: unknown TLS version ${JSON.stringify(config.tlsMinVersion)}; one of ${versions.join(', ')}`;
  }
  const unknown = config.tlsCipherSuites.find((name) => !isKnownCipherSuite(name));
  if (unknown !== undefined) return `--${WEBHOOK_FLAGS.tlsCipherSuites.name}: Cipher suite ${unknown} not supported or doesn't exist`;
  return undefined;
}

export function webhookHelp(program = 'trust-manager-webhook'): string {
  return renderHelp(WEBHOOK_FLAGS, { program, description: 'trust-manager webhook: validating admission webhook for trust.cert-manager.io/v1alpha1 Bundles.' });
}
