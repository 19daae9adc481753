// Test helper: an admission.k8s.io/v1 AdmissionReview for a Bundle, as kube-apiserver sends it.
import { API_VERSION, GROUP, KIND, PLURAL, VERSION } from '@trust-manager/shared/api/constants.ts';

export function admissionReview(object: unknown, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const name = (object as { metadata?: { name?: string } } | null)?.metadata?.name ?? '';
  return {
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: {
      uid: 'a8b1c2d3-0000-4000-8000-000000000001',
      kind: { group: GROUP, version: VERSION, kind: KIND },
      resource: { group: GROUP, version: VERSION, resource: PLURAL },
      requestKind: { group: GROUP, version: VERSION, kind: KIND },
      name,
      operation: 'CREATE',
      userInfo: { username: 'kubernetes-admin', groups: ['system:masters', 'system:authenticated'] },
      object,
      oldObject: null,
      dryRun: false,
      ...overrides,
    },
  };
}

/** A Bundle object around a spec, for reviews. */
export function bundleObject(name: string, spec: unknown): Record<string, unknown> {
  return { apiVersion: API_VERSION, kind: KIND, metadata: { name }, spec };
}
