// Prometheus metrics of the controller (prom-client, served at /metrics on --metrics-port).
import type { CertificateSummary } from '@trust-manager/shared/certs/pool.ts';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { DROP_REASONS, type DropReason } from './core/history.ts';

export type ReconcileResult = 'success' | 'error';

export class ControllerMetrics {
  readonly registry = new Registry();
  readonly #reconciles: Counter<'result'>;
  readonly #reconcileDuration: Histogram<'result'>;
  readonly #queueDepth: Gauge;
  readonly #writes: Counter<'kind' | 'verb'>;
  readonly #writeErrors: Counter<'kind' | 'verb'>;
  readonly #certificates: Gauge<'bundle'>;
  readonly #earliestExpiry: Gauge<'bundle'>;
  readonly #targetsSynced: Gauge<'bundle'>;
  readonly #targetsFailed: Gauge<'bundle'>;
  readonly #leader: Gauge;
  readonly #historyKept: Gauge<'bundle'>;
  readonly #historyRetired: Counter<'bundle'>;
  readonly #historyDropped: Counter<'bundle' | 'reason'>;

  constructor() {
    const registers = [this.registry];
    // Process metrics (RSS, heap, event loop lag): how operators see memory and saturation.
    collectDefaultMetrics({ register: this.registry });
    this.#reconciles = new Counter({ name: 'trust_manager_reconcile_total', help: 'Bundle reconciles, by result.', labelNames: ['result'], registers });
    this.#reconcileDuration = new Histogram({
      name: 'trust_manager_reconcile_duration_seconds',
      help: 'Time to reconcile one Bundle, by result.',
      labelNames: ['result'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers,
    });
    this.#queueDepth = new Gauge({ name: 'trust_manager_workqueue_depth', help: 'Bundles waiting to be reconciled.', registers });
    this.#writes = new Counter({ name: 'trust_manager_api_writes_total', help: 'Write requests sent to the API server, by object kind and verb.', labelNames: ['kind', 'verb'], registers });
    this.#writeErrors = new Counter({ name: 'trust_manager_api_write_errors_total', help: 'Write requests the API server refused or that failed, by object kind and verb.', labelNames: ['kind', 'verb'], registers });
    this.#certificates = new Gauge({ name: 'trust_manager_bundle_certificates', help: 'Certificates in the last successful build of the Bundle.', labelNames: ['bundle'], registers });
    this.#earliestExpiry = new Gauge({
      name: 'trust_manager_bundle_earliest_expiry_timestamp_seconds',
      help: 'Earliest notAfter among the certificates of the Bundle, in Unix seconds.',
      labelNames: ['bundle'],
      registers,
    });
    this.#targetsSynced = new Gauge({ name: 'trust_manager_bundle_targets_synced', help: 'Targets of the Bundle that were up to date after its last reconcile.', labelNames: ['bundle'], registers });
    this.#targetsFailed = new Gauge({ name: 'trust_manager_bundle_targets_failed', help: 'Targets of the Bundle whose write failed in its last reconcile.', labelNames: ['bundle'], registers });
    this.#historyKept = new Gauge({
      name: 'trust_manager_bundle_certificate_history',
      help: 'Previous certificates of keepHistory sources kept in the Bundle.',
      labelNames: ['bundle'],
      registers,
    });
    this.#historyRetired = new Counter({
      name: 'trust_manager_certificate_history_retired_total',
      help: 'Certificates that left a keepHistory source and were kept in the Bundle.',
      labelNames: ['bundle'],
      registers,
    });
    this.#historyDropped = new Counter({
      name: 'trust_manager_certificate_history_dropped_total',
      help: 'Previous certificates dropped from the Bundle, by reason (Expired, MaxAge, Limit, HistoryOff, Invalid).',
      labelNames: ['bundle', 'reason'],
      registers,
    });
    this.#leader = new Gauge({ name: 'trust_manager_leader', help: '1 while this replica is the leader (or leader election is off).', registers });
  }

  reconciled(result: ReconcileResult, seconds: number): void {
    this.#reconciles.inc({ result });
    this.#reconcileDuration.observe({ result }, seconds);
  }

  queueDepth(depth: number): void {
    this.#queueDepth.set(depth);
  }

  write(kind: string, verb: string, ok: boolean): void {
    this.#writes.inc({ kind, verb });
    if (!ok) this.#writeErrors.inc({ kind, verb });
  }

  bundleCertificates(bundle: string, { count, earliestNotAfter }: CertificateSummary): void {
    this.#certificates.set({ bundle }, count);
    if (earliestNotAfter !== undefined) this.#earliestExpiry.set({ bundle }, Math.floor(earliestNotAfter.getTime() / 1000));
    else this.#earliestExpiry.remove({ bundle });
  }

  bundleTargets(bundle: string, synced: number, failed: number): void {
    this.#targetsSynced.set({ bundle }, synced);
    this.#targetsFailed.set({ bundle }, failed);
  }

  bundleCertificateHistory(bundle: string, kept: number): void {
    this.#historyKept.set({ bundle }, kept);
  }

  certificateRetired(bundle: string): void {
    this.#historyRetired.inc({ bundle });
  }

  certificateHistoryDropped(bundle: string, reason: DropReason): void {
    this.#historyDropped.inc({ bundle, reason });
  }

  /** A deleted Bundle leaves no series behind. */
  forgetBundle(bundle: string): void {
    for (const gauge of [this.#certificates, this.#earliestExpiry, this.#targetsSynced, this.#targetsFailed, this.#historyKept, this.#historyRetired]) gauge.remove({ bundle });
    for (const reason of DROP_REASONS) this.#historyDropped.remove({ bundle, reason });
  }

  leader(isLeader: boolean): void {
    this.#leader.set(isLeader ? 1 : 0);
  }
}
