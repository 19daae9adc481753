// Whether ClusterTrustBundles can be used, as the webhook learns it: `disabled` without
// --cluster-trust-bundles-enabled; otherwise API discovery, repeated in the background so that an API
// enabled (or disabled) later is noticed. Admission never waits for it: until the first answer
// arrives the availability is unknown and no warning is given.
import type { Logger } from 'pino';
import type { ClusterTrustBundleAvailability } from '@trust-manager/shared/api/cluster-trust-bundle.ts';
import { errorMessage } from '@trust-manager/shared/text/error-message.ts';

export const DEFAULT_DISCOVERY_INTERVAL_MS = 60_000;

/** Asks the API server whether ClusterTrustBundles are served (cluster-trust-bundle-discovery.ts). */
export interface ClusterTrustBundleDiscovery {
  served(): Promise<boolean>;
  close(): Promise<void>;
}

export class ClusterTrustBundleApiWatch {
  readonly #discovery: ClusterTrustBundleDiscovery | undefined;
  readonly #logger: Logger;
  readonly #intervalMs: number;
  #current: ClusterTrustBundleAvailability | undefined;
  #timer: NodeJS.Timeout | undefined;
  #inFlight: Promise<void> | undefined;

  /** Without a discovery ClusterTrustBundle support is disabled. */
  constructor(options: { discovery?: ClusterTrustBundleDiscovery | undefined; logger: Logger; intervalMs?: number | undefined }) {
    this.#discovery = options.discovery;
    this.#logger = options.logger;
    this.#intervalMs = options.intervalMs ?? DEFAULT_DISCOVERY_INTERVAL_MS;
    if (this.#discovery === undefined) this.#current = 'disabled';
  }

  get current(): ClusterTrustBundleAvailability | undefined {
    return this.#current;
  }

  start(): void {
    if (this.#discovery === undefined || this.#timer !== undefined) return;
    this.#timer = setInterval(() => void this.refresh(), this.#intervalMs);
    this.#timer.unref();
    void this.refresh();
  }

  /** One discovery round (skipped while one is in flight); resolves when it is done. */
  refresh(): Promise<void> {
    const discovery = this.#discovery;
    if (discovery === undefined) return Promise.resolve();
    this.#inFlight ??= discovery
      .served()
      .then(
        (served) => {
          const next = served ? 'available' : 'unavailable';
          if (next !== this.#current) this.#logger.info({ clusterTrustBundles: next }, 'ClusterTrustBundle API discovered');
          this.#current = next;
        },
        (err: unknown) => this.#logger.warn({ err: errorMessage(err) }, 'ClusterTrustBundle API discovery failed; keeping the last answer'),
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
    await this.#discovery?.close();
  }
}
