// Write expectations: after a reconcile wrote objects, the caches must show those writes before the
// Bundle is planned again; planning against a cache that predates our own writes would repeat them
// (and repeat the Synced Event).
//
// Two rules keep a rollout at one reconcile per change, however the watch delivers its events (in
// step, late, or replayed in a burst after a watch restart or relist):
// - A watch event that is exactly one of our writes (same object, the resourceVersion the write
//   returned) is ours: it is recorded as seen and enqueues nothing. (So only writes whose result is all
//   ours are expected: a Bundle status write that landed on a spec the cache had not seen is not.)
// - Any other event for a Bundle whose writes are not all seen yet is held back; the Bundle is queued
//   once, when the last of its writes shows up (or when the watch made no progress for `ttlMs`, e.g.
//   an object was deleted meanwhile, so nothing ever waits forever).

interface Expectation {
  resourceVersion: string;
}

interface BundleExpectations {
  byObject: Map<string, Expectation>;
  /** When a write was recorded or seen last: waiting ends `ttlMs` after progress stops. */
  progressAt: number;
  /** Something asked to reconcile the Bundle meanwhile: queue it once caught up. */
  waiting: boolean;
  timer?: NodeJS.Timeout;
}

export type ResourceVersionLookup = (objectKey: string) => string | undefined;

export interface WriteExpectationsOptions {
  ttlMs?: number;
  /** Called once a Bundle that was held back has caught up (or timed out): queue it. */
  onCaughtUp?: (bundle: string) => void;
  now?: () => number;
}

export class WriteExpectations {
  readonly #ttlMs: number;
  readonly #onCaughtUp: (bundle: string) => void;
  readonly #now: () => number;
  readonly #byBundle = new Map<string, BundleExpectations>();

  constructor(options: WriteExpectationsOptions = {}) {
    this.#ttlMs = options.ttlMs ?? 5_000;
    this.#onCaughtUp = options.onCaughtUp ?? (() => {});
    this.#now = options.now ?? Date.now;
  }

  /**
   * Records that `bundle`'s reconcile wrote `objectKey`, which now has `resourceVersion`; nothing is
   * recorded when `cached` (what the cache holds now) already shows the write.
   */
  expect(bundle: string, objectKey: string, resourceVersion: string | undefined, cached?: string): void {
    // Only comparable (numeric) resourceVersions can be waited for.
    if (resourceVersion === undefined || toRevision(resourceVersion) === undefined) return;
    if (cached !== undefined && isAtLeast(cached, resourceVersion)) return;
    let entry = this.#byBundle.get(bundle);
    if (!entry) {
      entry = { byObject: new Map(), progressAt: 0, waiting: false };
      this.#byBundle.set(bundle, entry);
    }
    entry.byObject.set(objectKey, { resourceVersion });
    entry.progressAt = this.#now();
  }

  /**
   * A watch event of `bundle`'s object `objectKey` at `resourceVersion` reached the cache. Returns true
   * when it is exactly one of our writes (nothing to reconcile for it).
   */
  observe(bundle: string, objectKey: string, resourceVersion: string | undefined): boolean {
    const entry = this.#byBundle.get(bundle);
    const expectation = entry?.byObject.get(objectKey);
    if (entry === undefined || expectation === undefined || resourceVersion === undefined) return false;
    const ours = resourceVersion === expectation.resourceVersion;
    if (!isAtLeast(resourceVersion, expectation.resourceVersion)) return false; // an older state arriving late
    entry.byObject.delete(objectKey);
    entry.progressAt = this.#now();
    if (entry.byObject.size === 0) this.#caughtUp(bundle, entry);
    return ours;
  }

  /**
   * True when every write of `bundle` is visible (drops those `lookup` shows in the cache). Otherwise
   * remembers that the Bundle wants a reconcile: onCaughtUp calls back once it has caught up.
   */
  caughtUp(bundle: string, lookup?: ResourceVersionLookup): boolean {
    const entry = this.#byBundle.get(bundle);
    if (entry === undefined) return true;
    if (lookup !== undefined) {
      for (const [key, expectation] of entry.byObject) {
        const cached = lookup(key);
        if (cached !== undefined && isAtLeast(cached, expectation.resourceVersion)) entry.byObject.delete(key);
      }
    }
    if (entry.byObject.size === 0 || this.#now() - entry.progressAt >= this.#ttlMs) {
      this.#drop(bundle, entry);
      return true;
    }
    entry.waiting = true;
    this.#armTimer(bundle, entry);
    return false;
  }

  /** Bundles with writes not yet seen. */
  get size(): number {
    return this.#byBundle.size;
  }

  forget(bundle: string): void {
    const entry = this.#byBundle.get(bundle);
    if (entry !== undefined) this.#drop(bundle, entry);
  }

  /** Cancels every timer (shutdown). */
  clear(): void {
    for (const [bundle, entry] of this.#byBundle) this.#drop(bundle, entry);
  }

  #caughtUp(bundle: string, entry: BundleExpectations): void {
    const wasWaiting = entry.waiting;
    this.#drop(bundle, entry);
    if (wasWaiting) this.#onCaughtUp(bundle);
  }

  #drop(bundle: string, entry: BundleExpectations): void {
    clearTimeout(entry.timer);
    this.#byBundle.delete(bundle);
  }

  /** Fires `ttlMs` after the last progress; progress meanwhile re-arms it for the rest. */
  #armTimer(bundle: string, entry: BundleExpectations): void {
    if (entry.timer !== undefined) return;
    const fire = (): void => {
      entry.timer = undefined;
      if (this.#byBundle.get(bundle) !== entry) return;
      const idleMs = this.#now() - entry.progressAt;
      if (idleMs >= this.#ttlMs) this.#caughtUp(bundle, entry);
      else arm(this.#ttlMs - idleMs);
    };
    const arm = (delayMs: number): void => {
      entry.timer = setTimeout(fire, delayMs);
      entry.timer.unref();
    };
    arm(Math.max(0, this.#ttlMs - (this.#now() - entry.progressAt)));
  }
}

/**
 * resourceVersions are opaque by contract, but every Kubernetes API server backed by etcd uses the
 * etcd revision: a decimal integer. Anything else is treated as incomparable.
 */
function toRevision(resourceVersion: string): bigint | undefined {
  return /^\d{1,30}$/.test(resourceVersion) ? BigInt(resourceVersion) : undefined;
}

function isAtLeast(cached: string, expected: string): boolean {
  const a = toRevision(cached);
  const b = toRevision(expected);
  return a === undefined || b === undefined ? cached === expected : a >= b;
}
