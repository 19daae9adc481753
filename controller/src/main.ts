// Entry point: node controller/src/main.ts [flags]   (see --help)
// Flags -> logger -> startController (start.ts), then signals: on SIGTERM/SIGINT stop taking work,
// let the writes in flight finish, release the Lease, exit 0; exit 1 if leadership is lost.
import { exitWithError, parseCommandLine } from '@trust-manager/shared/cli/command-line.ts';
import { createLogger } from '@trust-manager/shared/logging/logging.ts';
import { buildConfig, type ControllerConfig } from './config.ts';
import { parseFlags } from './flags.ts';
import { startController, type RunningController } from './start.ts';

/** Longest a graceful shutdown may take before the process exits anyway. */
const SHUTDOWN_GRACE_MS = 25_000;

const { flags } = parseCommandLine(parseFlags);
let config: ControllerConfig;
try {
  config = buildConfig(flags);
} catch (err) {
  exitWithError(err);
}

const log = createLogger({ format: config.logFormat, verbosity: config.logLevel });

let running: RunningController;
try {
  running = await startController(config, log);
} catch (err) {
  exitWithError(err);
}

let shuttingDown = false;
void running.fatal.then(() => {
  if (!shuttingDown) process.exit(1);
});

async function shutdown(signal: string): Promise<void> {
  if (shuttingDown) return;
  shuttingDown = true;
  log.info({ signal }, 'shutting down: finishing writes in flight');
  setTimeout(() => {
    log.error('graceful shutdown took too long; exiting');
    process.exit(1);
  }, SHUTDOWN_GRACE_MS).unref();
  await running.stop();
  log.info('stopped');
  process.exit(0);
}

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => {
    void shutdown(signal);
  });
}
