// Entry point of the webhook process: flags -> logger -> startWebhook -> wait for SIGTERM/SIGINT.

import { exitWithError, parseCommandLine } from '@trust-manager/shared/cli/command-line.ts';
import { createLogger } from '@trust-manager/shared/logging/logging.ts';

import { parseWebhookFlags } from './flags.ts';
import { startWebhook } from './server.ts';

/**
 * How long the webhook keeps serving after SIGTERM before it closes its listener. A deleted pod leaves the
 * Service's EndpointSlice at once, but the API server only stops picking its address once it has seen that
 * change, and keeps reusing kept-alive connections to it until told to close them (which every answer in
 * this window does): closing earlier fails admissions in flight with "broken pipe" during every rollout.
 * SIGINT (a person at a terminal) stops at once.
 */
const TERMINATION_DRAIN_MS = 5_000;

const { config } = parseCommandLine(parseWebhookFlags);

const logger = createLogger({ format: config.logFormat, verbosity: config.logLevel, base: { component: 'webhook' } });

try {
  const webhook = await startWebhook(config, logger);
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    const drainMs = signal === 'SIGTERM' ? TERMINATION_DRAIN_MS : 0;
    logger.info({ signal, drainMs }, 'shutting down');
    webhook.close({ drainMs }).then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
} catch (error) {
  logger.error({ err: error }, 'webhook failed to start');
  exitWithError(error);
}
