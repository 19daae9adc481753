// List/watch reflector: keeps an ObjectStore in step with the API server and reports every change.
//
// The rules (client-go's reflector, restated):
// - LIST in pages (limit/continue), then WATCH from the list's resourceVersion with bookmarks, so
//   a reconnect resumes where we were instead of listing again.
// - Every watch asks the server to end it after a random 300–600 s (spreads reconnects), and we
//   give up on a connection that has been silent longer than the inactivity timeout (half-open
//   TCP would otherwise stall us forever; bookmarks arrive about once a minute).
// - 410 Gone (HTTP status or ERROR event) means our resourceVersion was compacted: LIST again and
//   turn the difference into events, so deletes we missed are still reported.
// - Any other failure is logged and retried with exponential backoff. The loop only ends on stop().
import type { Logger } from 'pino';
import type { Readable } from 'node:stream';
import { errorMessage } from '@trust-manager/shared/text/error-message.ts';
import { ExponentialBackoff, sleep } from '@trust-manager/shared/kube/backoff.ts';
import { isGone, KubeApiError, type KubeClient, type KubeStatus } from '@trust-manager/shared/kube/client.ts';
import { LineSplitter } from './lines.ts';
import type { KubeObject } from './object.ts';
import { resourcePath, type ResourceType } from '@trust-manager/shared/kube/resource.ts';
import { ObjectStore, type IndexFunction, type StoreEvent } from './store.ts';

/** Accept headers that make the API server return only metadata (PartialObjectMetadata). */
export const ACCEPT_METADATA_LIST = 'application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1';
export const ACCEPT_METADATA = 'application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1';

export interface ReflectorOptions<T extends KubeObject> {
  client: KubeClient;
  resource: ResourceType;
  /** Watch one namespace only; all namespaces when absent. */
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  /** Fetch PartialObjectMetadata instead of full objects. */
  metadataOnly?: boolean;
  /** Shrinks each received object to what the consumer needs before it is stored. */
  transform?: (obj: KubeObject) => T;
  /** Optional secondary index (see ObjectStore.byIndex). */
  index?: IndexFunction<T>;
  logger?: Logger;
  /** LIST page size. */
  pageSize?: number;
  /** Range of the server-side watch timeout, in seconds. */
  watchTimeoutSeconds?: { min: number; max: number };
  /** A watch connection silent for longer than this is dropped and reopened. */
  inactivityTimeoutMs?: number;
  backoff?: { initialMs: number; maxMs: number };
}

export interface ReflectorStats {
  /** Completed LISTs (the first one included). */
  lists: number;
  /** LISTs caused by 410 Gone. */
  relistsAfterGone: number;
  /** Watch connections opened. */
  watches: number;
  /** Failures that led to a backoff. */
  errors: number;
}

export type ReflectorHandler<T> = (event: StoreEvent<T>) => void;

interface ListResponse {
  metadata?: { resourceVersion?: string; continue?: string };
  items?: KubeObject[];
}

interface WatchEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: KubeObject & KubeStatus;
}

class GoneError extends Error {}

/** A watch that ended this fast without delivering anything counts as a failure (no hot loop). */
const MIN_HEALTHY_WATCH_MS = 1000;

export class Reflector<T extends KubeObject> {
  readonly #opts: ReflectorOptions<T>;
  readonly #store: ObjectStore<T>;
  readonly #handlers = new Set<ReflectorHandler<T>>();
  readonly #backoff: ExponentialBackoff;
  readonly #log: Logger | undefined;
  readonly #stats: ReflectorStats = { lists: 0, relistsAfterGone: 0, watches: 0, errors: 0 };
  readonly #what: string;
  #resourceVersion: string | undefined;
  #needsList = true;
  #synced = false;
  #syncWaiters: Array<() => void> = [];
  #abort: AbortController | undefined;
  #loop: Promise<void> | undefined;

  constructor(options: ReflectorOptions<T>) {
    this.#opts = options;
    this.#store = new ObjectStore<T>(options.index);
    this.#backoff = new ExponentialBackoff({ initialMs: options.backoff?.initialMs ?? 800, maxMs: options.backoff?.maxMs ?? 30_000 });
    this.#what = `${options.resource.plural}${options.namespace ? ` in ${options.namespace}` : ''}${options.labelSelector ? ` (${options.labelSelector})` : ''}`;
    this.#log = options.logger?.child({ reflector: this.#what });
  }

  /** Starts (or resumes after stop(): the store is kept and watching continues from where it was). */
  start(): void {
    if (this.#loop) return;
    const abort = new AbortController();
    this.#abort = abort;
    this.#loop = this.#run(abort.signal).finally(() => {
      this.#loop = undefined;
    });
  }

  async stop(): Promise<void> {
    this.#abort?.abort(new Error('reflector stopped'));
    await this.#loop;
  }

  /** Registers a change handler; returns its removal. Handlers run synchronously, in order. */
  on(handler: ReflectorHandler<T>): () => void {
    this.#handlers.add(handler);
    return () => this.#handlers.delete(handler);
  }

  hasSynced(): boolean {
    return this.#synced;
  }

  /** Resolves once the first LIST has been stored. */
  waitForSync(signal?: AbortSignal): Promise<void> {
    if (this.#synced) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const onAbort = (): void => reject(new Error(`stopped before ${this.#what} synced`));
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#syncWaiters.push(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      });
    });
  }

  get(namespace: string | undefined, name: string): T | undefined {
    return this.#store.get(namespace, name);
  }

  list(namespace?: string): T[] {
    return this.#store.list(namespace);
  }

  byIndex(value: string): T[] {
    return this.#store.byIndex(value);
  }

  get size(): number {
    return this.#store.size;
  }

  /** The resourceVersion we are up to date with. */
  get resourceVersion(): string | undefined {
    return this.#resourceVersion;
  }

  get stats(): Readonly<ReflectorStats> {
    return { ...this.#stats };
  }

  async #run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      try {
        if (this.#needsList) {
          await this.#listAndReplace(signal);
          this.#needsList = false;
          this.#markSynced();
        }
        const healthy = await this.#watch(signal);
        if (healthy) this.#backoff.reset();
        else await sleep(this.#backoff.next(), signal);
      } catch (err) {
        if (signal.aborted) break;
        if (err instanceof GoneError || isGone(err)) {
          // Our resourceVersion is too old: list again right away.
          this.#log?.info({ err: errorMessage(err) }, 'resourceVersion expired, listing again');
          this.#stats.relistsAfterGone++;
          this.#needsList = true;
          this.#resourceVersion = undefined;
          continue;
        }
        this.#stats.errors++;
        const delay = this.#backoff.next();
        this.#log?.warn({ err: errorMessage(err), retryInMs: delay }, 'list/watch failed, retrying');
        await sleep(delay, signal).catch(() => undefined);
      }
    }
  }

  async #listAndReplace(signal: AbortSignal): Promise<void> {
    const items: KubeObject[] = [];
    let resourceVersion: string | undefined;
    let continueToken: string | undefined;
    do {
      let page: ListResponse;
      try {
        page = await this.#opts.client.json<ListResponse>({
          path: resourcePath(this.#opts.resource, { namespace: this.#opts.namespace }),
          query: {
            limit: this.#opts.pageSize ?? 500,
            continue: continueToken,
            labelSelector: this.#opts.labelSelector,
            fieldSelector: this.#opts.fieldSelector,
          },
          accept: this.#opts.metadataOnly ? ACCEPT_METADATA_LIST : undefined,
          signal,
        });
      } catch (err) {
        if (continueToken !== undefined && isGone(err)) {
          // The continue token expired mid-list: start the list over.
          items.length = 0;
          continueToken = undefined;
          continue;
        }
        throw err;
      }
      for (const item of page.items ?? []) items.push(item);
      resourceVersion = page.metadata?.resourceVersion;
      continueToken = page.metadata?.continue || undefined;
    } while (continueToken !== undefined);

    const transform = this.#opts.transform;
    const objects = items.map((item) => (transform ? transform(item) : (item as T)));
    this.#resourceVersion = resourceVersion;
    this.#stats.lists++;
    this.#log?.debug({ count: objects.length, resourceVersion }, 'listed');
    this.#emit(this.#store.replace(objects));
  }

  /** One watch connection. Returns whether it was healthy; throws on errors. */
  async #watch(signal: AbortSignal): Promise<boolean> {
    const { min, max } = this.#opts.watchTimeoutSeconds ?? { min: 300, max: 600 };
    const timeoutSeconds = Math.floor(min + Math.random() * (max - min + 1));
    const startedAt = Date.now();
    this.#stats.watches++;
    const body: Readable = await this.#opts.client.stream({
      path: resourcePath(this.#opts.resource, { namespace: this.#opts.namespace }),
      query: {
        watch: 1,
        resourceVersion: this.#resourceVersion,
        allowWatchBookmarks: true,
        timeoutSeconds,
        labelSelector: this.#opts.labelSelector,
        fieldSelector: this.#opts.fieldSelector,
      },
      accept: this.#opts.metadataOnly ? ACCEPT_METADATA : undefined,
      signal,
      bodyTimeoutMs: this.#opts.inactivityTimeoutMs ?? 150_000,
    });
    let events = 0;
    const splitter = new LineSplitter();
    try {
      for await (const chunk of body as AsyncIterable<Buffer>) {
        for (const line of splitter.push(chunk)) {
          if (line.trim() === '') continue;
          this.#apply(JSON.parse(line) as WatchEvent);
          events++;
        }
      }
    } finally {
      body.destroy();
    }
    const rest = splitter.flush();
    if (rest !== undefined && rest.trim() !== '') {
      this.#apply(JSON.parse(rest) as WatchEvent);
      events++;
    }
    return events > 0 || Date.now() - startedAt >= MIN_HEALTHY_WATCH_MS;
  }

  #apply(event: WatchEvent): void {
    const obj = event.object;
    switch (event.type) {
      case 'ADDED':
      case 'MODIFIED': {
        const stored = this.#opts.transform ? this.#opts.transform(obj) : (obj as unknown as T);
        this.#resourceVersion = obj.metadata.resourceVersion;
        const change = this.#store.upsert(stored);
        if (change) this.#emit([change]);
        return;
      }
      case 'DELETED': {
        const stored = this.#opts.transform ? this.#opts.transform(obj) : (obj as unknown as T);
        this.#resourceVersion = obj.metadata.resourceVersion;
        const change = this.#store.remove(stored);
        if (change) this.#emit([change]);
        return;
      }
      case 'BOOKMARK':
        this.#resourceVersion = obj.metadata.resourceVersion;
        return;
      case 'ERROR':
        if (obj.code === 410) throw new GoneError(obj.message ?? 'resourceVersion too old');
        throw new KubeApiError(obj.code ?? 500, obj, 'watch error event');
      default:
        this.#log?.warn({ type: (event as { type: unknown }).type }, 'ignoring unknown watch event type');
    }
  }

  #emit(events: StoreEvent<T>[]): void {
    for (const event of events) {
      for (const handler of this.#handlers) {
        try {
          handler(event);
        } catch (err) {
          this.#log?.error({ err: errorMessage(err) }, 'event handler failed');
        }
      }
    }
  }

  #markSynced(): void {
    if (this.#synced) return;
    this.#synced = true;
    const waiters = this.#syncWaiters;
    this.#syncWaiters = [];
    for (const resolve of waiters) resolve();
  }
}
