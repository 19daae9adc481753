// Command-line flags for both processes: one table of specs drives parsing, defaults, validation
// and --help. Parsing follows Go's pflag where users can tell the difference:
//   --name=value and --name value; a bare boolean means true (--leader-elect, --leader-elect=false);
//   Go booleans (1, t, TRUE, ...), Go integers, Go durations (15s, 1m30s); comma lists that may
//   repeat and append; the last occurrence of any other flag wins; shorthands -v 2, -v=2, -v2;
//   `--` ends the flags; --help / -h wins over everything else.
// Errors read like pflag's: `invalid argument "xml" for "--log-format" flag: must be one of ...`,
// `unknown flag: --x`, `flag needs an argument: --metrics-port`. The processes print them as
// `error: <message>` and exit 1.
import { formatGoDuration, parseGoDuration } from './duration.ts';
import { errorMessage } from '../text/error-message.ts';

export type FlagType = 'bool' | 'int' | 'port' | 'string' | 'duration' | 'list' | 'enum';

export interface FlagSpec<T = unknown> {
  /** Long name, without the dashes. */
  readonly name: string;
  readonly type: FlagType;
  /** Milliseconds for durations. */
  readonly default: T;
  readonly usage: string;
  /** One-letter shorthand (`v` for `-v`). */
  readonly short?: string;
  /** The allowed values of an enum flag. */
  readonly values?: readonly string[];
  /**
   * Why a converted value is invalid, or undefined when it is fine. Runs on every occurrence (for
   * lists: on the items of that occurrence); never on the default.
   */
  check?(value: T): string | undefined;
}

export type FlagTable = Readonly<Record<string, FlagSpec>>;

/** What parsing a table yields: one value per key, typed by the spec. */
export type FlagValues<T extends FlagTable> = { -readonly [K in keyof T]: T[K] extends FlagSpec<infer V> ? V : never };

export type ParsedArgs<T extends FlagTable> = { kind: 'flags'; flags: FlagValues<T> } | { kind: 'help' };

/** A command-line mistake; the message is what `error: <message>` prints. */
export class FlagError extends Error {}

export interface FlagOptions<T> {
  short?: string;
  check?: (value: T) => string | undefined;
}

function spec<T>(type: FlagType, name: string, defaultValue: T, usage: string, options: FlagOptions<T> = {}, values?: readonly string[]): FlagSpec<T> {
  return {
    name,
    type,
    default: defaultValue,
    usage,
    ...(options.short !== undefined ? { short: options.short } : {}),
    ...(values !== undefined ? { values } : {}),
    ...(options.check !== undefined ? { check: options.check } : {}),
  };
}

/** Spec builders, one per flag type. */
export const flag = {
  bool: (name: string, defaultValue: boolean, usage: string, options?: FlagOptions<boolean>): FlagSpec<boolean> => spec('bool', name, defaultValue, usage, options),
  int: (name: string, defaultValue: number, usage: string, options?: FlagOptions<number>): FlagSpec<number> => spec('int', name, defaultValue, usage, options),
  /** An int in 0-65535. */
  port: (name: string, defaultValue: number, usage: string, options?: FlagOptions<number>): FlagSpec<number> => spec('port', name, defaultValue, usage, options),
  string: (name: string, defaultValue: string, usage: string, options?: FlagOptions<string>): FlagSpec<string> => spec('string', name, defaultValue, usage, options),
  /** A Go duration; the value is in milliseconds. */
  duration: (name: string, defaultMs: number, usage: string, options?: FlagOptions<number>): FlagSpec<number> => spec('duration', name, defaultMs, usage, options),
  /** A comma list (pflag StringSlice): items are trimmed, empty items dropped, occurrences append. */
  list: (name: string, defaultValue: readonly string[], usage: string, options?: FlagOptions<string[]>): FlagSpec<string[]> =>
    spec('list', name, [...defaultValue], usage, options),
  /** One of a fixed set of strings. */
  enum: <V extends string>(name: string, values: readonly V[], defaultValue: NoInfer<V>, usage: string, options?: FlagOptions<V>): FlagSpec<V> =>
    spec('enum', name, defaultValue, usage, options, values),
};

const GO_BOOL_TRUE = new Set(['1', 't', 'T', 'TRUE', 'true', 'True']);
const GO_BOOL_FALSE = new Set(['0', 'f', 'F', 'FALSE', 'false', 'False']);

/** Parses argv against a table. Throws a FlagError on any mistake. */
export function parseArgv<T extends FlagTable>(table: T, argv: readonly string[]): ParsedArgs<T> {
  const { byName, byShort } = index(table);
  for (const arg of argv) {
    if (arg === '--') break;
    if (arg === '--help' || arg === '-h') return { kind: 'help' };
  }

  const occurrences = new Map<FlagSpec, unknown[]>();
  const set = (spec: FlagSpec, raw: string): void => {
    const value = convert(spec, raw);
    const problem = spec.check?.(value);
    if (problem !== undefined) throw invalidArgument(spec, raw, problem);
    occurrences.set(spec, [...(occurrences.get(spec) ?? []), value]);
  };

  let i = 0;
  while (i < argv.length) {
    const arg = argv[i++] ?? '';
    if (arg === '--') {
      if (i < argv.length) throw unexpected(argv[i] ?? '');
      break;
    }
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      const name = arg.slice(2, eq === -1 ? undefined : eq);
      const spec = byName.get(name);
      if (spec === undefined) throw new FlagError(`unknown flag: --${name}`);
      if (eq !== -1) set(spec, arg.slice(eq + 1));
      else if (spec.type === 'bool') set(spec, 'true');
      else if (i < argv.length) set(spec, argv[i++] ?? '');
      else throw new FlagError(`flag needs an argument: --${name}`);
    } else if (arg.startsWith('-') && arg.length > 1) {
      // Shorthands: -v 2, -v=2, -v2; bare boolean shorthands may be grouped.
      let rest = arg.slice(1);
      while (rest !== '') {
        const letter = rest.charAt(0);
        const spec = byShort.get(letter);
        if (spec === undefined) throw new FlagError(`unknown shorthand flag: '${letter}' in ${arg}`);
        if (rest.charAt(1) === '=') {
          set(spec, rest.slice(2));
          rest = '';
        } else if (spec.type === 'bool') {
          set(spec, 'true');
          rest = rest.slice(1);
        } else if (rest.length > 1) {
          set(spec, rest.slice(1));
          rest = '';
        } else if (i < argv.length) {
          set(spec, argv[i++] ?? '');
          rest = '';
        } else {
          throw new FlagError(`flag needs an argument: '${letter}' in ${arg}`);
        }
      }
    } else {
      throw unexpected(arg);
    }
  }

  const flags: Record<string, unknown> = {};
  for (const [key, spec] of Object.entries(table)) {
    const given = occurrences.get(spec);
    if (given === undefined) flags[key] = Array.isArray(spec.default) ? [...(spec.default as unknown[])] : spec.default;
    else flags[key] = spec.type === 'list' ? (given as string[][]).flat() : given[given.length - 1];
  }
  return { kind: 'flags', flags: flags as FlagValues<T> };
}

function index(table: FlagTable): { byName: Map<string, FlagSpec>; byShort: Map<string, FlagSpec> } {
  const byName = new Map<string, FlagSpec>();
  const byShort = new Map<string, FlagSpec>();
  for (const spec of Object.values(table)) {
    if (byName.has(spec.name) || spec.name === 'help') throw new Error(`flag --${spec.name} is declared twice`);
    byName.set(spec.name, spec);
    if (spec.short !== undefined) {
      if (byShort.has(spec.short) || spec.short === 'h' || spec.short.length !== 1) throw new Error(`flag --${spec.name}: shorthand -${spec.short} is taken or not one letter`);
      byShort.set(spec.short, spec);
    }
  }
  return { byName, byShort };
}

function displayName(spec: FlagSpec): string {
  return spec.short !== undefined ? `-${spec.short}, --${spec.name}` : `--${spec.name}`;
}

function invalidArgument(spec: FlagSpec, raw: string, why: string): FlagError {
  return new FlagError(`invalid argument ${JSON.stringify(raw)} for ${JSON.stringify(displayName(spec))} flag: ${why}`);
}

function unexpected(arg: string): FlagError {
  return new FlagError(`unexpected argument ${JSON.stringify(arg)}: flags take the form --name=value`);
}

function convert(spec: FlagSpec, raw: string): unknown {
  const invalid = (why: string): FlagError => invalidArgument(spec, raw, why);
  switch (spec.type) {
    case 'bool':
      if (GO_BOOL_TRUE.has(raw)) return true;
      if (GO_BOOL_FALSE.has(raw)) return false;
      throw invalid(`strconv.ParseBool: parsing ${JSON.stringify(raw)}: invalid syntax`);
    case 'int':
    case 'port': {
      if (!/^[+-]?\d+$/.test(raw)) throw invalid(`strconv.ParseInt: parsing ${JSON.stringify(raw)}: invalid syntax`);
      const value = Number.parseInt(raw, 10);
      if (!Number.isSafeInteger(value)) throw invalid(`strconv.ParseInt: parsing ${JSON.stringify(raw)}: value out of range`);
      if (spec.type === 'port' && (value < 0 || value > 65535)) throw invalid('must be a port number (0-65535)');
      return value;
    }
    case 'duration':
      try {
        return parseGoDuration(raw);
      } catch (err) {
        throw invalid(errorMessage(err));
      }
    case 'list':
      return raw
        .split(',')
        .map((item) => item.trim())
        .filter((item) => item !== '');
    case 'enum': {
      const values = spec.values ?? [];
      if (!values.includes(raw)) throw invalid(`must be one of ${oneOf(values)}`);
      return raw;
    }
    case 'string':
      return raw;
  }
}

/** `"a"`, `"a" or "b"`, `"a", "b" or "c"`. */
function oneOf(values: readonly string[]): string {
  const quoted = values.map((value) => JSON.stringify(value));
  return quoted.length <= 1 ? (quoted[0] ?? '') : `${quoted.slice(0, -1).join(', ')} or ${quoted[quoted.length - 1] ?? ''}`;
}

export interface HelpOptions {
  /** The first line: what the program does. */
  description: string;
  program: string;
}

/** --help text, pflag style: `  -v, --log-level int   usage (default 1)`, in table order. */
export function renderHelp(table: FlagTable, { description, program }: HelpOptions): string {
  const rows = Object.values(table).map((spec) => ({
    names: `${spec.short !== undefined ? `-${spec.short}, ` : '    '}--${spec.name}${typeLabel(spec)}`,
    usage: `${spec.usage}${defaultLabel(spec)}`,
  }));
  rows.push({ names: '-h, --help', usage: 'Print this help and exit.' });
  const width = Math.max(...rows.map((row) => row.names.length)) + 3;
  return [description, '', 'Usage:', `  ${program} [flags]`, '', 'Flags:', ...rows.map((row) => `  ${row.names.padEnd(width)}${row.usage}`), ''].join('\n');
}

function typeLabel(spec: FlagSpec): string {
  switch (spec.type) {
    case 'bool':
      return '';
    case 'list':
      return ' strings';
    case 'enum':
      return ' string';
    case 'port':
      return ' int';
    default:
      return ` ${spec.type}`;
  }
}

/** The default as pflag prints it: omitted for false, "" and []. */
function defaultLabel(spec: FlagSpec): string {
  const value = spec.default;
  if (spec.type === 'duration') return ` (default ${formatGoDuration(value as number)})`;
  if (Array.isArray(value)) return value.length === 0 ? '' : ` (default [${value.join(',')}])`;
  if (value === '' || value === false) return '';
  return ` (default ${typeof value === 'string' ? JSON.stringify(value) : String(value)})`;
}
