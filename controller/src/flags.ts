// Command-line flags of the controller: upstream's names and defaults (upstream-behaviour.md
// section 6) plus ours. One table drives parsing, defaults and --help. Parsing follows Go's pflag
// where users can tell the difference: `--flag=value` and `--flag value`, bare booleans
// (`--leader-elect`, `--leader-elect=false`), comma lists that may repeat, Go durations (`15s`).
import { parseArgs } from 'node:util';
import {
  DEFAULT_METRICS_PORT,
  DEFAULT_READINESS_PROBE_PATH,
  DEFAULT_READINESS_PROBE_PORT,
  DEFAULT_TRUST_NAMESPACE,
} from '@trust-manager/shared/api/constants.ts';
import { isLogFormat, LOG_FORMATS, type LogFormat } from '@trust-manager/shared/kube/logging.ts';
import { formatGoDuration, parseGoDuration } from './duration.ts';

type FlagType = 'bool' | 'int' | 'string' | 'duration' | 'list' | 'logFormat';

interface FlagValueTypes {
  bool: boolean;
  int: number;
  string: string;
  /** Milliseconds. */
  duration: number;
  list: string[];
  logFormat: LogFormat;
}

export interface FlagSpec<K extends FlagType = FlagType> {
  name: string;
  type: K;
  default: FlagValueTypes[K];
  usage: string;
  short?: string;
}

function flag<K extends FlagType>(type: K, name: string, defaultValue: FlagValueTypes[K], usage: string, short?: string): FlagSpec<K> {
  return { name, type, default: defaultValue, usage, ...(short !== undefined ? { short } : {}) };
}

export const FLAGS = {
  // Upstream flags.
  readinessProbePort: flag('int', 'readiness-probe-port', DEFAULT_READINESS_PROBE_PORT, 'Port of the health probe server (/healthz and the readiness path); 0 picks a free port.'),
  readinessProbePath: flag('string', 'readiness-probe-path', DEFAULT_READINESS_PROBE_PATH, 'HTTP path of the readiness probe; ready once the caches have synced.'),
  leaderElect: flag('bool', 'leader-elect', true, 'Elect a leader among replicas through a Lease so only one reconciles at a time.'),
  leaderElectionLeaseDuration: flag('duration', 'leader-election-lease-duration', 15_000, 'How long a Lease stays valid without renewal before another replica may take it.'),
  leaderElectionRenewDeadline: flag('duration', 'leader-election-renew-deadline', 10_000, 'How long the leader keeps trying to renew its Lease before it gives up leading.'),
  metricsPort: flag('int', 'metrics-port', DEFAULT_METRICS_PORT, "Port to serve Prometheus metrics on 0.0.0.0 at '/metrics'; 0 picks a free port."),
  trustNamespace: flag('string', 'trust-namespace', DEFAULT_TRUST_NAMESPACE, 'Namespace that Bundle sources are read from.'),
  defaultPackageLocation: flag('string', 'default-package-location', '', 'Path of a JSON default CA package; if set, it must load, or the controller does not start.'),
  secretTargetsEnabled: flag('bool', 'secret-targets-enabled', false, 'Allow Bundles to write Secret targets.'),
  filterExpiredCertificates: flag('bool', 'filter-expired-certificates', false, 'Leave expired certificates out of bundles.'),
  filterNonCACerts: flag('bool', 'filter-non-ca-certs', false, 'Leave certificates that are not CAs out of bundles.'),
  targetNamespaces: flag('list', 'target-namespaces', [], 'Comma-separated namespaces to restrict caches and target writes to; empty means all namespaces.'),
  logFormat: flag('logFormat', 'log-format', 'text', 'Log format: text or json.'),
  logLevel: flag('int', 'log-level', 1, 'Log verbosity 1-5; 2 and above add debug lines.', 'v'),
  kubeconfig: flag('string', 'kubeconfig', '', 'Path to a kubeconfig file; in-cluster configuration (or $KUBECONFIG) when empty.'),
  context: flag('string', 'context', '', 'kubeconfig context to use; the current context when empty.'),
  // Ours.
  sourceNamespaces: flag('list', 'source-namespaces', [], 'Comma-separated namespaces, besides the trust namespace, that Bundle sources may name.'),
  leaderElectionNamespace: flag('string', 'leader-election-namespace', '', "Namespace of the leader election Lease; the pod's namespace when empty (else the trust namespace)."),
  leaderElectionRetryPeriod: flag('duration', 'leader-election-retry-period', 2_000, 'How often candidates try to acquire, and the leader to renew, the Lease.'),
  maxConcurrentWrites: flag('int', 'max-concurrent-writes', 32, 'Target writes in flight at once per reconcile.'),
  workers: flag('int', 'workers', 4, 'Bundles reconciled at once (one Bundle is never reconciled twice at the same time).'),
};

export type FlagName = keyof typeof FLAGS;
export type ControllerFlags = { -readonly [K in FlagName]: (typeof FLAGS)[K]['default'] extends infer V ? (V extends readonly string[] ? string[] : V) : never };

export type ParseResult = { kind: 'flags'; flags: ControllerFlags } | { kind: 'help'; text: string };

const GO_BOOL_TRUE = new Set(['1', 't', 'T', 'TRUE', 'true', 'True']);
const GO_BOOL_FALSE = new Set(['0', 'f', 'F', 'FALSE', 'false', 'False']);

/** Throws an Error whose message is what `error: <message>` should print. */
export function parseFlags(argv: readonly string[], program = 'trust-manager-controller'): ParseResult {
  const specs = Object.values(FLAGS) as FlagSpec[];
  const byName = new Map(specs.map((spec) => [spec.name, spec]));
  const byShort = new Map(specs.filter((spec) => spec.short !== undefined).map((spec) => [spec.short ?? '', spec]));

  const args: string[] = [];
  for (const arg of argv) {
    if (arg === '--help' || arg === '-h') return { kind: 'help', text: helpText(program) };
    args.push(...normaliseArg(arg, byName, byShort));
  }

  const options: Record<string, { type: 'string'; multiple: boolean; short?: string }> = {};
  for (const spec of specs) {
    options[spec.name] = { type: 'string', multiple: true, ...(spec.short !== undefined ? { short: spec.short } : {}) };
  }
  let values: Record<string, string[] | undefined>;
  try {
    values = parseArgs({ args, options, strict: true, allowPositionals: false }).values as Record<string, string[] | undefined>;
  } catch (err) {
    throw new Error(pflagStyle(err instanceof Error ? err.message : String(err)), { cause: err });
  }

  const flags: Record<string, unknown> = {};
  for (const [key, spec] of Object.entries(FLAGS) as Array<[FlagName, FlagSpec]>) {
    const given = values[spec.name];
    flags[key] = given === undefined || given.length === 0 ? cloneDefault(spec.default) : convert(spec, given);
  }
  return { kind: 'flags', flags: flags as ControllerFlags };
}

/** pflag accepts forms node's parseArgs does not; rewrite them into `--name=value`. */
function normaliseArg(arg: string, byName: Map<string, FlagSpec>, byShort: Map<string, FlagSpec>): string[] {
  if (arg.startsWith('--')) {
    const eq = arg.indexOf('=');
    const name = arg.slice(2, eq === -1 ? undefined : eq);
    // A bare boolean means true (parseArgs would otherwise take the next argument as its value).
    if (eq === -1 && byName.get(name)?.type === 'bool') return [`--${name}=true`];
    return [arg];
  }
  // `-v=2` is pflag for `-v 2`.
  if (/^-[a-zA-Z]=/.test(arg) && byShort.has(arg.charAt(1))) return [arg.slice(0, 2), arg.slice(3)];
  return [arg];
}

function convert(spec: FlagSpec, given: string[]): unknown {
  if (spec.type === 'list') {
    // pflag StringSlice: each occurrence is a comma list; occurrences append.
    return given.flatMap((value) => value.split(',')).map((value) => value.trim()).filter((value) => value !== '');
  }
  const value = given[given.length - 1] ?? '';
  const invalid = (why: string, cause?: unknown): Error => new Error(`invalid argument ${JSON.stringify(value)} for "--${spec.name}" flag: ${why}`, { cause });
  switch (spec.type) {
    case 'bool':
      if (GO_BOOL_TRUE.has(value)) return true;
      if (GO_BOOL_FALSE.has(value)) return false;
      throw invalid(`strconv.ParseBool: parsing ${JSON.stringify(value)}: invalid syntax`);
    case 'int':
      if (!/^[+-]?\d+$/.test(value)) throw invalid(`strconv.ParseInt: parsing ${JSON.stringify(value)}: invalid syntax`);
      return Number.parseInt(value, 10);
    case 'duration':
      try {
        return parseGoDuration(value);
      } catch (err) {
        throw invalid(err instanceof Error ? err.message : String(err), err);
      }
    case 'logFormat':
      if (!isLogFormat(value)) throw invalid(`must be one of ${LOG_FORMATS.map((f) => `"${f}"`).join(' or ')}`);
      return value;
    case 'string':
      return value;
  }
}

function cloneDefault(value: unknown): unknown {
  return Array.isArray(value) ? [...(value as unknown[])] : value;
}

/** node's parseArgs messages, reworded the way pflag reports the same mistakes. */
function pflagStyle(message: string): string {
  const unknown = /^Unknown option '([^']+)'/.exec(message);
  if (unknown) return `unknown flag: ${unknown[1]}`;
  const positional = /^Unexpected argument '([^']+)'/.exec(message);
  if (positional) return `unexpected argument ${JSON.stringify(positional[1])}: flags take the form --name=value`;
  const missing = /^Option '(?:-\w, )?(--[^ ]+) <value>' argument missing/.exec(message);
  if (missing) return `flag needs an argument: ${missing[1]}`;
  return message;
}

export function helpText(program: string): string {
  const rows = (Object.values(FLAGS) as FlagSpec[]).map((spec) => {
    const names = `${spec.short !== undefined ? `-${spec.short}, ` : '    '}--${spec.name}${typeLabel(spec)}`;
    return { names, usage: `${spec.usage}${defaultLabel(spec)}` };
  });
  const width = Math.max(...rows.map((row) => row.names.length)) + 3;
  return [
    'trust-manager controller: reconciles Bundles (trust.cert-manager.io/v1alpha1) into ConfigMap and Secret targets.',
    '',
    'Usage:',
    `  ${program} [flags]`,
    '',
    'Flags:',
    ...rows.map((row) => `  ${row.names.padEnd(width)}${row.usage}`),
    `  ${'-h, --help'.padEnd(width)}Print this help.`,
    '',
  ].join('\n');
}

function typeLabel(spec: FlagSpec): string {
  switch (spec.type) {
    case 'bool':
      return '';
    case 'list':
      return ' strings';
    case 'logFormat':
      return ' string';
    default:
      return ` ${spec.type}`;
  }
}

function defaultLabel(spec: FlagSpec): string {
  const value = spec.default;
  if (spec.type === 'duration') return ` (default ${formatGoDuration(value as number)})`;
  if (Array.isArray(value)) return value.length === 0 ? '' : ` (default [${value.join(',')}])`;
  if (value === '' || value === false) return '';
  return ` (default ${typeof value === 'string' ? JSON.stringify(value) : String(value)})`;
}
