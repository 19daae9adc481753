// The Bundle controller: caches -> event mapping -> work queue -> reconciler. Caches run on every
// replica (a new leader starts warm); workers run only while reconciling is switched on (the leader).
import type { Logger } from 'pino';
import type { Bundle } from '@trust-manager/shared/api/types.ts';
import { errorMessage } from '@trust-manager/shared/text/error-message.ts';
import type { Applier } from './kube/apply.ts';
import type { KubeClient } from '@trust-manager/shared/kube/client.ts';
import type { EventRecorder } from './kube/events.ts';
import type { KubeObject } from './kube/object.ts';
import type { Reflector } from './kube/reflector.ts';
import type { StoreEvent } from './kube/store.ts';
import { Caches, type CachesOptions } from './caches.ts';
import { bundlesUsingClusterTrustBundles } from './core/cluster-trust-bundles.ts';
import type { ReconcileOptions } from './core/options.ts';
import { bundlesSelectingNamespace, bundlesUsingSource, controllingBundle, type SourceKind } from './core/enqueue.ts';
import type { ControllerMetrics } from './metrics.ts';
import { runWorkers, WorkQueue } from './queue.ts';
import { bundleExpectationKey, clusterTrustBundleExpectationKey, Reconciler } from './reconciler.ts';
import { WriteExpectations } from './expectations.ts';
import { targetRefKey } from './core/targets.ts';

export interface ControllerOptions {
  client: KubeClient;
  applier: Applier;
  events: EventRecorder;
  options: ReconcileOptions;
  workers: number;
  maxConcurrentWrites: number;
  logger: Logger;
  metrics?: ControllerMetrics;
  reflector?: CachesOptions['reflector'];
}

export class Controller {
  readonly caches: Caches;
  readonly queue: WorkQueue;
  readonly #expectations: WriteExpectations;
  readonly #opts: ControllerOptions;
  readonly #reconciler: Reconciler;
  readonly #log: Logger;
  #workers: Promise<void> | undefined;
  #stopWrites = new AbortController();

  constructor(opts: ControllerOptions) {
    this.#opts = opts;
    this.#log = opts.logger;
    this.caches = new Caches({
      client: opts.client,
      logger: opts.logger,
      trustNamespace: opts.options.trustNamespace,
      sourceNamespaces: opts.options.sourceNamespaces,
      targetNamespaces: opts.options.targetNamespaces,
      secretTargetsEnabled: opts.options.secretTargetsEnabled,
      clusterTrustBundles: opts.options.clusterTrustBundles === 'available',
      ...(opts.reflector ? { reflector: opts.reflector } : {}),
    });
    this.queue = new WorkQueue({ onDepth: (depth) => opts.metrics?.queueDepth(depth) });
    this.#expectations = new WriteExpectations({ onCaughtUp: (name) => this.queue.add(name) });
    this.#reconciler = new Reconciler({
      expectations: this.#expectations,
      caches: this.caches,
      applier: opts.applier,
      events: opts.events,
      options: opts.options,
      maxConcurrentWrites: opts.maxConcurrentWrites,
      logger: opts.logger,
      ...(opts.metrics ? { metrics: opts.metrics } : {}),
    });
    this.#wireEvents();
  }

  startCaches(): void {
    this.caches.start();
  }

  /** Starts the workers once the caches have synced, and queues every Bundle once. */
  async startReconciling(signal: AbortSignal): Promise<void> {
    if (this.#workers) return;
    await this.caches.waitForSync(signal);
    if (signal.aborted || this.queue.isShutDown) return;
    for (const bundle of this.caches.bundles.list()) this.queue.add(bundle.metadata.name);
    this.#log.info({ workers: this.#opts.workers }, 'reconciling Bundles');
    this.#workers = runWorkers(
      this.queue,
      this.#opts.workers,
      async (name) => {
        const started = process.hrtime.bigint();
        try {
          const outcome = await this.#reconciler.reconcile(name, this.#stopWrites.signal);
          if (outcome.deferred === true) return outcome; // planned nothing: not a reconcile
          this.#opts.metrics?.reconciled('success', seconds(started));
          return outcome;
        } catch (err) {
          this.#opts.metrics?.reconciled('error', seconds(started));
          throw err;
        }
      },
      (name, err, retryInMs) => this.#log.error({ bundle: name, err: errorMessage(err), retryInMs }, 'reconcile failed'),
    );
  }

  /**
   * Stops taking work: queued Bundles are dropped, reconciles in progress start no new writes, and
   * this resolves once the writes in flight have finished.
   */
  async stopReconciling(): Promise<void> {
    this.queue.shutDown();
    this.#stopWrites.abort(new Error('shutting down'));
    await this.#workers;
    this.#expectations.clear();
  }

  async stop(): Promise<void> {
    await this.stopReconciling();
    await this.caches.stop();
  }

  /**
   * Every event leads here. The watch events of our own writes are recorded and queue nothing; any
   * other change of a Bundle that still has writes in flight queues it once they are all visible, so
   * a late, replayed or relisted watch costs at most one more reconcile, not one per event.
   */
  #wireEvents(): void {
    const { caches, queue } = this;
    const expectations = this.#expectations;
    const enqueueOne = (name: string): void => {
      if (expectations.caughtUp(name)) queue.add(name);
    };
    const enqueue = (names: Iterable<string>): void => {
      for (const name of names) enqueueOne(name);
    };
    const bundles = (): Bundle[] => caches.bundles.list();

    caches.bundles.on((event) => {
      const name = event.object.metadata.name;
      if (event.type === 'delete') {
        queue.add(name);
        return;
      }
      if (event.type === 'update' && expectations.observe(name, bundleExpectationKey(name), event.object.metadata.resourceVersion)) return;
      enqueueOne(name);
    });

    caches.namespaces.on((event) => {
      const labelSets = [event.object.metadata.labels, ...(event.type === 'update' ? [event.old.metadata.labels] : [])];
      enqueue(bundlesSelectingNamespace(bundles(), labelSets));
    });

    const onSource = (kind: SourceKind) => (event: StoreEvent<KubeObject>) => {
      const objects = event.type === 'update' ? [event.object, event.old] : [event.object];
      enqueue(bundlesUsingSource(bundles(), kind, objects, this.#opts.options.trustNamespace));
    };
    for (const reflector of caches.sourceConfigMaps.values()) (reflector as Reflector<KubeObject>).on(onSource('configMap'));
    for (const reflector of caches.sourceSecrets.values()) (reflector as Reflector<KubeObject>).on(onSource('secret'));

    /**
     * Our own writes (expected) queue nothing; anything else queues the controlling Bundle(s) that exist.
     * The targets of a deleted Bundle (the garbage collector removing thousands of them) queue nothing: a
     * Bundle the cache does not hold yet is queued by its own event, before any target of it is written.
     */
    const onTarget = (expectationKey: (namespace: string, name: string) => string) => (event: StoreEvent<KubeObject>): void => {
      const owners = new Set([controllingBundle(event.object), ...(event.type === 'update' ? [controllingBundle(event.old)] : [])]);
      const { namespace = '', name, resourceVersion } = event.object.metadata;
      const single = owners.size === 1 ? [...owners][0] : undefined;
      if (event.type !== 'delete' && single !== undefined && expectations.observe(single, expectationKey(namespace, name), resourceVersion)) return;
      for (const owner of owners) if (owner !== undefined && caches.bundles.get(undefined, owner) !== undefined) enqueueOne(owner);
    };
    for (const reflector of caches.targetConfigMaps) reflector.on(onTarget((namespace, name) => targetRefKey({ kind: 'ConfigMap', namespace, name })));
    for (const reflector of caches.targetSecrets) reflector.on(onTarget((namespace, name) => targetRefKey({ kind: 'Secret', namespace, name })));

    // A ClusterTrustBundle is a source of the Bundles that select it and a target of the Bundle that owns it.
    const onClusterTrustBundleTarget = onTarget((_namespace, name) => clusterTrustBundleExpectationKey(name));
    caches.clusterTrustBundles?.on((event) => {
      const objects = event.type === 'update' ? [event.object, event.old] : [event.object];
      enqueue(bundlesUsingClusterTrustBundles(bundles(), objects));
      onClusterTrustBundleTarget(event);
    });
  }
}

function seconds(startedNs: bigint): number {
  return Number(process.hrtime.bigint() - startedNs) / 1e9;
}
