// Entry point of the webhook process: flags -> logger -> startWebhook -> wait for SIGTERM/SIGINT.

import { exitWithError, parseCommandLine } from '@trust-manager/shared/cli/command-line.ts';
import { createLogger } from '@trust-manager/shared/logging/logging.ts';

import { parseWebhookFlags } from './flags.ts';
import { startWebhook } from './server.ts';

const { config } = parseCommandLine(parseWebhookFlags);

const logger = createLogger({ format: config.logFormat, verbosity: config.logLevel, base: { component: 'webhook' } });

try {
  const webhook = await startWebhook(config, logger);
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    webhook.close().then(
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
