// Write expectations: after a reconcile wrote objects, the next reconcile of that Bundle waits until
// the caches show those writes (resourceVersion at least the one the write returned). Planning
// against a cache that predates our own writes would repeat them (and repeat the Synced Event).
// The watch event that brings each write into the cache enqueues the Bundle again, so waiting costs
// nothing; an expectation that is not met within its time-to-live is dropped (e.g. the object was
// deleted meanwhile), so nothing ever waits forever.

interface Expectation {
  resourceVersion: string;
  at: number;
}

export type ResourceVersionLookup = (objectKey: string) => string | undefined;

export class WriteExpectations {
  readonly #ttlMs: number;
  readonly #byBundle = new Map<string, Map<string, Expectation>>();

  constructor(ttlMs = 5_000) {
    this.#ttlMs = ttlMs;
  }

  get ttlMs(): number {
    return this.#ttlMs;
  }

  /** Records that `bundle`'s reconcile wrote `objectKey`, which now has `resourceVersion`. */
  expect(bundle: string, objectKey: string, resourceVersion: string | undefined, now: number): void {
    // Only comparable (numeric) resourceVersions can be waited for.
    if (resourceVersion === undefined || toRevision(resourceVersion) === undefined) return;
    let expectations = this.#byBundle.get(bundle);
    if (!expectations) {
      expectations = new Map();
      this.#byBundle.set(bundle, expectations);
    }
    expectations.set(objectKey, { resourceVersion, at: now });
  }

  /** True while some write of `bundle` is not yet visible through `lookup` (and not expired). */
  pending(bundle: string, lookup: ResourceVersionLookup, now: number): boolean {
    const expectations = this.#byBundle.get(bundle);
    if (!expectations) return false;
    for (const [key, expectation] of expectations) {
      const cached = lookup(key);
      if (cached !== undefined && isAtLeast(cached, expectation.resourceVersion)) expectations.delete(key);
      else if (now - expectation.at >= this.#ttlMs) expectations.delete(key);
    }
    if (expectations.size > 0) return true;
    this.#byBundle.delete(bundle);
    return false;
  }

  forget(bundle: string): void {
    this.#byBundle.delete(bundle);
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
