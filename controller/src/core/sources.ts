// Source resolution (upstream-compatibility.md 4.3): every source of a Bundle, in spec order, into one
// certificate pool. Pure: objects come from a SourceReader the runtime implements over its caches.
// All-or-nothing: the first problem decides the result and nothing partial is returned.

import type { V1ConfigMap, V1Secret } from '@kubernetes/client-node';
import { goQuote } from '@trust-manager/shared/api/field-error.ts';
import { allowedSourceNamespaces, disallowedSourceNamespaces, sourceNamespace } from '@trust-manager/shared/api/source-namespaces.ts';
import type { Bundle, ClusterTrustBundleSource, LabelSelector, SourceObjectKeySelector } from '@trust-manager/shared/api/types.ts';
import type { Certificate } from '@trust-manager/shared/certs/certificate.ts';
import { CertPool } from '@trust-manager/shared/certs/pool.ts';
import { packageStringID } from '../package/package.ts';
import { availabilityProblem, clusterTrustBundleNotFound, firstClusterTrustBundleSource, selectClusterTrustBundles, type ClusterTrustBundleObject, type ClusterTrustBundleReader } from './cluster-trust-bundles.ts';
import { compareStrings } from '@trust-manager/shared/text/compare.ts';
import { errorMessage } from '@trust-manager/shared/text/error-message.ts';
import { type HistorySource, sourceKey } from './history.ts';
import type { ReconcileOptions } from './options.ts';

/** Read access to source objects. Returns objects as the API server serves them (base64 in Secret data and ConfigMap binaryData). */
export interface SourceReader {
  getConfigMap(namespace: string, name: string): V1ConfigMap | undefined;
  listConfigMaps(namespace: string, selector: LabelSelector): V1ConfigMap[];
  getSecret(namespace: string, name: string): V1Secret | undefined;
  listSecrets(namespace: string, selector: LabelSelector): V1Secret[];
  /** Present when ClusterTrustBundles are available. */
  clusterTrustBundles?: ClusterTrustBundleReader;
}

export type SourceFailureReason =
  | 'SourceNotFound'
  | 'SourceBuildError'
  | 'SourceNamespaceNotAllowed'
  | 'ClusterTrustBundlesDisabled'
  | 'ClusterTrustBundleAPIUnavailable';

export type SourcesResult =
  | {
      ok: true;
      /** Sorted, deduplicated PEM without trailing newline (upstream 4.5). */
      pem: string;
      /** The same certificates, in the same order. */
      certificates: Certificate[];
      /** StringID of the default package when a source has `useDefaultCAs: true`. */
      defaultCAVersion?: string;
      /** What each keepHistory source holds now; absent when no source keeps history. */
      historySources?: HistorySource[];
    }
  | {
      ok: false;
      reason: SourceFailureReason;
      /** The Synced condition message (and Event note). */
      message: string;
      /** Retry with backoff; false means "wait for a watch event". */
      retry: boolean;
    };

/** Upstream's "not found" class: reported as SourceNotFound, not retried (a watch brings the fix). */
class SourceNotFoundError extends Error {}

/** Any other build problem: reported as SourceBuildError, retried with backoff. */
class SourceBuildError extends Error {}

const TLS_SECRET_TYPE = 'kubernetes.io/tls';

export function buildBundleSources(bundle: Bundle, reader: SourceReader, options: ReconcileOptions, now: Date): SourcesResult {
  const disallowed = findDisallowedSourceNamespace(bundle, options);
  if (disallowed !== undefined) {
    return { ok: false, reason: 'SourceNamespaceNotAllowed', message: disallowed, retry: false };
  }
  const ctbSource = firstClusterTrustBundleSource(bundle);
  const ctbProblem = ctbSource === undefined ? undefined : availabilityProblem(options.clusterTrustBundles, ctbSource);
  if (ctbProblem !== undefined) {
    return { ok: false, reason: ctbProblem.reason as SourceFailureReason, message: ctbProblem.message, retry: false };
  }

  const newPool = (): CertPool =>
    new CertPool({
      filterExpired: options.filterExpiredCertificates,
      filterNonCA: options.filterNonCACerts,
      now,
    });
  const pool = newPool();
  let defaultCAVersion: string | undefined;
  const historySources: HistorySource[] = [];
  // A keepHistory source is read into a pool of its own first: its history needs its certificates alone.
  const readSource = (kind: 'ConfigMap' | 'Secret', ref: SourceObjectKeySelector, add: typeof addSecretSource): void => {
    const namespace = sourceNamespace(ref, options.trustNamespace);
    if (ref.keepHistory === undefined) {
      add(pool, reader, namespace, ref);
      return;
    }
    const own = newPool();
    add(own, reader, namespace, ref);
    const certificates = own.certificates();
    for (const certificate of certificates) pool.addCertificate(certificate);
    historySources.push({ source: sourceKey(kind, namespace, ref), keepHistory: ref.keepHistory, certificates });
  };

  try {
    for (const source of bundle.spec.sources) {
      if (source.configMap !== undefined) {
        readSource('ConfigMap', source.configMap, addConfigMapSource);
      } else if (source.secret !== undefined) {
        readSource('Secret', source.secret, addSecretSource);
      } else if (source.inLine !== undefined) {
        addPem(pool, source.inLine, 'inline source contains invalid PEM data');
      } else if (source.useDefaultCAs === true) {
        const pkg = options.defaultPackage;
        if (pkg === undefined) {
          throw new SourceNotFoundError('no default package was specified when trust-manager was started; default CAs not available');
        }
        addPem(pool, pkg.bundle, 'default package contains invalid PEM data');
        defaultCAVersion = packageStringID(pkg);
      } else if (source.clusterTrustBundle !== undefined) {
        addClusterTrustBundleSource(pool, reader, source.clusterTrustBundle);
      }
      // `useDefaultCAs: false` is accepted by the schema but is not a source.
    }
    if (pool.size === 0) {
      throw new SourceNotFoundError("couldn't find any valid certificates in bundle");
    }
  } catch (err) {
    if (err instanceof SourceNotFoundError) {
      return { ok: false, reason: 'SourceNotFound', message: `Bundle source was not found: ${err.message}`, retry: false };
    }
    return { ok: false, reason: 'SourceBuildError', message: `Failed to build bundle sources: ${errorMessage(err)}`, retry: true };
  }

  return {
    ok: true,
    pem: pool.toPem(),
    certificates: pool.certificates(),
    ...(defaultCAVersion !== undefined ? { defaultCAVersion } : {}),
    ...(historySources.length > 0 ? { historySources } : {}),
  };
}

/** Checked before anything is read, so a disallowed namespace is never even looked at. */
function findDisallowedSourceNamespace(bundle: Bundle, options: ReconcileOptions): string | undefined {
  const first = disallowedSourceNamespaces(bundle.spec.sources, options)[0];
  if (first === undefined) return undefined;
  const allowedList = allowedSourceNamespaces(options).map(goQuote).join(', ');
  return (
    `Bundle source namespace is not allowed: spec.sources[${first.index}].${first.kind}.namespace ${goQuote(first.namespace)} ` +
    `is not an allowed source namespace (allowed: ${allowedList}); ` +
    'an administrator can allow more namespaces with --source-namespaces'
  );
}

function addConfigMapSource(pool: CertPool, reader: SourceReader, namespace: string, ref: SourceObjectKeySelector): void {
  for (const configMap of readObjects('ConfigMap', namespace, ref, reader.getConfigMap.bind(reader), reader.listConfigMaps.bind(reader))) {
    const where = `ConfigMap ${objectPath(configMap.metadata, namespace)}`;
    const data = configMap.data ?? {};
    const binaryData = configMap.binaryData ?? {};
    if (ref.key !== undefined && ref.key !== '') {
      // The API server forbids a key in both maps; upstream prefers data.
      const text = Object.hasOwn(data, ref.key) ? data[ref.key] : undefined;
      const binary = Object.hasOwn(binaryData, ref.key) ? binaryData[ref.key] : undefined;
      if (text === undefined && binary === undefined) {
        throw new SourceNotFoundError(`no data found in ${where} at key ${goQuote(ref.key)}`);
      }
      addPem(pool, text ?? decodeBase64(binary ?? ''), invalidPemPrefix(where, ref.key));
    } else if (ref.includeAllKeys === true) {
      for (const key of Object.keys(data).sort()) {
        addPem(pool, data[key] ?? '', invalidPemPrefix(where, key));
      }
      for (const key of Object.keys(binaryData).sort()) {
        addPem(pool, decodeBase64(binaryData[key] ?? ''), invalidPemPrefix(where, key));
      }
    }
  }
}

function addSecretSource(pool: CertPool, reader: SourceReader, namespace: string, ref: SourceObjectKeySelector): void {
  for (const secret of readObjects('Secret', namespace, ref, reader.getSecret.bind(reader), reader.listSecrets.bind(reader))) {
    const path = objectPath(secret.metadata, namespace);
    const where = `Secret ${path}`;
    const data = secret.data ?? {};
    if (ref.key !== undefined && ref.key !== '') {
      const value = Object.hasOwn(data, ref.key) ? data[ref.key] : undefined;
      if (value === undefined) {
        throw new SourceNotFoundError(`no data found in ${where} at key ${goQuote(ref.key)}`);
      }
      addPem(pool, decodeBase64(value), invalidPemPrefix(where, ref.key));
    } else if (ref.includeAllKeys === true) {
      // All keys of a TLS Secret would include its private key: refuse rather than guess.
      if (secret.type === TLS_SECRET_TYPE) {
        throw new SourceBuildError(`includeAllKeys is not supported for TLS Secrets such as ${path}`);
      }
      for (const key of Object.keys(data).sort()) {
        addPem(pool, decodeBase64(data[key] ?? ''), invalidPemPrefix(where, key));
      }
    }
  }
}

/** By name: exactly one object or "not found"; by signer: the objects the projected volume would select. */
function addClusterTrustBundleSource(pool: CertPool, reader: SourceReader, ref: ClusterTrustBundleSource): void {
  const cache = reader.clusterTrustBundles;
  // The availability check above makes this unreachable; reaching here means a wiring bug.
  if (cache === undefined) throw new SourceBuildError('ClusterTrustBundles are not being watched');
  let objects: ClusterTrustBundleObject[];
  if (ref.name !== undefined && ref.name !== '') {
    const object = cache.getClusterTrustBundle(ref.name);
    if (object === undefined) throw new SourceNotFoundError(clusterTrustBundleNotFound(ref.name));
    objects = [object];
  } else {
    objects = selectClusterTrustBundles(cache.listClusterTrustBundles(), ref.signerName ?? '', ref.labelSelector);
  }
  for (const object of objects) addPem(pool, object.spec.trustBundle, `invalid PEM data in ClusterTrustBundle ${object.metadata.name}`);
}

/** By name: exactly one object or "not found". By selector: every match, possibly none (not an error). */
function readObjects<T extends V1ConfigMap | V1Secret>(
  kind: 'ConfigMap' | 'Secret',
  namespace: string,
  ref: SourceObjectKeySelector,
  get: (namespace: string, name: string) => T | undefined,
  list: (namespace: string, selector: LabelSelector) => T[],
): T[] {
  if (ref.name !== undefined && ref.name !== '') {
    let object: T | undefined;
    try {
      object = get(namespace, ref.name);
    } catch (err) {
      throw new SourceBuildError(`failed to get ${kind} ${namespace}/${ref.name}: ${errorMessage(err)}`);
    }
    if (object === undefined) {
      const resource = kind === 'ConfigMap' ? 'configmaps' : 'secrets';
      throw new SourceNotFoundError(`failed to get ${kind} ${namespace}/${ref.name}: ${resource} ${goQuote(ref.name)} not found`);
    }
    return [object];
  }
  // A nil selector selects nothing (metav1.LabelSelectorAsSelector); the schema makes it unreachable.
  if (ref.selector === undefined) return [];
  let objects: T[];
  try {
    objects = list(namespace, ref.selector);
  } catch (err) {
    throw new SourceBuildError(`failed to get ${kind}List: ${errorMessage(err)}`);
  }
  // Stable order, so that the same inputs always report the same first error.
  return [...objects].sort((a, b) => compareStrings(a.metadata?.name ?? '', b.metadata?.name ?? ''));
}

function addPem(pool: CertPool, data: string | Uint8Array, errorPrefix: string): void {
  try {
    pool.addPem(data);
  } catch (err) {
    throw new SourceBuildError(`${errorPrefix}: ${errorMessage(err)}`);
  }
}

function invalidPemPrefix(where: string, key: string): string {
  return `invalid PEM data in ${where} at key ${goQuote(key)}`;
}

function objectPath(metadata: { name?: string; namespace?: string } | undefined, fallbackNamespace: string): string {
  return `${metadata?.namespace ?? fallbackNamespace}/${metadata?.name ?? ''}`;
}

function decodeBase64(value: string): Buffer {
  return Buffer.from(value, 'base64');
}
