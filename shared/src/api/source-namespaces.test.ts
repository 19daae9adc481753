import { test } from 'node:test';
import assert from 'node:assert/strict';

import { allowedSourceNamespaces, disallowedSourceNamespaces, sourceNamespace } from './source-namespaces.ts';

const settings = { trustNamespace: 'trust', sourceNamespaces: ['team-a', 'trust', 'team-b', 'team-a'] };

test('allowed: the trust namespace first, then the others once each', () => {
  assert.deepEqual(allowedSourceNamespaces(settings), ['trust', 'team-a', 'team-b']);
  assert.deepEqual(allowedSourceNamespaces({ trustNamespace: 'trust', sourceNamespaces: [] }), ['trust']);
});

test('a source without a namespace (or an empty one) reads from the trust namespace', () => {
  assert.equal(sourceNamespace({}, 'trust'), 'trust');
  assert.equal(sourceNamespace({ namespace: '' }, 'trust'), 'trust');
  assert.equal(sourceNamespace({ namespace: 'team-a' }, 'trust'), 'team-a');
});

test('disallowed: every configMap/secret source outside the allowed namespaces, in spec order', () => {
  const sources = [
    { configMap: { name: 'a', key: 'k' } },
    { secret: { name: 'b', key: 'k', namespace: 'kube-system' } },
    { inLine: 'x' },
    { configMap: { name: 'c', key: 'k', namespace: 'team-b' } },
    { configMap: { name: 'd', key: 'k', namespace: 'other' } },
  ];
  assert.deepEqual(disallowedSourceNamespaces(sources, settings), [
    { index: 1, kind: 'secret', namespace: 'kube-system' },
    { index: 4, kind: 'configMap', namespace: 'other' },
  ]);
  assert.deepEqual(disallowedSourceNamespaces(sources.slice(0, 1), { trustNamespace: 'elsewhere', sourceNamespaces: [] }), []);
});
