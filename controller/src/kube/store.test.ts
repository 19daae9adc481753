import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from './object.ts';
import { ObjectStore } from './store.ts';

function obj(namespace: string | undefined, name: string, resourceVersion: string, labels?: Record<string, string>): KubeObject {
  return { metadata: { name, ...(namespace !== undefined ? { namespace } : {}), resourceVersion, ...(labels ? { labels } : {}) } };
}

test('upsert reports add, then update with the old object; an unchanged resourceVersion is no event', () => {
  const store = new ObjectStore<KubeObject>();
  assert.deepEqual(store.upsert(obj('a', 'x', '1')), { type: 'add', object: obj('a', 'x', '1') });
  assert.equal(store.upsert(obj('a', 'x', '1')), undefined);
  const update = store.upsert(obj('a', 'x', '2'));
  assert.equal(update?.type, 'update');
  assert.equal(update?.type === 'update' ? update.old.metadata.resourceVersion : '', '1');
  assert.equal(store.get('a', 'x')?.metadata.resourceVersion, '2');
});

test('remove reports the final state and forgets the object; unknown objects are no event', () => {
  const store = new ObjectStore<KubeObject>();
  store.upsert(obj('a', 'x', '1'));
  assert.deepEqual(store.remove(obj('a', 'x', '3')), { type: 'delete', object: obj('a', 'x', '3') });
  assert.equal(store.get('a', 'x'), undefined);
  assert.equal(store.remove(obj('a', 'x', '4')), undefined);
});

test('replace turns a fresh list into adds, updates and deletes', () => {
  const store = new ObjectStore<KubeObject>();
  store.replace([obj('a', 'keep', '1'), obj('a', 'change', '1'), obj('b', 'gone', '1')]);
  const events = store.replace([obj('a', 'keep', '1'), obj('a', 'change', '2'), obj('a', 'new', '5')]);
  assert.deepEqual(
    events.map((e) => `${e.type}:${e.object.metadata.name}`),
    ['update:change', 'add:new', 'delete:gone'],
  );
  assert.equal(store.size, 3);
  assert.deepEqual(store.list('b'), []);
});

test('namespace and custom indexes follow every change', () => {
  const store = new ObjectStore<KubeObject>((o) => o.metadata.labels?.owner);
  store.upsert(obj('a', 'x', '1', { owner: 'one' }));
  store.upsert(obj('b', 'y', '1', { owner: 'one' }));
  store.upsert(obj('b', 'z', '1'));
  store.upsert(obj(undefined, 'cluster', '1'));
  assert.deepEqual(store.byIndex('one').map((o) => o.metadata.name).sort(), ['x', 'y']);
  assert.deepEqual(store.list('b').map((o) => o.metadata.name).sort(), ['y', 'z']);
  assert.equal(store.get(undefined, 'cluster')?.metadata.name, 'cluster');
  store.upsert(obj('a', 'x', '2', { owner: 'two' }));
  assert.deepEqual(store.byIndex('one').map((o) => o.metadata.name), ['y']);
  assert.deepEqual(store.byIndex('two').map((o) => o.metadata.name), ['x']);
  store.remove(obj('b', 'y', '3'));
  assert.deepEqual(store.byIndex('one'), []);
  assert.equal(store.list().length, 3);
});
