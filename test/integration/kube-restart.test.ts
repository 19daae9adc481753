// Reflectors across a kube-apiserver restart, on a private control plane (restarting the shared one
// would disturb other tests). After a restart the API server's watch cache starts afresh, so a
// watch from an older resourceVersion is answered with 410 Gone: the reflector must list again and
// report what it missed as events, and a running reflector must reconnect by itself.
//   node --test test/integration/kube-restart.test.ts   (needs the test binaries; see test/cluster)
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { KubeConfig } from '@kubernetes/client-node';
import { KubeClient } from '@trust-manager/shared/kube/client.ts';
import type { KubeObject } from '@trust-manager/controller/kube/object.ts';
import { Reflector } from '@trust-manager/controller/kube/reflector.ts';
import { CONFIGMAPS, resourcePath } from '@trust-manager/shared/kube/resource.ts';
import type { StoreEvent } from '@trust-manager/controller/kube/store.ts';
import { ControlPlane } from '../cluster/control-plane.ts';
import { resolveBinDir } from '../cluster/testbin.ts';
import { waitFor } from '../cluster/harness.ts';

let plane: ControlPlane;
let client: KubeClient;


function create(name: string): Promise<KubeObject> {
  return client.json({ method: 'POST', path: resourcePath(CONFIGMAPS, { namespace: 'default' }), body: { metadata: { name } } });
}

before(async () => {
  // Inside the test network namespace there is no default route: advertise the address lo carries.
  const advertiseAddress = process.env.TM_LOCAL_ADDRESS || undefined;
  plane = await ControlPlane.start({ binDir: resolveBinDir(), startControllerManager: false, ...(advertiseAddress ? { advertiseAddress } : {}) });
  const kc = new KubeConfig();
  kc.loadFromFile(plane.kubeconfigPath);
  client = new KubeClient(kc);
});

after(async () => {
  await client?.close();
  await plane?.stop();
});

test('410 Gone after an API server restart: list again, report missed deletes and adds; running reflectors reconnect', async () => {
  await create('doomed');
  await create('stays');
  const resumed = new Reflector<KubeObject>({ client, resource: CONFIGMAPS, namespace: 'default' });
  const resumedEvents: StoreEvent<KubeObject>[] = [];
  resumed.on((e) => resumedEvents.push(e));
  resumed.start();
  await resumed.waitForSync();
  await resumed.stop();

  const running = new Reflector<KubeObject>({ client, resource: CONFIGMAPS, namespace: 'default', backoff: { initialMs: 100, maxMs: 1000 } });
  running.start();
  await running.waitForSync();

  // Changes the stopped reflector does not see, then a restart that empties the watch cache.
  await client.json({ method: 'DELETE', path: resourcePath(CONFIGMAPS, { namespace: 'default', name: 'doomed' }) });
  await create('born');
  await plane.restartApiServer();

  try {
    resumed.start();
    await waitFor('missed delete', () => resumedEvents.find((e) => e.type === 'delete' && e.object.metadata.name === 'doomed'));
    await waitFor('missed add', () => resumedEvents.find((e) => e.type === 'add' && e.object.metadata.name === 'born'));
    assert.equal(resumed.stats.relistsAfterGone, 1, 'the resumed watch was answered with 410 and listed again');
    assert.equal(resumed.stats.lists, 2);
    assert.ok(resumed.get('default', 'stays'), 'unchanged objects stay');
    assert.equal(resumedEvents.filter((e) => e.object.metadata.name === 'stays').length, 1, 'unchanged objects raise no event on relist (only the initial add)');

    // The reflector that was watching when the server went away comes back by itself.
    await create('after-restart');
    await waitFor('event after restart', () => running.get('default', 'after-restart'));
    assert.equal(running.get('default', 'doomed'), undefined);
    assert.ok(running.stats.errors + running.stats.relistsAfterGone >= 1, 'the dropped connection was noticed');
  } finally {
    await resumed.stop();
    await running.stop();
  }
});
