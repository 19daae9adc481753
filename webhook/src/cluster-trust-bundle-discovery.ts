// The webhook's only Kubernetes API access, loaded only with --cluster-trust-bundles-enabled: API
// discovery (readable by every authenticated identity through system:discovery) with the cluster
// layer's client, in-cluster credentials or --kubeconfig.
import { KubeClient } from '@trust-manager/shared/kube/client.ts';
import { isResourceServed } from '@trust-manager/shared/kube/discovery.ts';
import { CLUSTER_TRUST_BUNDLES } from '@trust-manager/shared/kube/resource.ts';
import type { ClusterTrustBundleDiscovery } from './cluster-trust-bundle-api.ts';

export function clusterTrustBundleDiscovery(kubeconfig: string): ClusterTrustBundleDiscovery {
  const client = KubeClient.load(kubeconfig === '' ? undefined : kubeconfig);
  return { served: () => isResourceServed(client, CLUSTER_TRUST_BUNDLES), close: () => client.close() };
}
