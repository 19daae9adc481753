import { test } from 'node:test';
import assert from 'node:assert/strict';
import { apiVersionOf, BUNDLES, CONFIGMAPS, LEASES, NAMESPACES, resourcePath } from './resource.ts';

test('REST paths for core, grouped, namespaced and cluster-scoped resources', () => {
  assert.equal(resourcePath(CONFIGMAPS), '/api/v1/configmaps');
  assert.equal(resourcePath(CONFIGMAPS, { namespace: 'ns' }), '/api/v1/namespaces/ns/configmaps');
  assert.equal(resourcePath(CONFIGMAPS, { namespace: 'ns', name: 'a' }), '/api/v1/namespaces/ns/configmaps/a');
  assert.equal(resourcePath(NAMESPACES, { namespace: 'ignored', name: 'ns' }), '/api/v1/namespaces/ns');
  assert.equal(resourcePath(BUNDLES, { name: 'b', subresource: 'status' }), '/apis/trust.cert-manager.io/v1alpha1/bundles/b/status');
  assert.equal(resourcePath(LEASES, { namespace: 'kube-system', name: 'l' }), '/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/l');
  assert.equal(apiVersionOf(CONFIGMAPS), 'v1');
  assert.equal(apiVersionOf(LEASES), 'coordination.k8s.io/v1');
});
