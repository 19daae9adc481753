// The admission route as a Fastify app: decode the AdmissionReview, admit() it, encode the answer,
// log one line and count it. TLS, probes and metrics serving live in server.ts.

import type { SecureContextOptions } from 'node:tls';

import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';

import { WEBHOOK_PATH } from '@trust-manager/shared/api/constants.ts';

import { admit } from './admission.ts';
import type { WebhookMetrics } from './metrics.ts';
import type { ValidationOptions } from './validate.ts';

/** A Bundle may carry 100 inLine sources of 1 MiB but etcd stores at most ~1.5 MiB, and kube-apiserver
 * sends at most 3 MiB requests: 4 MiB leaves room for the AdmissionReview envelope and oldObject. */
export const WEBHOOK_BODY_LIMIT = 4 * 1024 * 1024;

export interface AppOptions {
  validation: ValidationOptions;
  logger: FastifyBaseLogger;
  metrics?: WebhookMetrics;
  /** When set, the app serves HTTPS with these (initial) credentials. */
  https?: SecureContextOptions;
  bodyLimit?: number;
  /** True once the process is shutting down: every answer then asks its client to close the connection. */
  isDraining?: () => boolean;
}

export function buildApp(options: AppOptions): FastifyInstance {
  const { logger, metrics } = options;
  const app = Fastify({
    loggerInstance: logger,
    // One line per admission below (uid, Bundle name, result) instead of Fastify's request lines.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: options.bodyLimit ?? WEBHOOK_BODY_LIMIT,
    // The API server gives up after timeoutSeconds (max 30); a client slower than that is not one.
    requestTimeout: 30_000,
    connectionTimeout: 30_000,
    keepAliveTimeout: 65_000,
    onProtoPoisoning: 'error',
    onConstructorPoisoning: 'error',
    ...(options.https ? { https: options.https } : {}),
  });

  // A kept-alive connection that we close while the API server is writing to it fails that admission with
  // "broken pipe" (HTTP/1.1 has no race-free server-side close). Asking in-band instead lets the API server
  // drop each connection after its answer and dial an endpoint that is not going away.
  const { isDraining } = options;
  if (isDraining) {
    app.addHook('onSend', (_request, reply, payload, done) => {
      if (isDraining()) reply.header('connection', 'close');
      done(null, payload);
    });
  }

  app.post(WEBHOOK_PATH, (request, reply) => {
    const started = process.hrtime.bigint();
    // A BadAdmissionReview (statusCode 400) thrown here is answered by the error handler below.
    const outcome = admit(request.body, options.validation);
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const { response } = outcome.review;
    metrics?.admissions.inc({ operation: outcome.operation, result: outcome.result });
    metrics?.admissionDuration.observe({ operation: outcome.operation }, seconds);
    logger.info(
      {
        uid: response.uid,
        bundle: outcome.bundleName,
        operation: outcome.operation,
        result: outcome.result,
        ...(response.allowed ? {} : { reason: response.status.message }),
        ...(response.warnings ? { warnings: response.warnings.length } : {}),
        durationMs: Math.round(seconds * 1e6) / 1e3,
      },
      'admission decided',
    );
    return reply.send(outcome.review);
  });

  // Body too large (413), unparsable JSON (400), no AdmissionReview to answer (400), or a bug (500):
  // a plain JSON error, since there is no request uid to echo.
  app.setErrorHandler((error: { statusCode?: number; message: string; code?: string }, _request, reply) => {
    const status = error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 500;
    if (status === 500) logger.error({ err: error }, 'admission handler failed');
    else logger.info({ result: 'error', reason: error.message, code: error.code }, 'rejected malformed admission request');
    metrics?.admissions.inc({ operation: '', result: 'error' });
    return reply.code(status).send({ message: status === 500 ? 'internal error deciding the admission review' : error.message });
  });

  return app;
}
