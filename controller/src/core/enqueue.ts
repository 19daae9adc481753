// Which Bundles an observed change concerns (upstream-behaviour.md 4.1). Pure; controller.ts wires
// these to the reflectors' events. On updates both the old and the new object are mapped, so a
// change that *stops* a match (a label removed) still reaches the Bundles it used to concern.
import { GROUP, KIND } from '@trust-manager/shared/api/constants.ts';
import { sourceNamespace } from '@trust-manager/shared/api/source-namespaces.ts';
import type { Bundle } from '@trust-manager/shared/api/types.ts';
import type { KubeObject } from '../kube/object.ts';
import { matchesLabelSelector } from '@trust-manager/shared/selectors/label-selector.ts';

export type SourceKind = 'configMap' | 'secret';

/** Bundles whose namespaceSelector (none = every namespace) matches any of the given label sets. */
export function bundlesSelectingNamespace(bundles: Iterable<Bundle>, labelSets: ReadonlyArray<Record<string, string> | undefined>): string[] {
  const names: string[] = [];
  for (const bundle of bundles) {
    const selector = bundle.spec.target?.namespaceSelector;
    if (labelSets.some((labels) => matchesLabelSelector(selector, labels))) names.push(bundle.metadata.name);
  }
  return names;
}

/**
 * Bundles with a `kind` source that names one of `objects` or selects it by label. The key is not
 * considered (as upstream). A source reads from its own namespace, defaulting to the trust namespace.
 */
export function bundlesUsingSource(bundles: Iterable<Bundle>, kind: SourceKind, objects: readonly KubeObject[], trustNamespace: string): string[] {
  const names: string[] = [];
  for (const bundle of bundles) {
    const uses = bundle.spec.sources.some((source) => {
      const ref = source[kind];
      if (ref === undefined) return false;
      const namespace = sourceNamespace(ref, trustNamespace);
      return objects.some((obj) => {
        if ((obj.metadata.namespace ?? '') !== namespace) return false;
        if (ref.name !== undefined && ref.name !== '') return ref.name === obj.metadata.name;
        return ref.selector !== undefined && matchesLabelSelector(ref.selector, obj.metadata.labels);
      });
    });
    if (uses) names.push(bundle.metadata.name);
  }
  return names;
}

/** The Bundle that is the controller owner of a target, if any. */
export function controllingBundle(target: KubeObject): string | undefined {
  const controller = target.metadata.ownerReferences?.find((ref) => ref.controller === true);
  if (controller === undefined || controller.kind !== KIND) return undefined;
  const group = controller.apiVersion.split('/')[0];
  return group === GROUP ? controller.name : undefined;
}
