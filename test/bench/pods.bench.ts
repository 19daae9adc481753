// The release as pods on the test node (the images built from the Dockerfile):
//   TM_NODE=1 TM_INSTALL_CRD=0 bash test/cluster/with-cluster.sh node test/bench/pods.bench.ts [namespaces]   (default 1000)
// Measures the time from `helm install` to every pod Ready, and the controller container's memory as the
// node's cgroup accounts it (memory.stat rss and the working set kubelet reports), at idle and after a
// rollout of a Bundle (the machine's Debian bundle as the default CAs plus a private CA, PEM + JKS) to N
// namespaces. Prints a Markdown table.
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import https from 'node:https';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CoreV1Api, type V1Pod } from '@kubernetes/client-node';
import { useCluster, waitFor } from '../cluster/harness.ts';
import { readImages } from '../cluster/images.ts';
import { installCertManagerCRDs, issueCertificatesAndInjectCA } from '../e2e/support/cert-manager.ts';
import { CHART_DIR } from '../e2e/support/trust-manager.ts';
import { RELEASE, RELEASE_NAMESPACE as NAMESPACE, bundle, kubectlApply } from '../e2e/support/journeys.ts';
import { CONTROLLER, WEBHOOK, rolledOut } from '../pods/support.ts';
import { makeCA } from '@trust-manager/shared/certs/testing/fixtures.ts';
import { BUNDLE_LABEL } from '@trust-manager/shared/api/constants.ts';

const COUNT = Number(process.argv[2] ?? 1000);
const log = (line: string): void => void process.stderr.write(`[bench] ${line}\n`);
const rows: Array<[string, string]> = [];

/** The memory cgroup (v1) of a pod's first container: kubelet puts it under the node's cgroup root. */
function memoryCgroup(pod: V1Pod): string {
  const containerId = pod.status!.containerStatuses![0]!.containerID!.replace(/^containerd:\/\//, '');
  const root = join('/sys/fs/cgroup/memory', `tm-node-${process.env.TM_NETNS_PID ?? ''}`);
  const find = (dir: string): string | undefined => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (!entry.isDirectory()) continue;
      if (entry.name === containerId) return join(dir, entry.name);
      const found = find(join(dir, entry.name));
      if (found) return found;
    }
    return undefined;
  };
  const dir = existsSync(root) ? find(root) : undefined;
  if (!dir) throw new Error(`no memory cgroup for container ${containerId} under ${root}`);
  return dir;
}

/** rss (anonymous memory) and the working set (usage minus inactive file pages, as kubelet computes it). */
function memory(cgroup: string): { rss: number; workingSet: number } {
  const stat = Object.fromEntries(readFileSync(join(cgroup, 'memory.stat'), 'utf8').trim().split('\n').map((l) => {
    const [k, v] = l.split(' ');
    return [k!, Number(v)];
  }));
  const usage = Number(readFileSync(join(cgroup, 'memory.usage_in_bytes'), 'utf8'));
  return { rss: stat.total_rss ?? stat.rss ?? 0, workingSet: usage - (stat.total_inactive_file ?? 0) };
}

/** Median of samples a second apart: one sample catches a collection in progress. */
async function settledMemory(cgroup: string, samples = 7): Promise<{ rss: number; workingSet: number }> {
  const taken: Array<{ rss: number; workingSet: number }> = [];
  for (let i = 0; i < samples; i++) {
    taken.push(memory(cgroup));
    await sleep(1000);
  }
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
  return { rss: median(taken.map((m) => m.rss)), workingSet: median(taken.map((m) => m.workingSet)) };
}

/** Counts a Bundle's ConfigMap targets from their metadata only (the targets themselves are large). */
async function countTargets(bundleName: string): Promise<number> {
  const options: https.RequestOptions = {};
  await cluster.kubeConfig.applyToHTTPSOptions(options);
  const server = new URL(cluster.kubeConfig.getCurrentCluster()!.server);
  const path = `/api/v1/configmaps?labelSelector=${encodeURIComponent(`${BUNDLE_LABEL}=${bundleName}`)}`;
  const body = await new Promise<string>((resolve, reject) => {
    const req = https.request({ ...options, hostname: server.hostname, port: server.port, path, headers: { ...options.headers, accept: 'application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1' } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => resolve(text));
    });
    req.on('error', reject);
    req.end();
  });
  return (JSON.parse(body) as { items: unknown[] }).items.length;
}

const mb = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`;
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

const cluster = await useCluster();
const images = readImages();
await installCertManagerCRDs(cluster);
await cluster.kubectl(['create', 'namespace', NAMESPACE]);

const installStarted = Date.now();
await cluster.helm(['install', '-n', NAMESPACE, RELEASE, CHART_DIR]);
await issueCertificatesAndInjectCA(cluster, NAMESPACE);
const [controller] = await rolledOut(cluster, CONTROLLER);
await rolledOut(cluster, WEBHOOK);
rows.push(['helm install to all pods Ready (1 controller, 2 webhook; the stand-in cert-manager issues the webhook certificate)', seconds(Date.now() - installStarted)]);
log(`pods Ready; image ${images.operator.ref}`);

const cgroup = memoryCgroup(controller!);
const idle = await settledMemory(cgroup);
rows.push(['controller container at idle: rss / working set', `${mb(idle.rss)} / ${mb(idle.workingSet)}`]);

const core = cluster.kubeConfig.makeApiClient(CoreV1Api);
const names = Array.from({ length: COUNT }, (_, i) => `pods-bench-${i}`);
for (let i = 0; i < names.length; i += 25) {
  await Promise.all(names.slice(i, i + 25).map((name) => core.createNamespace({ body: { metadata: { name, labels: { 'pods-bench': 'yes' } } } })));
}
log(`${COUNT} namespaces created`);

const ca = await makeCA({ cn: 'pods-bench' });
const rolloutStarted = Date.now();
await kubectlApply(cluster, bundle('pods-bench', {
  sources: [{ useDefaultCAs: true }, { inLine: ca.pem }],
  target: { configMap: { key: 'ca-certificates.crt' }, additionalFormats: { jks: { key: 'truststore.jks' } }, namespaceSelector: { matchLabels: { 'pods-bench': 'yes' } } },
}));
await waitFor(`${COUNT} targets`, async () => (await countTargets('pods-bench')) >= COUNT || undefined, 900_000);
rows.push([`rollout to ${COUNT} namespaces (Bundle applied to every target written)`, seconds(Date.now() - rolloutStarted)]);
const after = await settledMemory(cgroup);
rows.push([`controller container after the ${COUNT}-namespace rollout: rss / working set`, `${mb(after.rss)} / ${mb(after.workingSet)}`]);

console.log(`\n\`TM_NODE=1 TM_INSTALL_CRD=0 bash test/cluster/with-cluster.sh node test/bench/pods.bench.ts ${COUNT}\`\n`);
console.log('| what | figure |\n|---|---:|');
for (const [what, figure] of rows) console.log(`| ${what} | ${figure} |`);
process.exit(0);
