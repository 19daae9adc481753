// Which namespaces a configMap/secret source may read from (our extension): the trust namespace,
// plus those the operator allows with --source-namespaces. The webhook denies other namespaces, the
// controller refuses them before reading anything, its caches watch exactly these, and its event
// mapping resolves a source's namespace with the same default. This module is the rule.

import type { BundleSource } from './types.ts';

export interface SourceNamespaceSettings {
  /** `--trust-namespace`: where a source reads from when it names no namespace. */
  trustNamespace: string;
  /** `--source-namespaces`: further namespaces a source may name. */
  sourceNamespaces: readonly string[];
}

export type SourceObjectKind = 'configMap' | 'secret';

export interface DisallowedSourceNamespace {
  /** Index in spec.sources. */
  index: number;
  kind: SourceObjectKind;
  namespace: string;
}

/** Every namespace sources may read from: the trust namespace first, then the others, each once. */
export function allowedSourceNamespaces(settings: SourceNamespaceSettings): string[] {
  return [...new Set([settings.trustNamespace, ...settings.sourceNamespaces])];
}

/** The namespace a source reads from: the one it names, or the trust namespace when it names none. */
export function sourceNamespace(reference: { namespace?: string | undefined }, trustNamespace: string): string {
  return reference.namespace !== undefined && reference.namespace !== '' ? reference.namespace : trustNamespace;
}

/** The configMap/secret sources that read from a namespace that is not allowed, in spec order. */
export function disallowedSourceNamespaces(sources: readonly BundleSource[], settings: SourceNamespaceSettings): DisallowedSourceNamespace[] {
  const allowed = new Set(allowedSourceNamespaces(settings));
  const found: DisallowedSourceNamespace[] = [];
  sources.forEach((source, index) => {
    for (const kind of ['configMap', 'secret'] as const) {
      const reference = source[kind];
      if (reference === undefined) continue;
      const namespace = sourceNamespace(reference, settings.trustNamespace);
      if (!allowed.has(namespace)) found.push({ index, kind, namespace });
    }
  });
  return found;
}
