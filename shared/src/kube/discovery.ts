// API discovery: is a resource served by this API server? Both processes ask it about
// ClusterTrustBundles (beta, off by default), the controller to decide what to watch, the webhook to
// warn at admission. Discovery is readable by every authenticated identity (system:discovery).
import { isNotFound, type KubeClient } from './client.ts';
import { resourcePath, type ResourceType } from './resource.ts';

interface APIResourceList {
  resources?: Array<{ name?: string }>;
}

/**
 * True when the resource's group/version lists it, false when the group/version or the resource is
 * not served. Any other failure (unreachable, forbidden) throws: the answer is unknown.
 */
export async function isResourceServed(client: KubeClient, resource: ResourceType, signal?: AbortSignal): Promise<boolean> {
  const groupVersionPath = resourcePath(resource).slice(0, -(resource.plural.length + 1));
  try {
    const list = await client.json<APIResourceList>({ path: groupVersionPath, ...(signal ? { signal } : {}) });
    return (list.resources ?? []).some((entry) => entry.name === resource.plural);
  } catch (err) {
    if (isNotFound(err)) return false;
    throw err;
  }
}
