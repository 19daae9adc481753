// Admission checks of our ClusterTrustBundle fields (pure). Errors carry the field path and, where
// the API server has one, its text; the CRD's CEL rules say the same at the API server, but the
// webhook also names every problem at once. Warnings say what will not happen as the user expects:
// the API is not usable here, certificates will be left out, a selector that selects nothing.

import { clusterTrustBundlesUnusable, validateSignerName, type ClusterTrustBundleAvailability } from '@trust-manager/shared/api/cluster-trust-bundle.ts';
import { childPath, forbidden, indexPath, required, type FieldError } from '@trust-manager/shared/api/field-error.ts';
import type { Bundle } from '@trust-manager/shared/api/types.ts';
import { validateLabelSelector } from '@trust-manager/shared/selectors/label-selector.ts';

export function clusterTrustBundleErrors(bundle: Bundle): FieldError[] {
  const errors: FieldError[] = [];
  (bundle.spec?.sources ?? []).forEach((source, index) => {
    const ref = source.clusterTrustBundle;
    if (ref === undefined) return;
    const path = childPath(indexPath('spec.sources', index), 'clusterTrustBundle');
    const hasName = ref.name !== undefined && ref.name !== '';
    const hasSigner = ref.signerName !== undefined && ref.signerName !== '';
    if (hasName && hasSigner) errors.push(forbidden(path, 'name and signerName are mutually exclusive: select one ClusterTrustBundle by name, or those of a signer'));
    if (!hasName && !hasSigner) errors.push(required(path, 'one of name or signerName must be set'));
    if (ref.labelSelector !== undefined && !hasSigner) errors.push(forbidden(childPath(path, 'labelSelector'), 'may only be set together with signerName'));
    if (hasSigner) errors.push(...validateSignerName(childPath(path, 'signerName'), ref.signerName ?? ''));
    errors.push(...validateLabelSelector(ref.labelSelector, childPath(path, 'labelSelector')));
  });
  const signerName = bundle.spec?.target?.clusterTrustBundle?.signerName;
  if (signerName !== undefined) errors.push(...validateSignerName('spec.target.clusterTrustBundle.signerName', signerName));
  return errors;
}

/** `nonCAInLine`: per inLine source index, how many of its certificates are not CAs. */
export function clusterTrustBundleWarnings(
  bundle: Bundle,
  availability: ClusterTrustBundleAvailability | undefined,
  nonCAInLine: ReadonlyMap<number, number>,
): string[] {
  const warnings: string[] = [];
  const target = bundle.spec?.target;
  const paths = [
    ...(target?.clusterTrustBundle !== undefined ? ['spec.target.clusterTrustBundle'] : []),
    ...(bundle.spec?.sources ?? []).flatMap((source, index) => (source.clusterTrustBundle !== undefined ? [childPath(indexPath('spec.sources', index), 'clusterTrustBundle')] : [])),
  ];
  const unusable = clusterTrustBundlesUnusable(availability);
  if (unusable !== undefined) for (const path of paths) warnings.push(`${path}: ${unusable}`);

  (bundle.spec?.sources ?? []).forEach((source, index) => {
    const ref = source.clusterTrustBundle;
    if (ref?.signerName !== undefined && ref.signerName !== '' && ref.labelSelector === undefined) {
      warnings.push(
        `${childPath(indexPath('spec.sources', index), 'clusterTrustBundle')}: no labelSelector: selects no ClusterTrustBundle (as in a projected volume); ` +
          `set labelSelector: {} to select every ClusterTrustBundle of signer ${JSON.stringify(ref.signerName)}`,
      );
    }
  });

  if (target?.clusterTrustBundle === undefined) return warnings;
  for (const [index, count] of nonCAInLine) {
    warnings.push(
      `${childPath(indexPath('spec.sources', index), 'inLine')}: ${count} certificate(s) are not CA certificates and will be left out of the ClusterTrustBundle target, ` +
        'which accepts only CA certificates',
    );
  }
  if (target.configMap === undefined && target.secret === undefined) {
    if (target.additionalFormats !== undefined) {
      warnings.push('spec.target.additionalFormats: applies to configMap and secret targets only; a ClusterTrustBundle holds PEM only');
    }
    if (target.namespaceSelector !== undefined) {
      warnings.push('spec.target.namespaceSelector: applies to configMap and secret targets only; a ClusterTrustBundle is cluster-scoped');
    }
  }
  return warnings;
}
