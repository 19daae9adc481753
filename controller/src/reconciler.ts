// Executes one reconcile of one Bundle: read the caches, let the pure core decide
// (core/reconcile.ts), then do it: cleanup applies (and deletes of emptied targets), target applies
// with bounded parallelism, the status apply and the Event. upstream-compatibility.md 4.2.
import type { Logger } from 'pino';
import { API_VERSION, CRD_NAME, KIND } from '@trust-manager/shared/api/constants.ts';
import type { Bundle } from '@trust-manager/shared/api/types.ts';
import { errorMessage } from '@trust-manager/shared/text/error-message.ts';
import type { Applier } from './kube/apply.ts';
import { isNotFound } from '@trust-manager/shared/kube/client.ts';
import type { EventRecorder } from './kube/events.ts';
import type { KubeObject } from './kube/object.ts';
import { BUNDLES, CLUSTER_TRUST_BUNDLES, CONFIGMAPS, SECRETS, type ResourceType } from '@trust-manager/shared/kube/resource.ts';
import { ApplyBodySerializer } from './apply-body.ts';
import type { Caches } from './caches.ts';
import { decideHistory, historyEvents, withHistoryCertificates, type HistoryDecision } from './core/history.ts';
import type { ReconcileOptions } from './core/options.ts';
import { applyFailure, clusterTrustBundleApplyFailure, planReconcile, type EventSpec, type ReconcilePlan, type StatusDecision } from './core/reconcile.ts';
import { stampedAt } from './core/status.ts';
import { buildBundleSources } from './core/sources.ts';
import { hasStatusExtensions, isUndeclaredStatusExtension, STATUS_EXTENSIONS, withoutStatusExtensions } from './core/status.ts';
import { EncodingCache, isEmptyAfterCleanup, targetRefKey, type TargetKind, type TargetRef } from './core/targets.ts';
import type { WriteExpectations } from './expectations.ts';
import type { ControllerMetrics } from './metrics.ts';

export interface ReconcilerOptions {
  caches: Caches;
  applier: Applier;
  events: EventRecorder;
  options: ReconcileOptions;
  maxConcurrentWrites: number;
  logger: Logger;
  /** Shared with the controller's event handlers, which record the watch events of our writes. */
  expectations: WriteExpectations;
  metrics?: ControllerMetrics;
  now?: () => Date;
}

export interface ReconcileOutcome {
  /** Reconcile again after this long even without a new event. */
  requeueAfterMs?: number;
  /** Nothing was planned: our last writes are not in the caches yet; the expectations queue the Bundle again. */
  deferred?: boolean;
}

/** Thrown to have the queue retry with backoff; the message is logged. */
export class ReconcileError extends Error {
  override name = 'ReconcileError';
}

const BUNDLE_EXPECTATION_PREFIX = `${KIND}/`;
const CTB_EXPECTATION_PREFIX = `${CLUSTER_TRUST_BUNDLES.kind}/`;

/** The expectation key of a write of the Bundle's ClusterTrustBundle target. */
export function clusterTrustBundleExpectationKey(name: string): string {
  return CTB_EXPECTATION_PREFIX + name;
}

/** The expectation key of a Bundle's own status write. */
export function bundleExpectationKey(name: string): string {
  return BUNDLE_EXPECTATION_PREFIX + name;
}

export class Reconciler {
  readonly #deps: ReconcilerOptions;
  readonly #encodings = new EncodingCache();
  readonly #expectations: WriteExpectations;
  readonly #now: () => Date;
  /** False once the API server said the Bundle CRD lacks our status fields (upstream's CRD). */
  #statusExtensions = true;

  constructor(deps: ReconcilerOptions) {
    this.#deps = deps;
    this.#expectations = deps.expectations;
    this.#now = deps.now ?? (() => new Date());
  }

  /** `signal` aborts on shutdown: no new writes are started, the ones in flight finish. */
  async reconcile(name: string, signal: AbortSignal): Promise<ReconcileOutcome> {
    const { caches, options, metrics } = this.#deps;
    const log = this.#deps.logger.child({ bundle: name });
    const bundle = caches.bundles.get(undefined, name);
    if (bundle === undefined || bundle.metadata.deletionTimestamp !== undefined) {
      // Targets carry an owner reference: Kubernetes' garbage collector removes them.
      this.#expectations.forget(name);
      metrics?.forgetBundle(name);
      return {};
    }
    if (!this.#expectations.caughtUp(name, (key) => this.#cachedResourceVersion(key))) {
      log.debug('waiting for the caches to show our last writes');
      return { deferred: true };
    }

    const now = this.#now();
    let sources = buildBundleSources(bundle, caches.sourceReader, options, now);
    let history: HistoryDecision | undefined;
    if (sources.ok) {
      history = decideHistory({ previous: bundle.status?.certHistory, sources: sources.historySources ?? [], now });
      sources = { ...sources, ...withHistoryCertificates(sources, history.include, options, now) };
    }
    const plan = planReconcile({
      bundle,
      sources,
      namespaces: caches.namespaceInfos(),
      existingTargets: caches.targetsOf(name),
      existingClusterTrustBundles: caches.clusterTrustBundlesOf(name),
      options: this.#statusExtensions ? options : { ...options, statusExtensions: false },
      now,
      encode: this.#encodings.encode,
      ...(history !== undefined ? { certHistory: history.history } : {}),
    });
    const { outcome } = plan;
    if (outcome.certificates !== undefined) metrics?.bundleCertificates(name, outcome.certificates);

    await this.#prune(bundle, plan, signal, log);
    const failures = await this.#apply(bundle, plan, signal, log);
    if (signal.aborted) return {}; // shutting down mid-rollout: the next leader finishes it
    const ctbFailure = await this.#syncClusterTrustBundle(bundle, plan, log);

    if (outcome.synced) metrics?.bundleTargets(name, outcome.desiredTargets - failures.length, failures.length);

    const first = failures[0];
    if (first !== undefined) {
      const failure = applyFailure(bundle, first.ref, first.message, now);
      await this.#writeStatus(bundle, failure.status, log);
      await this.#record(bundle, failure.event);
      throw new ReconcileError(`failed to sync ${failures.length} target(s); first: ${first.ref.kind} ${first.ref.namespace}/${first.ref.name}: ${first.message}`);
    }
    if (ctbFailure !== undefined) {
      const failure = clusterTrustBundleApplyFailure(bundle, ctbFailure.name, ctbFailure.message, now);
      await this.#writeStatus(bundle, failure.status, log);
      await this.#record(bundle, failure.event);
      throw new ReconcileError(failure.event.note);
    }

    await this.#writeStatus(bundle, plan.status, log);
    if (plan.event !== undefined) await this.#record(bundle, plan.event);
    for (const notice of plan.notices ?? []) await this.#record(bundle, notice);
    if (plan.event?.type === 'Warning') log.warn({ reason: plan.event.reason }, plan.event.note);
    else if (plan.apply.length > 0 || plan.prune.length > 0) log.info({ written: plan.apply.length, cleanedUp: plan.prune.length }, 'synced');
    if (plan.error !== undefined) throw new ReconcileError(plan.error);
    if (history === undefined || !outcome.synced) return {};
    // Only now is the history in status: report it once, and come back when a kept certificate must go.
    await this.#reportHistory(bundle, history, log);
    return history.nextDropAt === undefined ? {} : { requeueAfterMs: requeueDelay(history.nextDropAt, now) };
  }

  async #reportHistory(bundle: Bundle, history: HistoryDecision, log: Logger): Promise<void> {
    const name = bundle.metadata.name;
    const { metrics } = this.#deps;
    for (const { source, certificate } of history.retired) {
      log.info({ source, fingerprint: certificate.fingerprint, notAfter: certificate.notAfter }, 'kept a previous certificate of a keepHistory source');
    }
    for (const { source, certificate, reason } of history.dropped) {
      log.info({ source, fingerprint: certificate.fingerprint, reason }, 'dropped a previous certificate from the bundle');
    }
    for (const event of historyEvents(history)) await this.#record(bundle, event);
    // Metrics last: once they show a change, its Events exist too.
    for (let i = 0; i < history.retired.length; i++) metrics?.certificateRetired(name);
    for (const { reason } of history.dropped) metrics?.certificateHistoryDropped(name, reason);
    metrics?.bundleCertificateHistory(name, history.keptCount);
  }

  /** Unselected targets: drop our keys; delete what is left empty. Failures are only logged (upstream). */
  async #prune(bundle: Bundle, plan: ReconcilePlan, signal: AbortSignal, log: Logger): Promise<void> {
    await forEachBounded(plan.prune, this.#deps.maxConcurrentWrites, signal, async ({ ref, body }) => {
      const resource = resourceOf(ref.kind);
      try {
        const result = await this.#deps.applier.apply<KubeObject & { data?: Record<string, string>; binaryData?: Record<string, string> }>(resource, body);
        if (isEmptyAfterCleanup(result)) {
          // Preconditions: if anyone changed the object since our apply, it is not ours to delete.
          const preconditions = { ...(result.metadata.uid ? { uid: result.metadata.uid } : {}), ...(result.metadata.resourceVersion ? { resourceVersion: result.metadata.resourceVersion } : {}) };
          await this.#deps.applier.delete(resource, ref.namespace, ref.name, preconditions);
          log.info({ namespace: ref.namespace, kind: ref.kind }, 'deleted target that is no longer selected');
        } else {
          this.#expect(bundle, targetRefKey(ref), result.metadata.resourceVersion);
          log.info({ namespace: ref.namespace, kind: ref.kind }, 'removed bundle data from target that is no longer selected');
        }
      } catch (err) {
        log.warn({ namespace: ref.namespace, kind: ref.kind, err: errorMessage(err) }, 'failed to clean up target');
      }
    });
  }

  /**
   * Deletes the ClusterTrustBundles this Bundle no longer wants, then writes its target; returns the
   * condition to report when the write failed (a failed delete is only logged and retried).
   */
  async #syncClusterTrustBundle(bundle: Bundle, plan: ReconcilePlan, log: Logger): Promise<{ name: string; message: string } | undefined> {
    const ctb = plan.clusterTrustBundle;
    if (ctb === undefined) return undefined;
    for (const { name, uid } of ctb.delete) {
      try {
        await this.#deps.applier.delete(CLUSTER_TRUST_BUNDLES, undefined, name, uid !== undefined ? { uid } : undefined);
        log.info({ clusterTrustBundle: name }, 'deleted ClusterTrustBundle the Bundle no longer targets');
      } catch (err) {
        log.warn({ clusterTrustBundle: name, err: errorMessage(err) }, 'failed to delete ClusterTrustBundle');
      }
    }
    if (ctb.apply === undefined) return undefined;
    try {
      const result = await this.#deps.applier.apply(CLUSTER_TRUST_BUNDLES, ctb.apply.body, { metadataOnlyResponse: true });
      this.#expect(bundle, clusterTrustBundleExpectationKey(ctb.apply.name), result.metadata.resourceVersion);
      log.info({ clusterTrustBundle: ctb.apply.name }, 'wrote ClusterTrustBundle');
      return undefined;
    } catch (err) {
      log.warn({ clusterTrustBundle: ctb.apply.name, err: errorMessage(err) }, 'failed to write ClusterTrustBundle');
      return { name: ctb.apply.name, message: errorMessage(err) };
    }
  }

  /** Writes every target that needs it; returns the failures in plan order. */
  async #apply(bundle: Bundle, plan: ReconcilePlan, signal: AbortSignal, log: Logger): Promise<Array<{ ref: TargetRef; message: string }>> {
    const failures = new Map<number, { ref: TargetRef; message: string }>();
    const indexed = plan.apply.map((item, index) => ({ ...item, index }));
    // Every body carries the same bundle: serialise it once for this reconcile, not once per target.
    const serializer = new ApplyBodySerializer();
    await forEachBounded(indexed, this.#deps.maxConcurrentWrites, signal, async ({ ref, body, index }) => {
      try {
        const result = await this.#deps.applier.applyRaw(resourceOf(ref.kind), ref, serializer.serialize(body()), { metadataOnlyResponse: true });
        this.#expect(bundle, targetRefKey(ref), result.metadata.resourceVersion);
        log.debug({ namespace: ref.namespace, kind: ref.kind }, 'wrote target');
      } catch (err) {
        failures.set(index, { ref, message: errorMessage(err) });
        log.warn({ namespace: ref.namespace, kind: ref.kind, err: errorMessage(err) }, 'failed to write target');
      }
    });
    return [...failures.entries()].sort(([a], [b]) => a - b).map(([, failure]) => failure);
  }

  async #writeStatus(bundle: Bundle, status: StatusDecision, log: Logger): Promise<void> {
    if (!status.write) return;
    try {
      // The condition's transition time is when the status is written, not when the reconcile began.
      const body = stampedAt(bundle, status.body, this.#now());
      const result = await this.#deps.applier.apply(BUNDLES, body, { subresource: 'status', metadataOnlyResponse: true });
      // Landed on a spec newer than the one planned (the cache had not seen it yet): the watch event of this
      // write is then not only ours, and must queue the Bundle like any other change. A relist shows only
      // this resourceVersion, so counting it as ours would leave that spec unreconciled.
      if (result.metadata.generation === bundle.metadata.generation) {
        this.#expect(bundle, bundleExpectationKey(bundle.metadata.name), result.metadata.resourceVersion);
      }
    } catch (err) {
      if (isNotFound(err)) return; // deleted meanwhile
      if (hasStatusExtensions(status.body) && isUndeclaredStatusExtension(errorMessage(err))) {
        // Upstream's CRD (a migration in either direction, or CRDs managed outside this chart): keep
        // the conditions current with upstream's status fields only.
        if (this.#statusExtensions) {
          this.#statusExtensions = false;
          this.#deps.logger.warn(
            { crd: CRD_NAME, undeclared: STATUS_EXTENSIONS.map((field) => `status.${field}`) },
            "the installed Bundle CRD is upstream cert-manager trust-manager's: it does not declare this controller's status fields, so Bundle status is written without them (conditions and defaultCAVersion stay current); install this project's CRD and restart the controller to get them",
          );
        }
        await this.#writeStatus(bundle, { write: true, body: withoutStatusExtensions(status.body) }, log);
        return;
      }
      log.warn({ err: errorMessage(err) }, 'failed to write Bundle status');
      throw new ReconcileError(`failed to apply Bundle status: ${errorMessage(err)}`);
    }
  }

  #record(bundle: Bundle, event: EventSpec): Promise<void> {
    return this.#deps.events.record(
      {
        apiVersion: API_VERSION,
        kind: KIND,
        name: bundle.metadata.name,
        ...(bundle.metadata.uid !== undefined ? { uid: bundle.metadata.uid } : {}),
        ...(bundle.metadata.resourceVersion !== undefined ? { resourceVersion: bundle.metadata.resourceVersion } : {}),
      },
      event,
    );
  }

  #expect(bundle: Bundle, key: string, resourceVersion: string | undefined): void {
    this.#expectations.expect(bundle.metadata.name, key, resourceVersion, this.#cachedResourceVersion(key));
  }

  #cachedResourceVersion(key: string): string | undefined {
    if (key.startsWith(CTB_EXPECTATION_PREFIX)) {
      return this.#deps.caches.clusterTrustBundles?.get(undefined, key.slice(CTB_EXPECTATION_PREFIX.length))?.metadata.resourceVersion;
    }
    if (key.startsWith(BUNDLE_EXPECTATION_PREFIX)) {
      return this.#deps.caches.bundles.get(undefined, key.slice(BUNDLE_EXPECTATION_PREFIX.length))?.metadata.resourceVersion;
    }
    const [kind, namespace = '', ...rest] = key.split('/');
    return this.#deps.caches.targetResourceVersion(kind as TargetKind, namespace, rest.join('/'));
  }
}

/** Until `at`, at most MAX_REQUEUE_MS at a time (timers overflow past 24.8 days; the next reconcile re-decides). */
function requeueDelay(at: Date, now: Date): number {
  return Math.max(0, Math.min(at.getTime() - now.getTime(), MAX_REQUEUE_MS));
}

const MAX_REQUEUE_MS = 12 * 60 * 60 * 1000;

function resourceOf(kind: TargetKind): ResourceType {
  return kind === 'ConfigMap' ? CONFIGMAPS : SECRETS;
}

/** Runs `fn` over `items` with at most `limit` in flight; starts nothing new once `signal` aborts. */
export async function forEachBounded<T>(items: readonly T[], limit: number, signal: AbortSignal, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < items.length && !signal.aborted) {
      const item = items[next++] as T;
      await fn(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
}
