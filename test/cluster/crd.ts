// Installs the Bundle CRD (generated from the one schema in shared/api) and waits until it is served.
import { ApiextensionsV1Api, type KubeConfig, type KubernetesObject } from '@kubernetes/client-node';
import { execFile } from 'node:child_process';
import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveBinDir } from './testbin.ts';
import { setTimeout as sleep } from 'node:timers/promises';
import { bundleCrd } from '@trust-manager/shared/api/crd.ts';
import { CRD_NAME } from '@trust-manager/shared/api/constants.ts';

/**
 * Server-side apply of any object as the test's own field manager. Through kubectl, because
 * client-node serialises objects through its typed models, which silently drop keys such as
 * x-kubernetes-preserve-unknown-fields and x-kubernetes-validations.
 */
export async function applyObject<T extends KubernetesObject>(kc: KubeConfig, object: T, fieldManager = 'trust-manager-tests'): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'tm-apply-'));
  const kubeconfig = join(dir, 'kubeconfig');
  writeFileSync(kubeconfig, kc.exportConfig(), { mode: 0o600 });
  try {
    const stdout = await new Promise<string>((resolve, reject) => {
      const child = execFile(
        join(resolveBinDir(), 'kubectl'),
        ['apply', '--kubeconfig', kubeconfig, '--server-side', '--force-conflicts', `--field-manager=${fieldManager}`, '-o', 'json', '-f', '-'],
        { maxBuffer: 64 * 1024 * 1024 },
        (err, out, errOut) => (err ? reject(new Error(`kubectl apply of ${object.kind} ${object.metadata?.name}: ${errOut || err.message}`)) : resolve(out)),
      );
      child.stdin?.end(JSON.stringify(object));
    });
    return JSON.parse(stdout) as T;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
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
