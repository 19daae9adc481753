// The controller's view of the cluster (upstream-compatibility.md 4.1; docs/architecture.md, "Never
// cache what you don't read"):
// - Bundles and Namespaces: every object, trimmed to what reconciling reads.
// - Source ConfigMaps/Secrets: full objects, but only in the source namespaces (trust namespace +
//   --source-namespaces), one reflector per namespace.
// - Targets: metadata only (PartialObjectMetadata), only objects labelled trust.cert-manager.io/bundle,
//   cluster-wide or one reflector per --target-namespaces entry; Secrets only with secret targets.
// - ClusterTrustBundles (only when available): every object, content included, since they are both
//   sources and targets; cluster-scoped and few.
// Each object is trimmed before it is stored, so unrelated fields never cost memory.
import type { V1ConfigMap, V1Secret } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { BUNDLE_LABEL, FIELD_MANAGER, HASH_ANNOTATION } from '@trust-manager/shared/api/constants.ts';
import { allowedSourceNamespaces } from '@trust-manager/shared/api/source-namespaces.ts';
import type { Bundle, LabelSelector } from '@trust-manager/shared/api/types.ts';
import { matchesLabelSelector } from '@trust-manager/shared/selectors/label-selector.ts';
import type { KubeClient } from '@trust-manager/shared/kube/client.ts';
import type { KubeObject, KubeObjectMeta, ManagedFieldsEntry } from './kube/object.ts';
import { Reflector, type ReflectorOptions } from './kube/reflector.ts';
import { BUNDLES, CLUSTER_TRUST_BUNDLES, CONFIGMAPS, NAMESPACES, SECRETS, type ResourceType } from '@trust-manager/shared/kube/resource.ts';
import type { ClusterTrustBundleObject, ClusterTrustBundleReader } from './core/cluster-trust-bundles.ts';
import type { NamespaceInfo } from './core/reconcile.ts';
import type { SourceReader } from './core/sources.ts';
import type { TargetKind, TargetMetadata } from './core/targets.ts';

export interface SourceObject extends KubeObject {
  data?: Record<string, string>;
  binaryData?: Record<string, string>;
  type?: string;
}

export interface NamespaceObject extends KubeObject {
  status?: { phase?: string };
}

export interface CachesOptions {
  client: KubeClient;
  logger?: Logger;
  trustNamespace: string;
  /** Further namespaces sources may be read from. */
  sourceNamespaces: readonly string[];
  /** Empty = all namespaces. */
  targetNamespaces: readonly string[];
  secretTargetsEnabled: boolean;
  /** Watch ClusterTrustBundles (the API is served and the feature enabled). */
  clusterTrustBundles?: boolean;
  /** Reflector tuning (tests shorten timeouts). */
  reflector?: Pick<ReflectorOptions<KubeObject>, 'watchTimeoutSeconds' | 'inactivityTimeoutMs' | 'backoff' | 'pageSize'>;
}

export class Caches {
  readonly bundles: Reflector<Bundle>;
  readonly namespaces: Reflector<NamespaceObject>;
  /** By namespace. */
  readonly sourceConfigMaps = new Map<string, Reflector<SourceObject>>();
  readonly sourceSecrets = new Map<string, Reflector<SourceObject>>();
  readonly targetConfigMaps: Reflector<KubeObject>[];
  readonly targetSecrets: Reflector<KubeObject>[];
  readonly clusterTrustBundles: Reflector<ClusterTrustBundleObject> | undefined;
  readonly sourceReader: SourceReader;

  constructor(options: CachesOptions) {
    const common = { client: options.client, ...(options.logger ? { logger: options.logger } : {}), ...options.reflector };
    this.bundles = new Reflector<Bundle>({ ...common, resource: BUNDLES, transform: trimBundle });
    this.namespaces = new Reflector<NamespaceObject>({ ...common, resource: NAMESPACES, transform: trimNamespace });
    for (const namespace of allowedSourceNamespaces(options)) {
      this.sourceConfigMaps.set(namespace, new Reflector<SourceObject>({ ...common, resource: CONFIGMAPS, namespace, transform: trimSource }));
      this.sourceSecrets.set(namespace, new Reflector<SourceObject>({ ...common, resource: SECRETS, namespace, transform: trimSource }));
    }
    const targetScopes: Array<string | undefined> = options.targetNamespaces.length > 0 ? [...new Set(options.targetNamespaces)] : [undefined];
    const targetReflector = (resource: ResourceType, namespace: string | undefined): Reflector<KubeObject> =>
      new Reflector<KubeObject>({
        ...common,
        resource,
        ...(namespace !== undefined ? { namespace } : {}),
        labelSelector: BUNDLE_LABEL,
        metadataOnly: true,
        transform: trimTarget,
        index: (obj) => obj.metadata.labels?.[BUNDLE_LABEL],
      });
    this.targetConfigMaps = targetScopes.map((namespace) => targetReflector(CONFIGMAPS, namespace));
    this.targetSecrets = options.secretTargetsEnabled ? targetScopes.map((namespace) => targetReflector(SECRETS, namespace)) : [];
    this.clusterTrustBundles = options.clusterTrustBundles
      ? new Reflector<ClusterTrustBundleObject>({
          ...common,
          resource: CLUSTER_TRUST_BUNDLES,
          transform: trimClusterTrustBundle,
          index: (obj) => obj.metadata.labels?.[BUNDLE_LABEL],
        })
      : undefined;
    this.sourceReader = new CachedSourceReader(this.sourceConfigMaps, this.sourceSecrets, this.clusterTrustBundles);
  }

  all(): Array<Reflector<KubeObject>> {
    return [
      this.bundles,
      this.namespaces,
      ...this.sourceConfigMaps.values(),
      ...this.sourceSecrets.values(),
      ...this.targetConfigMaps,
      ...this.targetSecrets,
      ...(this.clusterTrustBundles ? [this.clusterTrustBundles] : []),
    ] as Array<Reflector<KubeObject>>;
  }

  start(): void {
    for (const reflector of this.all()) reflector.start();
  }

  async stop(): Promise<void> {
    await Promise.all(this.all().map((reflector) => reflector.stop()));
  }

  hasSynced(): boolean {
    return this.all().every((reflector) => reflector.hasSynced());
  }

  async waitForSync(signal?: AbortSignal): Promise<void> {
    await Promise.all(this.all().map((reflector) => reflector.waitForSync(signal)));
  }

  namespaceInfos(): NamespaceInfo[] {
    return this.namespaces.list().map((ns) => ({
      name: ns.metadata.name,
      ...(ns.metadata.labels ? { labels: ns.metadata.labels } : {}),
      ...(ns.status?.phase !== undefined ? { phase: ns.status.phase } : {}),
    }));
  }

  /** resourceVersion of a target as the target cache currently holds it. */
  targetResourceVersion(kind: TargetKind, namespace: string, name: string): string | undefined {
    for (const reflector of kind === 'ConfigMap' ? this.targetConfigMaps : this.targetSecrets) {
      const obj = reflector.get(namespace, name);
      if (obj !== undefined) return obj.metadata.resourceVersion;
    }
    return undefined;
  }

  /** Cached ClusterTrustBundles labelled for `bundleName`. */
  clusterTrustBundlesOf(bundleName: string): ClusterTrustBundleObject[] {
    return this.clusterTrustBundles?.byIndex(bundleName) ?? [];
  }

  /** Target cache entries labelled for `bundleName`. */
  targetsOf(bundleName: string): TargetMetadata[] {
    const targets: TargetMetadata[] = [];
    for (const reflector of this.targetConfigMaps) for (const obj of reflector.byIndex(bundleName)) targets.push(toTargetMetadata(obj, 'ConfigMap'));
    for (const reflector of this.targetSecrets) for (const obj of reflector.byIndex(bundleName)) targets.push(toTargetMetadata(obj, 'Secret'));
    return targets;
  }
}

class CachedSourceReader implements SourceReader {
  readonly #configMaps: ReadonlyMap<string, Reflector<SourceObject>>;
  readonly #secrets: ReadonlyMap<string, Reflector<SourceObject>>;

  readonly clusterTrustBundles: ClusterTrustBundleReader | undefined;

  constructor(
    configMaps: ReadonlyMap<string, Reflector<SourceObject>>,
    secrets: ReadonlyMap<string, Reflector<SourceObject>>,
    clusterTrustBundles: Reflector<ClusterTrustBundleObject> | undefined,
  ) {
    this.#configMaps = configMaps;
    this.#secrets = secrets;
    this.clusterTrustBundles =
      clusterTrustBundles === undefined
        ? undefined
        : { getClusterTrustBundle: (name) => clusterTrustBundles.get(undefined, name), listClusterTrustBundles: () => clusterTrustBundles.list() };
  }

  getConfigMap(namespace: string, name: string): V1ConfigMap | undefined {
    return this.#in(this.#configMaps, namespace).get(namespace, name) as V1ConfigMap | undefined;
  }

  listConfigMaps(namespace: string, selector: LabelSelector): V1ConfigMap[] {
    return this.#in(this.#configMaps, namespace)
      .list(namespace)
      .filter((obj) => matchesLabelSelector(selector, obj.metadata.labels)) as V1ConfigMap[];
  }

  getSecret(namespace: string, name: string): V1Secret | undefined {
    return this.#in(this.#secrets, namespace).get(namespace, name) as V1Secret | undefined;
  }

  listSecrets(namespace: string, selector: LabelSelector): V1Secret[] {
    return this.#in(this.#secrets, namespace)
      .list(namespace)
      .filter((obj) => matchesLabelSelector(selector, obj.metadata.labels)) as V1Secret[];
  }

  #in(reflectors: ReadonlyMap<string, Reflector<SourceObject>>, namespace: string): Reflector<SourceObject> {
    const reflector = reflectors.get(namespace);
    // The core checks allowed namespaces before reading; reaching here means a wiring bug.
    if (reflector === undefined) throw new Error(`namespace ${namespace} is not a watched source namespace`);
    return reflector;
  }
}

function baseMeta(meta: KubeObjectMeta): KubeObjectMeta {
  const out: KubeObjectMeta = { name: meta.name };
  if (meta.namespace !== undefined) out.namespace = meta.namespace;
  if (meta.uid !== undefined) out.uid = meta.uid;
  if (meta.resourceVersion !== undefined) out.resourceVersion = meta.resourceVersion;
  if (meta.deletionTimestamp !== undefined) out.deletionTimestamp = meta.deletionTimestamp;
  return out;
}

/** Bundles: everything but managedFields (never read, often larger than the spec). */
export function trimBundle(obj: KubeObject): Bundle {
  const { managedFields: _managedFields, ...metadata } = obj.metadata;
  return { ...(obj as unknown as Bundle), metadata: metadata };
}

/** Namespaces: name, labels and phase. */
export function trimNamespace(obj: KubeObject): NamespaceObject {
  const ns = obj as NamespaceObject;
  const metadata = baseMeta(ns.metadata);
  if (ns.metadata.labels !== undefined) metadata.labels = ns.metadata.labels;
  return { metadata, ...(ns.status?.phase !== undefined ? { status: { phase: ns.status.phase } } : {}) };
}

/** Sources: labels (selectors) and content; no annotations (kubectl's last-applied copy doubles the data). */
export function trimSource(obj: KubeObject): SourceObject {
  const source = obj as SourceObject;
  const metadata = baseMeta(source.metadata);
  if (source.metadata.labels !== undefined) metadata.labels = source.metadata.labels;
  const out: SourceObject = { metadata };
  if (source.data !== undefined) out.data = source.data;
  if (source.binaryData !== undefined) out.binaryData = source.binaryData;
  if (source.type !== undefined) out.type = source.type;
  return out;
}

/**
 * Targets: exactly what the up-to-date and cleanup checks read (core/targets.ts): the bundle label,
 * the hash annotation, owner references, trust-manager's managed fields, and for other managers
 * only which data keys they own.
 */
export function trimTarget(obj: KubeObject): KubeObject {
  const meta = obj.metadata;
  const metadata = baseMeta(meta);
  const label = meta.labels?.[BUNDLE_LABEL];
  if (label !== undefined) metadata.labels = { [BUNDLE_LABEL]: label };
  const hash = meta.annotations?.[HASH_ANNOTATION];
  if (hash !== undefined) metadata.annotations = { [HASH_ANNOTATION]: hash };
  if (meta.ownerReferences !== undefined) metadata.ownerReferences = meta.ownerReferences;
  if (meta.managedFields !== undefined) metadata.managedFields = meta.managedFields.map(trimManagedFields);
  return { metadata };
}

function trimManagedFields(entry: ManagedFieldsEntry): ManagedFieldsEntry {
  if (entry.manager === FIELD_MANAGER) return entry;
  const fields = typeof entry.fieldsV1 === 'object' && entry.fieldsV1 !== null ? (entry.fieldsV1 as Record<string, unknown>) : {};
  const kept: Record<string, unknown> = {};
  for (const key of ['f:data', 'f:binaryData']) if (fields[key] !== undefined) kept[key] = fields[key];
  return { ...(entry.manager !== undefined ? { manager: entry.manager } : {}), ...(entry.operation !== undefined ? { operation: entry.operation } : {}), fieldsV1: kept };
}

/** ClusterTrustBundles: labels (selectors), our hash annotation, owner references and the content. */
export function trimClusterTrustBundle(obj: KubeObject): ClusterTrustBundleObject {
  const ctb = obj as Partial<ClusterTrustBundleObject> & KubeObject;
  const metadata = baseMeta(ctb.metadata);
  if (ctb.metadata.labels !== undefined) metadata.labels = ctb.metadata.labels;
  const hash = ctb.metadata.annotations?.[HASH_ANNOTATION];
  if (hash !== undefined) metadata.annotations = { [HASH_ANNOTATION]: hash };
  if (ctb.metadata.ownerReferences !== undefined) metadata.ownerReferences = ctb.metadata.ownerReferences;
  const signerName = ctb.spec?.signerName;
  return { metadata, spec: { ...(signerName !== undefined && signerName !== '' ? { signerName } : {}), trustBundle: ctb.spec?.trustBundle ?? '' } };
}

export function toTargetMetadata(obj: KubeObject, kind: TargetKind): TargetMetadata {
  const meta = obj.metadata;
  const target: TargetMetadata = { kind, namespace: meta.namespace ?? '', name: meta.name };
  if (meta.uid !== undefined) target.uid = meta.uid;
  if (meta.labels !== undefined) target.labels = meta.labels;
  if (meta.annotations !== undefined) target.annotations = meta.annotations;
  if (meta.ownerReferences !== undefined) target.ownerReferences = meta.ownerReferences;
  if (meta.managedFields !== undefined) target.managedFields = meta.managedFields as TargetMetadata['managedFields'];
  if (meta.deletionTimestamp !== undefined) target.deletionTimestamp = meta.deletionTimestamp;
  return target;
}
