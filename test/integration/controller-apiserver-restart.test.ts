// The controller across a kube-apiserver restart, on a private control plane (restarting the shared
// one would disturb other tests): its watches resume by themselves, and changes made after the restart
// still reach every target.
//   bash test/cluster/with-cluster.sh node --test test/integration/controller-apiserver-restart.test.ts
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { KubeConfig } from '@kubernetes/client-node';
import { makeCA, type TestCertificate } from '@trust-manager/shared/certs/testing/fixtures.ts';
import { KubeClient } from '@trust-manager/shared/kube/client.ts';
import { NAMESPACES, resourcePath } from '@trust-manager/shared/kube/resource.ts';
import { ControlPlane } from '../cluster/control-plane.ts';
import { resolveBinDir } from '../cluster/testbin.ts';
import { installBundleCRDFromPath } from '../cluster/harness.ts';
import { startController, TestKube, waitFor, type ControllerProcess } from './controller-support.ts';

const SELECT = 'restart-test.trust-manager.io/select';
let plane: ControlPlane;
let kube: TestKube;
let controller: ControllerProcess | undefined;

before(async () => {
  plane = await ControlPlane.start({ binDir: resolveBinDir(), startControllerManager: false, beforeControllerManager: (p) => installBundleCRDFromPath(p.kubeconfigPath) });
  const kc = new KubeConfig();
  kc.loadFromFile(plane.kubeconfigPath);
  kube = new TestKube(new KubeClient(kc));
});

after(async () => {
  await controller?.kill9();
  await kube?.client.close();
  await plane?.stop();
});

async function createNamespace(name: string): Promise<void> {
  await kube.client.json({ method: 'POST', path: resourcePath(NAMESPACES), body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels: { [SELECT]: 'yes' } } } });
}

function holds(pem: string | undefined, cert: TestCertificate): boolean {
  return pem?.includes(cert.pem.split('\n').slice(1, 3).join('\n')) ?? false;
}

test('after a kube-apiserver restart the watches resume and later Bundle and namespace changes still sync', async () => {
  const before = await makeCA({ cn: 'before-restart' });
  const afterRestart = await makeCA({ cn: 'after-restart' });
  await createNamespace('trust');
  await createNamespace('team-1');
  const spec = (cert: TestCertificate) => ({ sources: [{ inLine: cert.pem }], target: { configMap: { key: 'ca.pem' }, namespaceSelector: { matchLabels: { [SELECT]: 'yes' } } } });
  await kube.applyBundle('restart', spec(before));
  controller = await startController(plane.kubeconfigPath, ['--trust-namespace=trust', '--leader-elect=false']);
  await waitFor('the first target', async () => (holds((await kube.configMap('team-1', 'restart'))?.data?.['ca.pem'], before) ? true : undefined));

  await plane.restartApiServer();

  await kube.applyBundle('restart', spec(afterRestart));
  await createNamespace('team-2');
  for (const ns of ['team-1', 'team-2']) {
    await waitFor(`the new certificate in ${ns}`, async () => (holds((await kube.configMap(ns, 'restart'))?.data?.['ca.pem'], afterRestart) ? true : undefined), 120_000);
  }
  const condition = await kube.waitForCondition('restart', 'Synced');
  assert.equal(condition.status, 'True');
  assert.equal(controller.child.exitCode, null, 'the controller kept running through the restart');
});
