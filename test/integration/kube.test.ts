// The cluster layer (controller/src/kube) against a real kube-apiserver: reflector list/watch (full and
// metadata-only, selectors, paging, resume, reconnect), server-side apply incl. bundles/status,
// deletes with preconditions, Events, Lease leader election, and the API client's transport (proxy,
// timeouts, cancellation, large bodies).
//   bash test/cluster/with-cluster.sh node --test test/integration/kube.test.ts
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { connect, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { API_VERSION, FIELD_MANAGER, KIND, LEADER_ELECTION_LEASE_NAME } from '@trust-manager/shared/api/constants.ts';
import type { Bundle } from '@trust-manager/shared/api/types.ts';
import { Applier, type WriteRecord } from '@trust-manager/controller/kube/apply.ts';
import { isConflict, KubeClient, RawBody, type KubeRequest } from '@trust-manager/shared/kube/client.ts';
import { connectionFromKubeConfig } from '@trust-manager/shared/kube/kubeconfig.ts';
import { EventRecorder } from '@trust-manager/controller/kube/events.ts';
import { LeaderElector, type Lease } from '@trust-manager/controller/kube/leader-election.ts';
import type { KubeObject } from '@trust-manager/controller/kube/object.ts';
import { Reflector } from '@trust-manager/controller/kube/reflector.ts';
import { BUNDLES, CONFIGMAPS, EVENTS, LEASES, resourcePath } from '@trust-manager/shared/kube/resource.ts';
import type { StoreEvent } from '@trust-manager/controller/kube/store.ts';
import { useCluster, uniqueName, type TestCluster } from '../cluster/harness.ts';
import { waitFor } from '../cluster/harness.ts';

interface ConfigMap extends KubeObject {
  data?: Record<string, string>;
}

let cluster: TestCluster;
let client: KubeClient;
let applier: Applier;
const writes: WriteRecord[] = [];


function configMap(namespace: string, name: string, data: Record<string, string>, labels?: Record<string, string>): ConfigMap {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace, ...(labels ? { labels } : {}) }, data };
}

async function createConfigMap(obj: ConfigMap): Promise<ConfigMap> {
  return client.json<ConfigMap>({ method: 'POST', path: resourcePath(CONFIGMAPS, { namespace: obj.metadata.namespace }), body: obj });
}

before(async () => {
  cluster = await useCluster();
  await cluster.installBundleCRD();
  client = new KubeClient(cluster.kubeConfig);
  applier = new Applier(client, { onWrite: (w) => writes.push(w) });
});

after(async () => {
  await client.close();
});

describe('reflector', () => {
  test('lists in pages, then reports adds, updates (with the old object) and deletes', async () => {
    const ns = await cluster.newNamespace('kube-refl');
    for (let i = 0; i < 5; i++) await createConfigMap(configMap(ns, `pre-${i}`, { n: String(i) }));
    const reflector = new Reflector<ConfigMap>({ client, resource: CONFIGMAPS, namespace: ns, pageSize: 2 });
    const events: StoreEvent<ConfigMap>[] = [];
    reflector.on((e) => events.push(e));
    reflector.start();
    try {
      await reflector.waitForSync();
      assert.equal(reflector.hasSynced(), true);
      assert.deepEqual(
        reflector.list(ns).map((o) => o.metadata.name).filter((n) => n.startsWith('pre-')).sort(),
        ['pre-0', 'pre-1', 'pre-2', 'pre-3', 'pre-4'],
      );
      assert.equal(reflector.get(ns, 'pre-3')?.data?.n, '3');
      events.length = 0;

      await createConfigMap(configMap(ns, 'live', { v: '1' }));
      await waitFor('add', () => events.find((e) => e.type === 'add' && e.object.metadata.name === 'live'));
      await client.json({
        method: 'PATCH',
        path: resourcePath(CONFIGMAPS, { namespace: ns, name: 'live' }),
        body: { data: { v: '2' } },
        contentType: 'application/merge-patch+json',
      });
      const update = await waitFor('update', () => events.find((e) => e.type === 'update' && e.object.metadata.name === 'live'));
      assert.equal(update.type === 'update' ? update.old.data?.v : undefined, '1');
      assert.equal(update.object.data?.v, '2');
      await client.json({ method: 'DELETE', path: resourcePath(CONFIGMAPS, { namespace: ns, name: 'live' }) });
      await waitFor('delete', () => events.find((e) => e.type === 'delete' && e.object.metadata.name === 'live'));
      assert.equal(reflector.get(ns, 'live'), undefined);
    } finally {
      await reflector.stop();
    }
  });

  test('metadata-only mode with a label selector stores no data and drops objects that lose the label', async () => {
    const ns = await cluster.newNamespace('kube-meta');
    await createConfigMap(configMap(ns, 'labelled', { secret: 'x'.repeat(1000) }, { 'example.com/pick': 'yes' }));
    await createConfigMap(configMap(ns, 'unlabelled', { other: 'y' }));
    const reflector = new Reflector<KubeObject>({ client, resource: CONFIGMAPS, labelSelector: 'example.com/pick', metadataOnly: true, index: (o) => o.metadata.namespace });
    const events: StoreEvent<KubeObject>[] = [];
    reflector.on((e) => events.push(e));
    reflector.start();
    try {
      await reflector.waitForSync();
      const stored = reflector.get(ns, 'labelled');
      assert.ok(stored, 'labelled object is cached cluster-wide');
      assert.equal(stored.kind, 'PartialObjectMetadata');
      assert.equal((stored as ConfigMap).data, undefined, 'no data in metadata-only mode');
      assert.ok(stored.metadata.managedFields?.length, 'managedFields are part of the metadata');
      assert.equal(reflector.get(ns, 'unlabelled'), undefined);
      assert.deepEqual(reflector.byIndex(ns).map((o) => o.metadata.name), ['labelled']);

      await client.json({
        method: 'PATCH',
        path: resourcePath(CONFIGMAPS, { namespace: ns, name: 'labelled' }),
        body: { metadata: { labels: { 'example.com/pick': null } } },
        contentType: 'application/merge-patch+json',
      });
      await waitFor('delete after label removal', () => events.find((e) => e.type === 'delete' && e.object.metadata.name === 'labelled'));
      assert.equal(reflector.get(ns, 'labelled'), undefined);
      assert.deepEqual(reflector.byIndex(ns), []);
    } finally {
      await reflector.stop();
    }
  });

  test('field selector limits the watch', async () => {
    const ns = await cluster.newNamespace('kube-field');
    const reflector = new Reflector<ConfigMap>({ client, resource: CONFIGMAPS, namespace: ns, fieldSelector: 'metadata.name=wanted' });
    reflector.start();
    try {
      await reflector.waitForSync();
      await createConfigMap(configMap(ns, 'unwanted', {}));
      await createConfigMap(configMap(ns, 'wanted', {}));
      await waitFor('wanted', () => reflector.get(ns, 'wanted'));
      assert.equal(reflector.get(ns, 'unwanted'), undefined);
    } finally {
      await reflector.stop();
    }
  });

  test('after stop() and start() it resumes from its resourceVersion and reports what it missed', async () => {
    const ns = await cluster.newNamespace('kube-resume');
    await createConfigMap(configMap(ns, 'stays', {}));
    await createConfigMap(configMap(ns, 'goes', {}));
    const reflector = new Reflector<ConfigMap>({ client, resource: CONFIGMAPS, namespace: ns });
    const events: StoreEvent<ConfigMap>[] = [];
    reflector.on((e) => events.push(e));
    reflector.start();
    await reflector.waitForSync();
    await reflector.stop();
    const listsBefore = reflector.stats.lists;

    await client.json({ method: 'DELETE', path: resourcePath(CONFIGMAPS, { namespace: ns, name: 'goes' }) });
    await createConfigMap(configMap(ns, 'new', {}));
    events.length = 0;
    reflector.start();
    try {
      await waitFor('missed delete', () => events.find((e) => e.type === 'delete' && e.object.metadata.name === 'goes'));
      await waitFor('missed add', () => events.find((e) => e.type === 'add' && e.object.metadata.name === 'new'));
      assert.equal(reflector.stats.lists, listsBefore, 'resumed by watching, not by listing again');
      assert.ok(reflector.get(ns, 'stays'));
    } finally {
      await reflector.stop();
    }
  });

  test('a silent watch connection is dropped after the inactivity timeout and reopened without losing events', async () => {
    const ns = await cluster.newNamespace('kube-idle');
    const reflector = new Reflector<ConfigMap>({ client, resource: CONFIGMAPS, namespace: ns, inactivityTimeoutMs: 1000, backoff: { initialMs: 50, maxMs: 200 } });
    reflector.start();
    try {
      await reflector.waitForSync();
      await waitFor('a reconnect', () => reflector.stats.watches >= 3);
      await createConfigMap(configMap(ns, 'after-reconnects', { a: 'b' }));
      await waitFor('event after reconnects', () => reflector.get(ns, 'after-reconnects'));
      assert.equal(reflector.stats.lists, 1, 'reconnects resume the watch, no relist');
    } finally {
      await reflector.stop();
    }
  });
});

describe('apply and delete', () => {
  test('server-side apply uses field manager trust-manager with force, and can answer with metadata only', async () => {
    const ns = await cluster.newNamespace('kube-apply');
    const before = writes.length;
    const full = await applier.apply<ConfigMap>(CONFIGMAPS, configMap(ns, 'ssa', { key: 'value' }));
    assert.equal(full.data?.key, 'value');
    const managers = full.metadata.managedFields?.map((m) => `${m.manager}/${m.operation}`);
    assert.deepEqual(managers, [`${FIELD_MANAGER}/Apply`]);

    // Another manager takes the key; force=true takes it back.
    await client.json({
      method: 'PATCH',
      path: resourcePath(CONFIGMAPS, { namespace: ns, name: 'ssa' }),
      query: { fieldManager: 'someone-else' },
      body: { data: { key: 'tampered' } },
      contentType: 'application/merge-patch+json',
    });
    const meta = await applier.apply(CONFIGMAPS, configMap(ns, 'ssa', { key: 'value' }), { metadataOnlyResponse: true });
    assert.equal(meta.kind, 'PartialObjectMetadata');
    assert.equal((meta as ConfigMap).data, undefined);
    const reread = await client.json<ConfigMap>({ path: resourcePath(CONFIGMAPS, { namespace: ns, name: 'ssa' }) });
    assert.equal(reread.data?.key, 'value');
    assert.deepEqual(
      writes.slice(before).map((w) => `${w.resource.kind}/${w.verb}/${w.ok}`),
      ['ConfigMap/apply/true', 'ConfigMap/apply/true'],
    );
  });

  test('bundles/status is applied through the status subresource', async () => {
    const name = uniqueName('kube-status');
    const bundle: Bundle = { apiVersion: API_VERSION, kind: KIND, metadata: { name }, spec: { sources: [{ inLine: 'x' }], target: { configMap: { key: 'k' } } } };
    await client.json({ method: 'POST', path: resourcePath(BUNDLES), body: bundle });
    try {
      const condition = { type: 'Synced', status: 'True', reason: 'Synced', message: 'ok', lastTransitionTime: '2026-01-01T00:00:00Z' };
      await applier.apply(BUNDLES, { apiVersion: API_VERSION, kind: KIND, metadata: { name }, status: { conditions: [condition] } } as KubeObject, { subresource: 'status' });
      const got = await client.json<Bundle>({ path: resourcePath(BUNDLES, { name }) });
      assert.deepEqual(got.status?.conditions, [condition]);
      assert.equal(got.metadata.generation, 1, 'a status write does not bump the generation');
    } finally {
      await client.json({ method: 'DELETE', path: resourcePath(BUNDLES, { name }) });
    }
  });

  test('delete reports already-gone objects and honours preconditions', async () => {
    const ns = await cluster.newNamespace('kube-delete');
    const created = await createConfigMap(configMap(ns, 'victim', {}));
    await assert.rejects(applier.delete(CONFIGMAPS, ns, 'victim', { resourceVersion: '1' }), (err: unknown) => isConflict(err));
    assert.equal(await applier.delete(CONFIGMAPS, ns, 'victim', { uid: created.metadata.uid, resourceVersion: created.metadata.resourceVersion }), true);
    assert.equal(await applier.delete(CONFIGMAPS, ns, 'victim'), false);
  });
});

describe('events', () => {
  test('an Event about a cluster-scoped Bundle lands in namespace default with the given fields', async () => {
    const name = uniqueName('kube-event');
    const recorder = new EventRecorder(client, { reportingInstance: 'bundles-test' });
    await recorder.record(
      { apiVersion: API_VERSION, kind: KIND, name, uid: '00000000-0000-0000-0000-000000000001' },
      { type: 'Warning', reason: 'SourceNotFound', action: 'SyncFailed', note: `Bundle source was not found: ${'é'.repeat(800)}` },
    );
    const list = await client.json<{ items: Array<Record<string, unknown> & { regarding: { name: string }; note: string }> }>({
      path: resourcePath(EVENTS, { namespace: 'default' }),
      query: { fieldSelector: `regarding.name=${name}` },
    });
    assert.equal(list.items.length, 1);
    const event = list.items[0]!;
    assert.equal(event.reason, 'SourceNotFound');
    assert.equal(event.action, 'SyncFailed');
    assert.equal(event.type, 'Warning');
    assert.equal(event.reportingController, 'bundles');
    assert.equal(event.reportingInstance, 'bundles-test');
    assert.equal(event.regarding.name, name);
    assert.ok(Buffer.byteLength(event.note) <= 1024 && event.note.startsWith('Bundle source was not found: é'), 'long notes are cut to the API limit');
  });
});

/** Lets one PUT reach the API server, then loses its answer, as a renew cut off by shutdown does. */
class LostAnswerClient extends KubeClient {
  loseNextPut = false;

  override async json<T>(req: KubeRequest): Promise<T> {
    const answer = await super.json<T>(req);
    if (req.method === 'PUT' && this.loseNextPut) {
      this.loseNextPut = false;
      throw new Error('the answer was lost');
    }
    return answer;
  }
}

describe('leader election', () => {
  const timing = { leaseDurationMs: 3000, renewDeadlineMs: 2000, retryPeriodMs: 300 };

  async function readLease(namespace: string): Promise<Lease> {
    return client.json<Lease>({ path: resourcePath(LEASES, { namespace, name: LEADER_ELECTION_LEASE_NAME }) });
  }

  test('one candidate leads; a successor takes over after the lease expires, or at once after a release', async () => {
    const ns = await cluster.newNamespace('kube-lease');
    const started: string[] = [];
    const make = (identity: string): LeaderElector =>
      new LeaderElector({ client, namespace: ns, identity, ...timing, onStartedLeading: () => started.push(identity), onStoppedLeading: () => undefined });

    const a = make('a');
    const b = make('b');
    const stopA = new AbortController();
    const stopB = new AbortController();
    const runA = a.run(stopA.signal);
    await waitFor('a leads', () => a.isLeader);
    const runB = b.run(stopB.signal);
    await sleep(timing.leaseDurationMs + 500);
    assert.deepEqual(started, ['a'], 'b does not lead while a renews');
    assert.equal((await readLease(ns)).spec?.holderIdentity, 'a');

    // a stops without releasing (like kill -9): b takes over once the lease runs out.
    stopA.abort();
    assert.equal(await runA, false);
    await waitFor('b leads', () => b.isLeader);
    const lease = await readLease(ns);
    assert.equal(lease.spec?.holderIdentity, 'b');
    assert.equal(lease.spec?.leaseTransitions, 1);
    assert.equal(lease.spec?.leaseDurationSeconds, 3);

    // b releases: the lease is free at once.
    stopB.abort();
    await runB;
    await b.release();
    assert.equal((await readLease(ns)).spec?.holderIdentity ?? '', '');
    const c = make('c');
    const stopC = new AbortController();
    const runC = c.run(stopC.signal);
    await waitFor('c leads', () => c.isLeader);
    stopC.abort();
    await runC;
    assert.deepEqual(started, ['a', 'b', 'c']);
  });

  test('a leader that cannot renew (someone else holds the lease) stops leading', async () => {
    const ns = await cluster.newNamespace('kube-lease-lost');
    let stopped = 0;
    const a = new LeaderElector({ client, namespace: ns, identity: 'a', ...timing, onStartedLeading: () => undefined, onStoppedLeading: () => stopped++ });
    const stop = new AbortController();
    const run = a.run(stop.signal);
    await waitFor('a leads', () => a.isLeader);
    // An intruder keeps rewriting the lease as its own (as a partitioned leader would observe it).
    const intruder = setInterval(() => {
      void client
        .json({
          method: 'PATCH',
          path: resourcePath(LEASES, { namespace: ns, name: LEADER_ELECTION_LEASE_NAME }),
          body: { spec: { holderIdentity: 'intruder', renewTime: new Date().toISOString().replace('Z', '000Z') } },
          contentType: 'application/merge-patch+json',
        })
        .catch(() => undefined);
    }, 200);
    try {
      assert.equal(await run, true, 'run() reports the lost leadership');
      assert.equal(a.isLeader, false);
      assert.equal(stopped, 1);
    } finally {
      clearInterval(intruder);
      stop.abort();
    }
  });

  test('releases the lease even when the last renew was written but its answer never arrived', async () => {
    const ns = await cluster.newNamespace('kube-lease-release');
    const lossy = new LostAnswerClient(cluster.kubeConfig);
    const a = new LeaderElector({ client: lossy, namespace: ns, identity: 'a', ...timing, onStartedLeading: () => undefined, onStoppedLeading: () => undefined });
    const stop = new AbortController();
    const run = a.run(stop.signal);
    try {
      await waitFor('a leads', () => a.isLeader);
      lossy.loseNextPut = true;
      await waitFor('a renew was written and its answer lost', () => !lossy.loseNextPut);
      stop.abort();
      await run;
      await a.release();
      assert.equal((await readLease(ns)).spec?.holderIdentity ?? '', '', 'the lease is free for a successor at once');
    } finally {
      stop.abort();
      await lossy.close();
    }
  });
});

/** A CONNECT proxy (as kubeconfig's proxy-url names) that records the tunnels it opens, or stalls them. */
async function startConnectProxy({ stall = false } = {}): Promise<{ url: string; tunnels: string[]; close: () => Promise<void> }> {
  const tunnels: string[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((_req, res) => res.writeHead(405).end());
  server.on('connect', (req, client: Socket, head: Buffer) => {
    tunnels.push(req.url ?? '');
    sockets.add(client);
    client.on('error', () => undefined);
    if (stall) return;
    const [host, port] = (req.url ?? '').split(':');
    const upstream = connect(Number(port), host, () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      upstream.write(head);
      upstream.pipe(client).pipe(upstream);
    });
    sockets.add(upstream);
    upstream.on('error', () => client.destroy());
    client.on('close', () => upstream.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    tunnels,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

describe('API client transport', () => {
  function clientVia(proxyUrl: string): KubeClient {
    const direct = connectionFromKubeConfig(cluster.kubeConfig);
    return new KubeClient({ ...direct, transport: async () => ({ ...(await direct.transport()), proxyUrl }) });
  }

  test('requests and watches go through the kubeconfig proxy-url, one pooled tunnel reused', async () => {
    const ns = await cluster.newNamespace('kube-proxy');
    const proxy = await startConnectProxy();
    const viaProxy = clientVia(proxy.url);
    try {
      for (let i = 0; i < 3; i++) {
        await viaProxy.json({ method: 'POST', path: resourcePath(CONFIGMAPS, { namespace: ns }), body: configMap(ns, `p-${i}`, { i: String(i) }) });
      }
      const list = await viaProxy.json<{ items: ConfigMap[] }>({ path: resourcePath(CONFIGMAPS, { namespace: ns }) });
      assert.deepEqual(list.items.map((o) => o.metadata.name).filter((n) => n.startsWith('p-')).sort(), ['p-0', 'p-1', 'p-2']);
      assert.equal(proxy.tunnels.length, 1, 'sequential requests reuse one kept-alive tunnel');
      assert.equal(proxy.tunnels[0], new URL(cluster.kubeConfig.getCurrentCluster()!.server).host);

      const reflector = new Reflector<ConfigMap>({ client: viaProxy, resource: CONFIGMAPS, namespace: ns });
      const events: StoreEvent<ConfigMap>[] = [];
      reflector.on((e) => events.push(e));
      reflector.start();
      try {
        await reflector.waitForSync();
        await createConfigMap(configMap(ns, 'live', { v: '1' }));
        await waitFor('the watch through the proxy sees the add', () => events.find((e) => e.type === 'add' && e.object.metadata.name === 'live'));
      } finally {
        await reflector.stop();
      }
    } finally {
      await viaProxy.close();
      await proxy.close();
    }
  });

  test('a request whose answer does not start in time fails with the headers timeout', async () => {
    const proxy = await startConnectProxy({ stall: true });
    const viaProxy = clientVia(proxy.url);
    try {
      await assert.rejects(viaProxy.json({ path: '/version', headersTimeoutMs: 300 }), /no answer from the API server within 300 ms/);
    } finally {
      await viaProxy.close();
      await proxy.close();
    }
  });

  test('a watch that goes silent fails with the body timeout; an aborted one stops at once', async () => {
    const ns = await cluster.newNamespace('kube-silent');
    const silent = await client.stream({ path: resourcePath(CONFIGMAPS, { namespace: ns }), query: { watch: 1, fieldSelector: 'metadata.name=nothing' }, bodyTimeoutMs: 300 });
    await assert.rejects(async () => {
      for await (const _ of silent) assert.fail('no events expected');
    }, /the API server sent nothing for 300 ms/);

    const stop = new AbortController();
    const watch = await client.stream({ path: resourcePath(CONFIGMAPS, { namespace: ns }), query: { watch: 1, fieldSelector: 'metadata.name=nothing' }, signal: stop.signal });
    setTimeout(() => stop.abort(), 100);
    await assert.rejects(async () => {
      for await (const _ of watch) assert.fail('no events expected');
    }, { name: 'AbortError' });
  });

  test('a large RawBody is written piece by piece and arrives whole', async () => {
    const ns = await cluster.newNamespace('kube-raw');
    const value = 'x'.repeat(900 * 1024);
    const body = new RawBody([Buffer.from(`{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"big","namespace":"${ns}"},"data":{"v":"`), Buffer.from(value), Buffer.from('"}}')]);
    await client.json({ method: 'POST', path: resourcePath(CONFIGMAPS, { namespace: ns }), body });
    const stored = await client.json<ConfigMap>({ path: resourcePath(CONFIGMAPS, { namespace: ns, name: 'big' }) });
    assert.equal(stored.data?.v, value);
  });
});
