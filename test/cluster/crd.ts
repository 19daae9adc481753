// Installs the Bundle CRD (generated from the one schema in shared/api) and waits until it is served.
import { KubernetesObjectApi, PatchStrategy, ApiextensionsV1Api, type KubeConfig, type KubernetesObject } from '@kubernetes/client-node';
import { setTimeout as sleep } from 'node:timers/promises';
import { bundleCrd } from '@trust-manager/shared/api/crd.ts';
import { CRD_NAME } from '@trust-manager/shared/api/constants.ts';

/** Server-side apply of any object as the test's own field manager. */
export async function applyObject<T extends KubernetesObject>(kc: KubeConfig, object: T, fieldManager = 'trust-manager-tests'): Promise<T> {
  const api = KubernetesObjectApi.makeApiClient(kc);
  return api.patch(object, undefined, undefined, fieldManager, true, PatchStrategy.ServerSideApply);
}

export async function installBundleCRD(kc: KubeConfig, timeoutMs = 30_000): Promise<void> {
  await applyObject(kc, bundleCrd as unknown as KubernetesObject);
  const api = kc.makeApiClient(ApiextensionsV1Api);
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const crd = await api.readCustomResourceDefinition({ name: CRD_NAME });
    if (crd.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True')) return;
    await sleep(100);
  }
  throw new Error(`CRD ${CRD_NAME} not Established within ${timeoutMs} ms`);
}
