import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Bundle, BundleSpec } from '@trust-manager/shared/api/types.ts';
import type { KubeObject } from '../kube/object.ts';
import { bundlesSelectingNamespace, bundlesUsingSource, controllingBundle } from './enqueue.ts';

function bundle(name: string, spec: Partial<BundleSpec>): Bundle {
  return { apiVersion: 'trust.cert-manager.io/v1alpha1', kind: 'Bundle', metadata: { name }, spec: { sources: [], ...spec } };
}

function obj(namespace: string, name: string, labels?: Record<string, string>): KubeObject {
  return { metadata: { namespace, name, ...(labels ? { labels } : {}) } };
}

test('namespace changes concern Bundles whose selector matches the old or the new labels; no selector matches all', () => {
  const bundles = [
    bundle('all', { target: { configMap: { key: 'k' } } }),
    bundle('team-a', { target: { configMap: { key: 'k' }, namespaceSelector: { matchLabels: { team: 'a' } } } }),
    bundle('team-b', { target: { configMap: { key: 'k' }, namespaceSelector: { matchLabels: { team: 'b' } } } }),
  ];
  assert.deepEqual(bundlesSelectingNamespace(bundles, [{ team: 'a' }]), ['all', 'team-a']);
  assert.deepEqual(bundlesSelectingNamespace(bundles, [{ team: 'b' }, { team: 'a' }]), ['all', 'team-a', 'team-b']);
  assert.deepEqual(bundlesSelectingNamespace(bundles, [undefined]), ['all']);
});

test('source changes concern Bundles naming the object or selecting it, in the right namespace and kind', () => {
  const bundles = [
    bundle('by-name', { sources: [{ configMap: { name: 'ca', key: 'k' } }] }),
    bundle('by-selector', { sources: [{ configMap: { selector: { matchLabels: { ca: 'yes' } }, key: 'k' } }] }),
    bundle('secret', { sources: [{ secret: { name: 'ca', key: 'k' } }] }),
    bundle('other-ns', { sources: [{ configMap: { name: 'ca', key: 'k', namespace: 'extra' } }] }),
    bundle('inline', { sources: [{ inLine: 'x' }] }),
  ];
  assert.deepEqual(bundlesUsingSource(bundles, 'configMap', [obj('trust', 'ca')], 'trust'), ['by-name']);
  assert.deepEqual(bundlesUsingSource(bundles, 'configMap', [obj('trust', 'x', { ca: 'yes' })], 'trust'), ['by-selector']);
  assert.deepEqual(bundlesUsingSource(bundles, 'secret', [obj('trust', 'ca')], 'trust'), ['secret']);
  assert.deepEqual(bundlesUsingSource(bundles, 'configMap', [obj('extra', 'ca')], 'trust'), ['other-ns']);
  // An update that removes the label still concerns the Bundle through the old object.
  assert.deepEqual(bundlesUsingSource(bundles, 'configMap', [obj('trust', 'x'), obj('trust', 'x', { ca: 'yes' })], 'trust'), ['by-selector']);
  assert.deepEqual(bundlesUsingSource(bundles, 'configMap', [obj('elsewhere', 'ca', { ca: 'yes' })], 'trust'), []);
});

test('targets concern their controlling Bundle only', () => {
  const owned = (apiVersion: string, kind: string, controller: boolean): KubeObject => ({
    metadata: { name: 't', namespace: 'n', ownerReferences: [{ apiVersion, kind, name: 'owner', uid: 'u', controller }] },
  });
  assert.equal(controllingBundle(owned('trust.cert-manager.io/v1alpha1', 'Bundle', true)), 'owner');
  assert.equal(controllingBundle(owned('trust.cert-manager.io/v1alpha1', 'Bundle', false)), undefined);
  assert.equal(controllingBundle(owned('example.com/v1', 'Bundle', true)), undefined);
  assert.equal(controllingBundle(owned('trust.cert-manager.io/v1alpha1', 'ClusterBundle', true)), undefined);
  assert.equal(controllingBundle({ metadata: { name: 't' } }), undefined);
});
