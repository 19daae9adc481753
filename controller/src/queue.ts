// Work queue with client-go/controller-runtime semantics:
// - a key waiting in the queue is held once, however often it is added (dedup);
// - a key is never handed to two workers at once; if it is added while being processed it is
//   queued again when that processing is done, so no change is ever missed;
// - failures are retried after a per-key exponential delay (5 ms doubling up to 1000 s by default,
//   controller-runtime's ItemExponentialFailureRateLimiter); a success resets the key's delay.

export interface WorkQueueOptions {
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** Told the number of waiting keys whenever it changes (metrics). */
  onDepth?: (depth: number) => void;
}

export class WorkQueue {
  readonly #baseDelayMs: number;
  readonly #maxDelayMs: number;
  readonly #onDepth: ((depth: number) => void) | undefined;
  /** Waiting keys in arrival order; a Set keeps insertion order and makes dedup O(1). */
  readonly #waiting = new Set<string>();
  readonly #processing = new Set<string>();
  /** Keys added while being processed: queued again by done(). */
  readonly #dirtyWhileProcessing = new Set<string>();
  readonly #failures = new Map<string, number>();
  readonly #delayed = new Map<string, { timer: NodeJS.Timeout; due: number }>();
  #getters: Array<(key: string | undefined) => void> = [];
  #shutDown = false;

  constructor(options: WorkQueueOptions = {}) {
    this.#baseDelayMs = options.baseDelayMs ?? 5;
    this.#maxDelayMs = options.maxDelayMs ?? 1_000_000;
    this.#onDepth = options.onDepth;
  }

  get length(): number {
    return this.#waiting.size;
  }

  get processing(): number {
    return this.#processing.size;
  }

  get isShutDown(): boolean {
    return this.#shutDown;
  }

  add(key: string): void {
    if (this.#shutDown) return;
    const delayed = this.#delayed.get(key);
    if (delayed !== undefined) {
      // The key runs now; the pending retry would only repeat it.
      clearTimeout(delayed.timer);
      this.#delayed.delete(key);
    }
    if (this.#processing.has(key)) {
      this.#dirtyWhileProcessing.add(key);
      return;
    }
    if (this.#waiting.has(key)) return;
    const getter = this.#getters.shift();
    if (getter !== undefined) {
      this.#processing.add(key);
      getter(key);
      return;
    }
    this.#waiting.add(key);
    this.#onDepth?.(this.#waiting.size);
  }

  /** Adds `key` after `delayMs`, unless it is added sooner; of several pending delays the earliest wins. */
  addAfter(key: string, delayMs: number): void {
    if (this.#shutDown) return;
    if (delayMs <= 0) {
      this.add(key);
      return;
    }
    const due = Date.now() + delayMs;
    const existing = this.#delayed.get(key);
    if (existing !== undefined) {
      if (existing.due <= due) return;
      clearTimeout(existing.timer);
    }
    const timer = setTimeout(() => {
      this.#delayed.delete(key);
      this.add(key);
    }, delayMs);
    timer.unref();
    this.#delayed.set(key, { timer, due });
  }

  /** Retries `key` after its next backoff delay; returns that delay. */
  addRateLimited(key: string): number {
    const failures = this.#failures.get(key) ?? 0;
    this.#failures.set(key, failures + 1);
    const delay = backoffDelay(failures, this.#baseDelayMs, this.#maxDelayMs);
    this.addAfter(key, delay);
    return delay;
  }

  /** Forgets the failures of `key` (after a success). */
  forget(key: string): void {
    this.#failures.delete(key);
  }

  failures(key: string): number {
    return this.#failures.get(key) ?? 0;
  }

  /** The next key to process, or undefined once the queue is shut down. Call done(key) afterwards. */
  get(): Promise<string | undefined> {
    if (this.#shutDown) return Promise.resolve(undefined);
    const next = this.#waiting.values().next();
    if (next.done !== true) {
      const key = next.value;
      this.#waiting.delete(key);
      this.#onDepth?.(this.#waiting.size);
      this.#processing.add(key);
      return Promise.resolve(key);
    }
    return new Promise((resolve) => this.#getters.push(resolve));
  }

  done(key: string): void {
    this.#processing.delete(key);
    if (this.#dirtyWhileProcessing.delete(key)) this.add(key);
  }

  /** Stops handing out keys (waiting get() calls return undefined) and drops pending retries. */
  shutDown(): void {
    this.#shutDown = true;
    for (const { timer } of this.#delayed.values()) clearTimeout(timer);
    this.#delayed.clear();
    const getters = this.#getters;
    this.#getters = [];
    for (const resolve of getters) resolve(undefined);
  }
}

/** failures=0 → base, doubling per failure, capped. */
export function backoffDelay(failures: number, baseDelayMs: number, maxDelayMs: number): number {
  return Math.min(baseDelayMs * 2 ** Math.min(failures, 60), maxDelayMs);
}

/** Processes one key; may ask for the key to come back after a delay even without a change. */
export type KeyHandler = (key: string) => Promise<void | { requeueAfterMs?: number }>;

/**
 * Runs `count` workers until the queue is shut down; resolves when every in-flight handler has
 * finished. A handler that throws gets its key retried with backoff; `onError` is told first.
 */
export async function runWorkers(queue: WorkQueue, count: number, handler: KeyHandler, onError?: (key: string, err: unknown, retryInMs: number) => void): Promise<void> {
  const worker = async (): Promise<void> => {
    for (;;) {
      const key = await queue.get();
      if (key === undefined) return;
      try {
        const outcome = await handler(key);
        queue.forget(key);
        if (outcome?.requeueAfterMs !== undefined) queue.addAfter(key, outcome.requeueAfterMs);
      } catch (err) {
        const delay = queue.isShutDown ? 0 : queue.addRateLimited(key);
        onError?.(key, err, delay);
      } finally {
        queue.done(key);
      }
    }
  };
  await Promise.all(Array.from({ length: count }, worker));
}
