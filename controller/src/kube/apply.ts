// Writes: server-side apply (always with our field manager and force) and delete. Every write is
// reported to an optional observer, which the controller turns into metrics.
import { FIELD_MANAGER } from '@trust-manager/shared/api/constants.ts';
import { isNotFound, type KubeClient, type RawBody } from '@trust-manager/shared/kube/client.ts';
import type { KubeObject } from './object.ts';
import { ACCEPT_METADATA } from './reflector.ts';
import { resourcePath, type ResourceType } from '@trust-manager/shared/kube/resource.ts';

export const APPLY_PATCH_CONTENT_TYPE = 'application/apply-patch+yaml';

export type WriteVerb = 'apply' | 'delete' | 'create' | 'update';

export interface WriteRecord {
  resource: ResourceType;
  verb: WriteVerb;
  /** Whether the API server accepted the write. */
  ok: boolean;
}

export type WriteObserver = (write: WriteRecord) => void;

export interface ApplyOptions {
  /** e.g. 'status' for `bundles/status`. */
  subresource?: string;
  /** Ask for PartialObjectMetadata back instead of the whole object (saves parsing large data). */
  metadataOnlyResponse?: boolean;
  signal?: AbortSignal;
}

export interface DeletePreconditions {
  uid?: string;
  resourceVersion?: string;
}

export class Applier {
  readonly #client: KubeClient;
  readonly #fieldManager: string;
  readonly #observe: WriteObserver | undefined;

  constructor(client: KubeClient, options: { fieldManager?: string; onWrite?: WriteObserver } = {}) {
    this.#client = client;
    this.#fieldManager = options.fieldManager ?? FIELD_MANAGER;
    this.#observe = options.onWrite;
  }

  /** Server-side apply of `object` (it must carry apiVersion, kind and metadata.name[/namespace]). */
  apply<R extends KubeObject = KubeObject>(resource: ResourceType, object: KubeObject, options: ApplyOptions = {}): Promise<R> {
    return this.#apply<R>(resource, object.metadata, object, options);
  }

  /**
   * Server-side apply of a body serialised ahead of time (see RawBody); `target` must name the
   * object the body describes.
   */
  applyRaw<R extends KubeObject = KubeObject>(resource: ResourceType, target: { namespace?: string | undefined; name: string }, body: RawBody, options: ApplyOptions = {}): Promise<R> {
    return this.#apply<R>(resource, target, body, options);
  }

  async #apply<R extends KubeObject>(resource: ResourceType, target: { namespace?: string | undefined; name: string }, body: KubeObject | RawBody, options: ApplyOptions): Promise<R> {
    let ok = false;
    try {
      const result = await this.#client.json<R>({
        method: 'PATCH',
        path: resourcePath(resource, { namespace: target.namespace, name: target.name, subresource: options.subresource }),
        query: { fieldManager: this.#fieldManager, force: true },
        body,
        contentType: APPLY_PATCH_CONTENT_TYPE,
        accept: options.metadataOnlyResponse ? ACCEPT_METADATA : undefined,
        signal: options.signal,
      });
      ok = true;
      return result;
    } finally {
      this.#observe?.({ resource, verb: 'apply', ok });
    }
  }

  /**
   * Deletes one object; returns false when it was already gone. Preconditions make the delete
   * fail (409) if the object changed since we looked at it.
   */
  async delete(resource: ResourceType, namespace: string | undefined, name: string, preconditions?: DeletePreconditions): Promise<boolean> {
    let ok = false;
    try {
      await this.#client.json({
        method: 'DELETE',
        path: resourcePath(resource, { namespace, name }),
        body: { apiVersion: 'v1', kind: 'DeleteOptions', ...(preconditions ? { preconditions } : {}) },
      });
      ok = true;
      return true;
    } catch (err) {
      if (isNotFound(err)) {
        ok = true;
        return false;
      }
      throw err;
    } finally {
      this.#observe?.({ resource, verb: 'delete', ok });
    }
  }
}
