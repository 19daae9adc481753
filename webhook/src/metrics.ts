// Webhook metrics (Prometheus, served on --metrics-port, never on the TLS port).

import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface WebhookMetrics {
  registry: Registry;
  /** Admissions by operation (CREATE/UPDATE/...) and result (allowed/denied/error). */
  admissions: Counter<'operation' | 'result'>;
  /** Time from request body parsed to response ready, by operation. */
  admissionDuration: Histogram<'operation'>;
}

export function createWebhookMetrics(options: { processMetrics?: boolean } = {}): WebhookMetrics {
  const registry = new Registry();
  if (options.processMetrics ?? true) collectDefaultMetrics({ register: registry });
  return {
    registry,
    admissions: new Counter({
      name: 'trust_manager_webhook_admissions_total',
      help: 'Bundle admission reviews answered, by operation and result (allowed, denied, error).',
      labelNames: ['operation', 'result'],
      registers: [registry],
    }),
    admissionDuration: new Histogram({
      name: 'trust_manager_webhook_admission_duration_seconds',
      help: 'Time spent deciding a Bundle admission review.',
      labelNames: ['operation'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers: [registry],
    }),
  };
}
