// Command line of the webhook process: upstream's flag names and defaults (upstream-behaviour.md 6)
// that concern the webhook, plus ours. One table drives parsing, validation and --help.

import { parseArgs } from 'node:util';

import {
  DEFAULT_METRICS_PORT,
  DEFAULT_READINESS_PROBE_PATH,
  DEFAULT_READINESS_PROBE_PORT,
  DEFAULT_TRUST_NAMESPACE,
  DEFAULT_WEBHOOK_CERT_DIR,
  DEFAULT_WEBHOOK_HOST,
  DEFAULT_WEBHOOK_PORT,
} from '@trust-manager/shared/api/constants.ts';
import { isLogFormat, type LogFormat } from '@trust-manager/shared/kube/logging.ts';
import { isDNS1123Label } from '@trust-manager/shared/selectors/label-validation.ts';

import { isKnownCipherSuite, TLS_VERSIONS } from './tls-options.ts';

export interface WebhookConfig {
  webhookHost: string;
  webhookPort: number;
  certificateDir: string;
  /** Go name (VersionTLS12...) or '' for the runtime default. */
  tlsMinVersion: string;
  /** Go cipher suite names; empty = runtime default. */
  tlsCipherSuites: string[];
  logFormat: LogFormat;
  logLevel: number;
  trustNamespace: string;
  sourceNamespaces: string[];
  readinessProbePort: number;
  readinessProbePath: string;
  metricsPort: number;
}

export type FlagsResult = { kind: 'config'; config: WebhookConfig } | { kind: 'help'; text: string } | { kind: 'error'; message: string };

interface FlagSpec {
  name: string;
  short?: string;
  default: string;
  usage: string;
  /** Returns an error text for a bad value. */
  check?: (value: string) => string | undefined;
}

const port = (value: string): string | undefined => (/^\d+$/.test(value) && Number(value) <= 65535 ? undefined : 'must be a port number (0-65535)');
const list = (value: string): string[] =>
  value
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
const namespaceName = (value: string): string | undefined => {
  const errors = isDNS1123Label(value);
  return errors.length > 0 ? `namespace ${JSON.stringify(value)}: ${errors.join('; ')}` : undefined;
};

const FLAGS: readonly FlagSpec[] = [
  { name: 'webhook-host', default: DEFAULT_WEBHOOK_HOST, usage: 'Host to serve the validating webhook on.' },
  { name: 'webhook-port', default: String(DEFAULT_WEBHOOK_PORT), usage: 'Port to serve the validating webhook (HTTPS) on.', check: port },
  {
    name: 'webhook-certificate-dir',
    default: DEFAULT_WEBHOOK_CERT_DIR,
    usage: 'Directory holding tls.crt and tls.key; reloaded when they change.',
  },
  {
    name: 'tls-min-version',
    default: '',
    usage: `Minimum TLS version: ${Object.keys(TLS_VERSIONS).join(', ')}. Empty = runtime default (TLS 1.2).`,
    check: (value) => (value === '' || value in TLS_VERSIONS ? undefined : `unknown TLS version ${JSON.stringify(value)}; one of ${Object.keys(TLS_VERSIONS).join(', ')}`),
  },
  {
    name: 'tls-cipher-suites',
    default: '',
    usage: 'Comma-separated Go cipher suite names for TLS <= 1.2 (e.g. TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256). Empty = runtime default.',
    check: (value) => list(value).filter((name) => !isKnownCipherSuite(name)).map((name) => `Cipher suite ${name} not supported or doesn't exist`)[0],
  },
  { name: 'log-format', default: 'text', usage: 'Log format: text or json.', check: (value) => (isLogFormat(value) ? undefined : 'must be one of "text" or "json"') },
  {
    name: 'log-level',
    short: 'v',
    default: '1',
    usage: 'Log verbosity 1-5 (2 and above log debug lines).',
    check: (value) => (/^\d+$/.test(value) ? undefined : 'must be a non-negative integer'),
  },
  { name: 'trust-namespace', default: DEFAULT_TRUST_NAMESPACE, usage: 'Namespace sources are read from by default.', check: namespaceName },
  {
    name: 'source-namespaces',
    default: '',
    usage: 'Comma-separated namespaces, besides the trust namespace, that configMap/secret sources may name.',
    check: (value) => list(value).map(namespaceName).find((error) => error !== undefined),
  },
  { name: 'readiness-probe-port', default: String(DEFAULT_READINESS_PROBE_PORT), usage: 'Port of the plain-HTTP health probe server.', check: port },
  {
    name: 'readiness-probe-path',
    default: DEFAULT_READINESS_PROBE_PATH,
    usage: 'Path of the readiness probe (/healthz is served too).',
    check: (value) => (value.startsWith('/') ? undefined : 'must start with "/"'),
  },
  { name: 'metrics-port', default: String(DEFAULT_METRICS_PORT), usage: 'Port of the plain-HTTP Prometheus metrics server (/metrics).', check: port },
];

export function webhookHelp(): string {
  const lines = ['Usage: trust-manager-webhook [flags]', '', 'Validating admission webhook for trust.cert-manager.io/v1alpha1 Bundles.', '', 'Flags:'];
  for (const flag of FLAGS) {
    const names = `${flag.short ? `-${flag.short}, ` : '    '}--${flag.name}`;
    const fallback = flag.default === '' ? '' : ` (default ${JSON.stringify(flag.default)})`;
    lines.push(`  ${names.padEnd(30)} ${flag.usage}${fallback}`);
  }
  lines.push(`  ${'-h, --help'.padEnd(30)} Print this help and exit.`);
  return `${lines.join('\n')}\n`;
}

export function parseWebhookFlags(argv: readonly string[]): FlagsResult {
  let values: Record<string, string | boolean | undefined>;
  try {
    const options = Object.fromEntries(
      FLAGS.map((flag) => [flag.name, { type: 'string' as const, default: flag.default, ...(flag.short ? { short: flag.short } : {}) }]),
    );
    values = parseArgs({ args: [...argv], options: { ...options, help: { type: 'boolean', short: 'h' } }, strict: true, allowPositionals: false }).values;
  } catch (error) {
    return { kind: 'error', message: `invalid flags: ${error instanceof Error ? error.message : String(error)}` };
  }
  if (values.help === true) return { kind: 'help', text: webhookHelp() };

  const get = (name: string): string => String(values[name] ?? '');
  for (const flag of FLAGS) {
    const problem = flag.check?.(get(flag.name));
    if (problem !== undefined) return { kind: 'error', message: `invalid flags: --${flag.name}: ${problem}` };
  }
  return {
    kind: 'config',
    config: {
      webhookHost: get('webhook-host'),
      webhookPort: Number(get('webhook-port')),
      certificateDir: get('webhook-certificate-dir'),
      tlsMinVersion: get('tls-min-version'),
      tlsCipherSuites: list(get('tls-cipher-suites')),
      logFormat: get('log-format') as LogFormat,
      logLevel: Number(get('log-level')),
      trustNamespace: get('trust-namespace'),
      sourceNamespaces: list(get('source-namespaces')),
      readinessProbePort: Number(get('readiness-probe-port')),
      readinessProbePath: get('readiness-probe-path'),
      metricsPort: Number(get('metrics-port')),
    },
  };
}

/** Flag defaults by name, for the chart-defaults test. */
export const WEBHOOK_FLAG_DEFAULTS: Readonly<Record<string, string>> = Object.fromEntries(FLAGS.map((flag) => [flag.name, flag.default]));
