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
import { Reconciler } from './reconciler.ts';

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
    this.#reconciler = new Reconciler({
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
  }

  async stop(): Promise<void> {
    await this.stopReconciling();
    await this.caches.stop();
  }

  #wireEvents(): void {
    const { caches, queue } = this;
    const enqueue = (names: Iterable<string>): void => {
      for (const name of names) queue.add(name);
    };
    const bundles = (): Bundle[] => caches.bundles.list();

    caches.bundles.on((event) => queue.add(event.object.metadata.name));

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

    const onTarget = (event: StoreEvent<KubeObject>): void => {
      const owners = new Set([controllingBundle(event.object), ...(event.type === 'update' ? [controllingBundle(event.old)] : [])]);
      for (const owner of owners) if (owner !== undefined) queue.add(owner);
    };
    for (const reflector of [...caches.targetConfigMaps, ...caches.targetSecrets]) reflector.on(onTarget);

    // A ClusterTrustBundle is a source of the Bundles that select it and a target of the Bundle that owns it.
    caches.clusterTrustBundles?.on((event) => {
      const objects = event.type === 'update' ? [event.object, event.old] : [event.object];
      enqueue(bundlesUsingClusterTrustBundles(bundles(), objects));
      onTarget(event);
    });
  }
}

function seconds(startedNs: bigint): number {
  return Number(process.hrtime.bigint() - startedNs) / 1e9;
}
