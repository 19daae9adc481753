// Logger factory for both processes: `--log-format text|json` and `--log-level` (upstream's klog
// style verbosity 1–5; 1 = info, 2 and above = debug, since V(2) lines are upstream's debug lines).
import { pino, type Logger, type DestinationStream } from 'pino';
import pretty from 'pino-pretty';

export type LogFormat = 'text' | 'json';

export const LOG_FORMATS: readonly LogFormat[] = ['text', 'json'];

export function isLogFormat(value: string): value is LogFormat {
  return (LOG_FORMATS as readonly string[]).includes(value);
}

/** pino level for a klog-style verbosity. */
export function levelForVerbosity(verbosity: number): 'info' | 'debug' {
  return verbosity >= 2 ? 'debug' : 'info';
}

export interface LoggerOptions {
  format: LogFormat;
  verbosity: number;
  /** Defaults to stdout. */
  destination?: DestinationStream | NodeJS.WritableStream;
  /** Static fields on every line, e.g. { component: 'controller' }. */
  base?: Record<string, unknown>;
}

export function createLogger(options: LoggerOptions): Logger {
  const level = levelForVerbosity(options.verbosity);
  const base = options.base ?? {};
  if (options.format === 'json') {
    return pino(
      { level, base, timestamp: pino.stdTimeFunctions.isoTime, formatters: { level: (label) => ({ level: label }) } },
      options.destination ?? pino.destination({ sync: true }),
    );
  }
  // Synchronous, uncoloured text: lines appear in order with other output and survive a crash. One line
  // per entry: `err` fields stay among the others. pino-pretty prints error-like keys (and pino's errorKey,
  // `err` by default) on lines of their own, which log collectors split into separate entries; no code
  // here logs an Error under `error`, pino's key for errors passed as the first argument.
  const stream = pretty({
    errorLikeObjectKeys: [],
    sync: true,
    colorize: false,
    translateTime: 'UTC:yyyy-mm-dd HH:MM:ss.l',
    ignore: 'pid,hostname',
    singleLine: true,
    destination: options.destination ?? 1,
  });
  return pino({ level, base, errorKey: 'error' }, stream);
}
