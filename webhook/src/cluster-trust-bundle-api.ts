// Whether ClusterTrustBundles can be used, as the webhook learns it: `disabled` without
// --cluster-trust-bundles-enabled; otherwise API discovery, repeated in the background so that an API
// enabled (or disabled) later is noticed. Admission never waits for it: until the first answer
// arrives the availability is unknown and no warning is given. Discovery needs only an
// authenticated identity (system:discovery); the webhook reads nothing else from the API.
import type { Logger } from 'pino';
import type { ClusterTrustBundleAvailability } from '@trust-manager/shared/api/cluster-trust-bundle.ts';
import type { KubeClient } from '@trust-manager/shared/kube/client.ts';
import { isResourceServed } from '@trust-manager/shared/kube/discovery.ts';
import { CLUSTER_TRUST_BUNDLES } from '@trust-manager/shared/kube/resource.ts';

export const DEFAULT_DISCOVERY_INTERVAL_MS = 60_000;

export class ClusterTrustBundleApiWatch {
  readonly #client: KubeClient | undefined;
  readonly #logger: Logger;
  readonly #intervalMs: number;
  #current: ClusterTrustBundleAvailability | undefined;
  #timer: NodeJS.Timeout | undefined;
  #inFlight: Promise<void> | undefined;

  /** Without a client ClusterTrustBundle support is disabled. */
  constructor(options: { client?: KubeClient; logger: Logger; intervalMs?: number }) {
    this.#client = options.client;
    this.#logger = options.logger;
    this.#intervalMs = options.intervalMs ?? DEFAULT_DISCOVERY_INTERVAL_MS;
    if (this.#client === undefined) this.#current = 'disabled';
  }

  get current(): ClusterTrustBundleAvailability | undefined {
    return this.#current;
  }

  start(): void {
    if (this.#client === undefined || this.#timer !== undefined) return;
    this.#timer = setInterval(() => void this.refresh(), this.#intervalMs);
    this.#timer.unref();
    void this.refresh();
  }

  /** One discovery round (skipped while one is in flight); resolves when it is done. */
  refresh(): Promise<void> {
    const client = this.#client;
    if (client === undefined) return Promise.resolve();
    this.#inFlight ??= isResourceServed(client, CLUSTER_TRUST_BUNDLES)
      .then(
        (served) => {
          const next = served ? 'available' : 'unavailable';
          if (next !== this.#current) this.#logger.info({ clusterTrustBundles: next }, 'ClusterTrustBundle API discovered');
          this.#current = next;
        },
        (err: unknown) => this.#logger.warn({ err: err instanceof Error ? err.message : String(err) }, 'ClusterTrustBundle API discovery failed; keeping the last answer'),
      )
      .finally(() => {
        this.#inFlight = undefined;
      });
    return this.#inFlight;
  }

  async close(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#inFlight;
    await this.#client?.close();
  }
}
