import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from './kube/object.ts';
import { toTargetMetadata, trimBundle, trimNamespace, trimSource, trimTarget } from './caches.ts';

const managedFields = [
  { manager: 'trust-manager', operation: 'Apply', apiVersion: 'v1', fieldsType: 'FieldsV1', fieldsV1: { 'f:data': { 'f:ca.pem': {} }, 'f:metadata': { 'f:labels': {} } } },
  { manager: 'kubectl', operation: 'Update', apiVersion: 'v1', time: 't', fieldsType: 'FieldsV1', fieldsV1: { 'f:data': { 'f:mine': {} }, 'f:metadata': { 'f:annotations': { 'f:big': {} } } } },
];

test('targets keep only what the up-to-date and cleanup checks read', () => {
  const target = trimTarget({
    apiVersion: 'meta.k8s.io/v1',
    kind: 'PartialObjectMetadata',
    metadata: {
      name: 'b',
      namespace: 'n',
      uid: 'u',
      resourceVersion: '7',
      generation: 1,
      creationTimestamp: 'x',
      labels: { 'trust.cert-manager.io/bundle': 'b', other: 'x' },
      annotations: { 'trust.cert-manager.io/hash': 'h', 'kubectl.kubernetes.io/last-applied-configuration': 'x'.repeat(10_000) },
      ownerReferences: [{ apiVersion: 'trust.cert-manager.io/v1alpha1', kind: 'Bundle', name: 'b', uid: 'bu', controller: true }],
      managedFields,
    },
  });
  assert.deepEqual(target, {
    metadata: {
      name: 'b',
      namespace: 'n',
      uid: 'u',
      resourceVersion: '7',
      labels: { 'trust.cert-manager.io/bundle': 'b' },
      annotations: { 'trust.cert-manager.io/hash': 'h' },
      ownerReferences: [{ apiVersion: 'trust.cert-manager.io/v1alpha1', kind: 'Bundle', name: 'b', uid: 'bu', controller: true }],
      managedFields: [managedFields[0], { manager: 'kubectl', operation: 'Update', fieldsV1: { 'f:data': { 'f:mine': {} } } }],
    },
  });
  const meta = toTargetMetadata(target, 'ConfigMap');
  assert.equal(meta.kind, 'ConfigMap');
  assert.equal(meta.namespace, 'n');
  assert.equal(meta.labels?.['trust.cert-manager.io/bundle'], 'b');
});

test('sources keep labels and content, not annotations or managed fields', () => {
  const source = trimSource({
    metadata: { name: 's', namespace: 't', resourceVersion: '1', labels: { a: 'b' }, annotations: { big: 'x' }, managedFields },
    data: { k: 'v' },
    binaryData: { b: 'AA==' },
    type: 'Opaque',
  } as KubeObject);
  assert.deepEqual(source, { metadata: { name: 's', namespace: 't', resourceVersion: '1', labels: { a: 'b' } }, data: { k: 'v' }, binaryData: { b: 'AA==' }, type: 'Opaque' });
});

test('namespaces keep name, labels and phase; Bundles drop managed fields only', () => {
  assert.deepEqual(trimNamespace({ metadata: { name: 'n', resourceVersion: '3', labels: { a: 'b' }, annotations: { x: 'y' } }, spec: { finalizers: ['kubernetes'] }, status: { phase: 'Terminating' } } as KubeObject), {
    metadata: { name: 'n', resourceVersion: '3', labels: { a: 'b' } },
    status: { phase: 'Terminating' },
  });
  const bundle = trimBundle({ apiVersion: 'trust.cert-manager.io/v1alpha1', kind: 'Bundle', metadata: { name: 'b', generation: 2, managedFields }, spec: { sources: [] } } as KubeObject);
  assert.deepEqual(bundle, { apiVersion: 'trust.cert-manager.io/v1alpha1', kind: 'Bundle', metadata: { name: 'b', generation: 2 }, spec: { sources: [] } });
});
