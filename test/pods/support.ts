// Reading the release's pods on the test node: which are Ready, when a Deployment has rolled out, and
// running a command in a container whose image has no shell.
import { CoreV1Api, type V1Pod } from '@kubernetes/client-node';
import { waitFor, type TestCluster } from '../cluster/harness.ts';
import { RELEASE_NAMESPACE } from '../e2e/support/journeys.ts';

export const CONTROLLER = 'trust-manager';
export const WEBHOOK = 'trust-manager-webhook';

export const isReady = (pod: V1Pod) => pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true;

/** The pods of a Deployment (by its `app` label) that are not being deleted. */
export async function livePods(cluster: TestCluster, app: string, namespace = RELEASE_NAMESPACE): Promise<V1Pod[]> {
  const core = cluster.kubeConfig.makeApiClient(CoreV1Api);
  const list = await core.listNamespacedPod({ namespace, labelSelector: `app=${app}` });
  return list.items.filter((p) => !p.metadata?.deletionTimestamp);
}

/** Waits until the Deployment has rolled out completely: every replica updated and Ready, and no old pod left. */
export async function rolledOut(cluster: TestCluster, name: string, namespace = RELEASE_NAMESPACE): Promise<V1Pod[]> {
  await cluster.kubectl(['rollout', 'status', '-n', namespace, `deployment/${name}`, '--timeout=180s']);
  return waitFor(`only ready pods of ${name}`, async () => {
    const core = cluster.kubeConfig.makeApiClient(CoreV1Api);
    const all = (await core.listNamespacedPod({ namespace, labelSelector: `app=${name}` })).items;
    return all.length > 0 && all.every((p) => isReady(p) && !p.metadata?.deletionTimestamp) ? all : undefined;
  });
}

/** Runs a script in a pod's first container with the container's own node binary (the image has no shell). */
export async function nodeEval(cluster: TestCluster, pod: V1Pod, script: string): Promise<string> {
  const container = pod.spec!.containers[0]!;
  const node = container.command?.[0] ?? 'node';
  return (await cluster.kubectl(['exec', '-n', pod.metadata!.namespace!, pod.metadata!.name!, '-c', container.name, '--', node, '-e', script])).stdout;
}
