// Entry point: node controller/src/main.ts [flags]   (see --help)
// Flags -> logger -> startController (start.ts), then signals: on SIGTERM/SIGINT stop taking work,
// let the writes in flight finish, release the Lease, exit 0; exit 1 if leadership is lost.
import { createLogger } from '@trust-manager/shared/logging/logging.ts';
import { errorMessage } from '@trust-manager/shared/text/error-message.ts';
import { buildConfig, type ControllerConfig } from './config.ts';
import { parseFlags } from './flags.ts';
import { startController, type RunningController } from './start.ts';

/** Longest a graceful shutdown may take before the process exits anyway. */
const SHUTDOWN_GRACE_MS = 25_000;

function fail(message: string): never {
  process.stderr.write(`error: ${message}\n`);
  process.exit(1);
}

let config: ControllerConfig;
try {
  const parsed = parseFlags(process.argv.slice(2));
  if (parsed.kind === 'help') {
    process.stdout.write(parsed.text);
    process.exit(0);
  }
  config = buildConfig(parsed.flags);
} catch (err) {
  fail(errorMessage(err));
}

const log = createLogger({ format: config.logFormat, verbosity: config.logLevel });

let running: RunningController;
try {
  running = await startController(config, log);
} catch (err) {
  fail(errorMessage(err));
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
