// Startup discovery of the ClusterTrustBundle API (beta, off by default in Kubernetes): decides
// whether the controller watches ClusterTrustBundles, and what a Bundle that asks for them is told.
// A definite answer is waited for (retrying with backoff), since guessing wrong either breaks the
// caches (watching an API that is not there) or tells users to enable an API that is enabled.
import type { Logger } from 'pino';
import { CTB_API_ENABLE_HINT } from '@trust-manager/shared/api/cluster-trust-bundle.ts';
import { ExponentialBackoff, sleep } from '@trust-manager/shared/kube/backoff.ts';
import type { KubeClient } from '@trust-manager/shared/kube/client.ts';
import { isResourceServed } from '@trust-manager/shared/kube/discovery.ts';
import { CLUSTER_TRUST_BUNDLES } from '@trust-manager/shared/kube/resource.ts';
import type { ClusterTrustBundleAvailability } from './core/cluster-trust-bundles.ts';

export async function discoverClusterTrustBundles(client: KubeClient, enabled: boolean, log: Logger, signal?: AbortSignal): Promise<ClusterTrustBundleAvailability> {
  if (!enabled) return 'disabled';
  const backoff = new ExponentialBackoff({ initialMs: 500, maxMs: 30_000 });
  for (;;) {
    try {
      if (await isResourceServed(client, CLUSTER_TRUST_BUNDLES, signal)) {
        log.info('ClusterTrustBundle API served: syncing clusterTrustBundle targets and sources');
        return 'available';
      }
      log.warn({ hint: CTB_API_ENABLE_HINT }, 'ClusterTrustBundle support is enabled but the API is not served: Bundles that use ClusterTrustBundles will report it');
      return 'unavailable';
    } catch (err) {
      if (signal?.aborted) throw err;
      const delay = backoff.next();
      log.warn({ err: err instanceof Error ? err.message : String(err), retryInMs: delay }, 'ClusterTrustBundle API discovery failed, retrying');
      await sleep(delay, signal);
    }
  }
}
