// The facts about Kubernetes' ClusterTrustBundle API (certificates.k8s.io/v1beta1, KEP-3257) that both
// processes depend on: where it is served, how to enable it, the object name rule and the signerName
// syntax, with the API server's own texts (k8s.io/kubernetes pkg/apis/core/validation/names.go), so
// that trust-manager refuses at admission, and never writes, what the API server would reject.

import { invalid, required, tooLong, type FieldError } from './field-error.ts';
import { isDNS1123Label, isDNS1123Subdomain } from '../selectors/label-validation.ts';

export const CTB_GROUP = 'certificates.k8s.io';
export const CTB_VERSION = 'v1beta1';
export const CTB_API_VERSION = `${CTB_GROUP}/${CTB_VERSION}`;
export const CTB_PLURAL = 'clustertrustbundles';
export const CTB_KIND = 'ClusterTrustBundle';

/** `disabled`: not switched on in trust-manager; `unavailable`: switched on but the API is not served. */
export type ClusterTrustBundleAvailability = 'disabled' | 'unavailable' | 'available';

/** certificates.MaxTrustBundleSize: the API server refuses a larger spec.trustBundle. */
export const MAX_TRUST_BUNDLE_SIZE = 1024 * 1024;

const DNS1123_SUBDOMAIN_MAX_LENGTH = 253;
const DNS1123_LABEL_MAX_LENGTH = 63;
/** <domain (253)>/<path (63 + 1 + 253)>: ValidateSignerName's bound. */
export const MAX_SIGNER_NAME_LENGTH = DNS1123_SUBDOMAIN_MAX_LENGTH + (DNS1123_SUBDOMAIN_MAX_LENGTH + DNS1123_LABEL_MAX_LENGTH + 1) + 1;

/** What an administrator does to serve the API; quoted by the controller's condition and the webhook's warning. */
export const CTB_API_ENABLE_HINT =
  `the ${CTB_PLURAL}.${CTB_API_VERSION} API is served from Kubernetes 1.33 on when kube-apiserver runs with ` +
  `--runtime-config=${CTB_API_VERSION}/${CTB_PLURAL}=true and --feature-gates=ClusterTrustBundle=true ` +
  '(pods mount them with the kubelet feature gate ClusterTrustBundleProjection=true); restart trust-manager after enabling it';

/** What an administrator does to let trust-manager use the API. */
export const CTB_FEATURE_ENABLE_HINT =
  'start trust-manager with --cluster-trust-bundles-enabled (Helm chart value clusterTrustBundles.enabled=true)';

/** Why ClusterTrustBundles cannot be used now and how to fix it, or undefined when they can (or nothing is known yet). */
export function clusterTrustBundlesUnusable(availability: ClusterTrustBundleAvailability | undefined): string | undefined {
  if (availability === 'unavailable') return `this cluster does not serve the ${CTB_PLURAL}.${CTB_API_VERSION} API: ${CTB_API_ENABLE_HINT}`;
  if (availability === 'disabled') return `ClusterTrustBundle support is disabled: ${CTB_FEATURE_ENABLE_HINT}`;
  return undefined;
}

/**
 * The object name the API requires: with a signer, `<signerName with "/" replaced by ":">:` then the
 * Bundle name; without, the Bundle name (which, a DNS subdomain, never contains ":").
 */
export function clusterTrustBundleName(bundleName: string, signerName: string | undefined): string {
  return signerName === undefined || signerName === '' ? bundleName : `${signerName.replaceAll('/', ':')}:${bundleName}`;
}

/** Go's ValidateSignerName: `<fully qualified domain>/<path>`, texts as the API server's. */
export function validateSignerName(path: string, signerName: string): FieldError[] {
  const errors: FieldError[] = [];
  if (signerName.length === 0) return [required(path, '')];
  const segments = signerName.split('/');
  if (segments.length !== 2) {
    return [invalid(path, signerName, "must be a fully qualified domain and path of the form 'example.com/signer-name'")];
  }
  const [domain = '', signerPath = ''] = segments;
  if (Buffer.byteLength(domain) > DNS1123_SUBDOMAIN_MAX_LENGTH) errors.push(tooLong(path, DNS1123_SUBDOMAIN_MAX_LENGTH));
  const domainLabels = domain.split('.');
  for (const label of domainLabels) {
    const problems = isDNS1123Label(label);
    if (problems.length === 0) continue;
    for (const problem of problems) errors.push(invalid(path, domain, `validating label ${JSON.stringify(label)}: ${problem}`));
    break;
  }
  if (domainLabels.length < 2) errors.push(invalid(path, domain, 'should be a domain with at least two segments separated by dots'));
  for (const label of signerPath.split('.')) {
    const problems = isDNS1123Subdomain(label);
    if (problems.length === 0) continue;
    for (const problem of problems) errors.push(invalid(path, signerPath, `validating label ${JSON.stringify(label)}: ${problem}`));
    break;
  }
  if (Buffer.byteLength(signerName) > MAX_SIGNER_NAME_LENGTH) errors.push(tooLong(path, MAX_SIGNER_NAME_LENGTH));
  return errors;
}

