// Leader election between controller replicas, against a real control plane: only the leader
// reconciles (the other keeps warm caches and writes nothing); after kill -9 of the leader the other
// takes over once the lease runs out; after SIGTERM the lease is released and taken over at once.
//   bash test/cluster/with-cluster.sh node --test test/integration/controller-leader.test.ts
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { hostname } from 'node:os';
import { LEADER_ELECTION_LEASE_NAME } from '@trust-manager/shared/api/constants.ts';
import { makeCA, type TestCertificate } from '@trust-manager/shared/certs/testing/fixtures.ts';
import { KubeClient } from '@trust-manager/shared/kube/client.ts';
import type { Lease } from '@trust-manager/controller/kube/leader-election.ts';
import { BUNDLES, LEASES } from '@trust-manager/shared/kube/resource.ts';
import { useCluster, uniqueName, type TestCluster } from '../cluster/harness.ts';
import { fastLeaderElectionFlags, startController, TestKube, waitFor, type ControllerProcess } from './controller-support.ts';

const SELECT = 'leader-test.trust-manager.io/select';

let cluster: TestCluster;
let kube: TestKube;
let trustNs: string;
let leaseNs: string;
let targetNs: string;
let selectValue: string;
let ca1: TestCertificate;
let ca2: TestCertificate;
let ca3: TestCertificate;
const running: ControllerProcess[] = [];

async function replica(): Promise<ControllerProcess> {
  const proc = await startController(cluster.kubeconfigPath, [`--trust-namespace=${trustNs}`, ...fastLeaderElectionFlags(leaseNs)]);
  running.push(proc);
  return proc;
}

async function lease(): Promise<Lease | undefined> {
  return kube.get<Lease>(LEASES, leaseNs, LEADER_ELECTION_LEASE_NAME);
}

function acquired(proc: ControllerProcess): boolean {
  return proc.logs.some((line) => line.msg === 'acquired leadership');
}

async function targetHas(name: string, cert: TestCertificate): Promise<boolean | undefined> {
  const body = cert.pem.split('\n').slice(1, 3).join('\n');
  return (await kube.configMap(targetNs, name))?.data?.['ca.pem']?.includes(body) || undefined;
}

before(async () => {
  cluster = await useCluster();
  await cluster.installBundleCRD();
  kube = new TestKube(new KubeClient(cluster.kubeConfig));
  ca1 = await makeCA({ cn: 'leader-1' });
  ca2 = await makeCA({ cn: 'leader-2' });
  ca3 = await makeCA({ cn: 'leader-3' });
  trustNs = await cluster.newNamespace('lead-trust');
  leaseNs = await cluster.newNamespace('lead-lease');
  selectValue = uniqueName('lead');
  targetNs = await cluster.newNamespace('lead-target', { [SELECT]: selectValue });
});

after(async () => {
  for (const proc of running) await proc.kill9();
  await kube?.client.close();
});

test('one replica reconciles; kill -9 hands over after the lease expires; SIGTERM releases at once', async () => {
  const name = uniqueName('leader');
  const spec = (ca: TestCertificate) => ({ sources: [{ inLine: ca.pem }], target: { configMap: { key: 'ca.pem' }, namespaceSelector: { matchLabels: { [SELECT]: selectValue } } } });

  const a = await replica();
  await a.waitForLog('a leads', (line) => line.msg === 'acquired leadership');
  const b = await replica();
  await waitFor('b ready (caches synced on a follower too)', () => b.ready());
  const held = await lease();
  assert.match(held?.spec?.holderIdentity ?? '', new RegExp(`^${hostname()}_[0-9a-f-]{36}$`), 'identity is hostname_uuid');
  assert.equal(held?.spec?.leaseDurationSeconds, 4);

  await kube.applyBundle(name, spec(ca1));
  await waitFor('synced by the leader', () => targetHas(name, ca1));
  await kube.waitForCondition(name, 'Synced');
  assert.equal(await a.metric('trust_manager_leader'), 1);
  assert.equal(await b.metric('trust_manager_leader'), 0);
  assert.ok((await a.metric('trust_manager_api_writes_total')) > 0);
  assert.equal(await b.metric('trust_manager_api_writes_total'), 0, 'the follower writes nothing');
  assert.equal(await b.metric('trust_manager_reconcile_total'), 0, 'the follower reconciles nothing');
  assert.equal(acquired(b), false);

  // The leader dies without releasing: the follower takes over once the lease has expired.
  const killedAt = Date.now();
  await a.kill9();
  await kube.applyBundle(name, spec(ca2));
  await b.waitForLog('b takes over', (line) => line.msg === 'acquired leadership', 30_000);
  const takeoverMs = Date.now() - killedAt;
  await waitFor('change applied by the new leader', () => targetHas(name, ca2));
  assert.equal((await lease())?.spec?.leaseTransitions, 1);
  process.stdout.write(`# takeover after kill -9: ${takeoverMs} ms (lease duration 4 s)\n`);

  // A third replica waits; SIGTERM of the leader releases the lease, so it takes over at once.
  const c = await replica();
  await waitFor('c ready', () => c.ready());
  const exit = await b.stop();
  assert.deepEqual(exit, { code: 0, signal: null });
  assert.ok(b.logs.some((line) => line.msg === 'released the lease'));
  await c.waitForLog('c takes over', (line) => line.msg === 'acquired leadership', 30_000);
  await kube.applyBundle(name, spec(ca3));
  await waitFor('change applied by the third leader', () => targetHas(name, ca3));
  await kube.delete(BUNDLES, undefined, name);
  assert.deepEqual(await c.stop(), { code: 0, signal: null });
});
