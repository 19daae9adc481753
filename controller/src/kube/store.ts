// In-memory object store of a reflector: objects by key, indexed by namespace and optionally by
// one more value (e.g. a label). Every mutation returns the events it implies, so the reflector
// and its tests see exactly what a consumer will see.
import { keyOf, objectKey, type KubeObject } from './object.ts';

export type StoreEvent<T> =
  | { type: 'add'; object: T }
  | { type: 'update'; object: T; old: T }
  | { type: 'delete'; object: T };

/** Maps an object to its index value; undefined = not indexed. */
export type IndexFunction<T> = (obj: T) => string | undefined;

export class ObjectStore<T extends KubeObject> {
  readonly #objects = new Map<string, T>();
  readonly #byNamespace = new Map<string, Map<string, T>>();
  readonly #byIndex = new Map<string, Map<string, T>>();
  readonly #index: IndexFunction<T> | undefined;

  constructor(index?: IndexFunction<T>) {
    this.#index = index;
  }

  get size(): number {
    return this.#objects.size;
  }

  get(namespace: string | undefined, name: string): T | undefined {
    return this.#objects.get(objectKey(namespace, name));
  }

  /** All objects, or those of one namespace. */
  list(namespace?: string): T[] {
    if (namespace === undefined) return [...this.#objects.values()];
    return [...(this.#byNamespace.get(namespace)?.values() ?? [])];
  }

  /** Objects whose index value equals `value`. */
  byIndex(value: string): T[] {
    return [...(this.#byIndex.get(value)?.values() ?? [])];
  }

  /** Adds or replaces; no event when the resourceVersion is unchanged (nothing happened). */
  upsert(obj: T): StoreEvent<T> | undefined {
    const key = keyOf(obj);
    const old = this.#objects.get(key);
    if (old !== undefined && old.metadata.resourceVersion === obj.metadata.resourceVersion) return undefined;
    if (old !== undefined) this.#unindex(key, old);
    this.#objects.set(key, obj);
    this.#indexObject(key, obj);
    return old === undefined ? { type: 'add', object: obj } : { type: 'update', object: obj, old };
  }

  /** Removes; the event carries the last state the server reported. */
  remove(obj: T): StoreEvent<T> | undefined {
    const key = keyOf(obj);
    const old = this.#objects.get(key);
    if (old === undefined) return undefined;
    this.#unindex(key, old);
    this.#objects.delete(key);
    return { type: 'delete', object: obj };
  }

  /** Replaces the whole content with a fresh LIST, returning the difference as events. */
  replace(objects: T[]): StoreEvent<T>[] {
    const events: StoreEvent<T>[] = [];
    const seen = new Set<string>();
    for (const obj of objects) {
      seen.add(keyOf(obj));
      const event = this.upsert(obj);
      if (event) events.push(event);
    }
    for (const [key, old] of [...this.#objects]) {
      if (seen.has(key)) continue;
      this.#unindex(key, old);
      this.#objects.delete(key);
      events.push({ type: 'delete', object: old });
    }
    return events;
  }

  #indexObject(key: string, obj: T): void {
    addTo(this.#byNamespace, obj.metadata.namespace ?? '', key, obj);
    const value = this.#index?.(obj);
    if (value !== undefined) addTo(this.#byIndex, value, key, obj);
  }

  #unindex(key: string, obj: T): void {
    removeFrom(this.#byNamespace, obj.metadata.namespace ?? '', key);
    const value = this.#index?.(obj);
    if (value !== undefined) removeFrom(this.#byIndex, value, key);
  }
}

function addTo<T>(index: Map<string, Map<string, T>>, value: string, key: string, obj: T): void {
  let bucket = index.get(value);
  if (!bucket) {
    bucket = new Map();
    index.set(value, bucket);
  }
  bucket.set(key, obj);
}

function removeFrom<T>(index: Map<string, Map<string, T>>, value: string, key: string): void {
  const bucket = index.get(value);
  if (!bucket) return;
  bucket.delete(key);
  if (bucket.size === 0) index.delete(value);
}
