// The API resources this project talks to, and how their REST paths are built.
import { CTB_GROUP, CTB_KIND, CTB_PLURAL, CTB_VERSION } from '@trust-manager/shared/api/cluster-trust-bundle.ts';
import { GROUP, KIND, PLURAL, VERSION } from '@trust-manager/shared/api/constants.ts';

export interface ResourceType {
  /** API group; '' for the core group. */
  readonly group: string;
  readonly version: string;
  /** Lower-case plural used in URLs. */
  readonly plural: string;
  readonly kind: string;
  readonly namespaced: boolean;
}

export const CONFIGMAPS: ResourceType = { group: '', version: 'v1', plural: 'configmaps', kind: 'ConfigMap', namespaced: true };
export const SECRETS: ResourceType = { group: '', version: 'v1', plural: 'secrets', kind: 'Secret', namespaced: true };
export const NAMESPACES: ResourceType = { group: '', version: 'v1', plural: 'namespaces', kind: 'Namespace', namespaced: false };
export const LEASES: ResourceType = { group: 'coordination.k8s.io', version: 'v1', plural: 'leases', kind: 'Lease', namespaced: true };
export const EVENTS: ResourceType = { group: 'events.k8s.io', version: 'v1', plural: 'events', kind: 'Event', namespaced: true };
export const BUNDLES: ResourceType = { group: GROUP, version: VERSION, plural: PLURAL, kind: KIND, namespaced: false };
export const CLUSTER_TRUST_BUNDLES: ResourceType = { group: CTB_GROUP, version: CTB_VERSION, plural: CTB_PLURAL, kind: CTB_KIND, namespaced: false };

/** `v1` for the core group, `<group>/<version>` otherwise. */
export function apiVersionOf(resource: ResourceType): string {
  return resource.group === '' ? resource.version : `${resource.group}/${resource.version}`;
}

export interface ResourceLocation {
  namespace?: string | undefined;
  name?: string | undefined;
  subresource?: string | undefined;
}

/** REST path of a collection (no name) or of one object, e.g. `/api/v1/namespaces/ns/configmaps/x`. */
export function resourcePath(resource: ResourceType, location: ResourceLocation = {}): string {
  const root = resource.group === '' ? `/api/${resource.version}` : `/apis/${resource.group}/${resource.version}`;
  let path = root;
  if (resource.namespaced && location.namespace !== undefined && location.namespace !== '') {
    path += `/namespaces/${encodeURIComponent(location.namespace)}`;
  }
  path += `/${resource.plural}`;
  if (location.name !== undefined) {
    path += `/${encodeURIComponent(location.name)}`;
    if (location.subresource !== undefined) path += `/${location.subresource}`;
  }
  return path;
}
