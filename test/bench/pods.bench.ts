// The release as pods on the test node (the images built from the Dockerfile):
//   TM_NODE=1 TM_INSTALL_CRD=0 bash test/cluster/with-cluster.sh node test/bench/pods.bench.ts [namespaces]   (default 1000)
//   TM_UPSTREAM_IMAGE=1 TM_NODE=1 TM_INSTALL_CRD=0 bash test/cluster/with-cluster.sh node test/bench/pods.bench.ts 1000 --upstream --unrelated 2000
// Measures the time from `helm install` to every pod Ready, then runs each subject's controller pod in turn:
// this project's (the chart's Deployment) and, with --upstream, upstream trust-manager's binary in an image
// of its own (test/cluster/build-upstream.sh --image), in a Deployment made from the chart's with upstream's
// image and flags. For each: scale-up to /readyz 200 (polled every 2 ms on the pod IP) and to the Pod's
// Ready condition (kubelet's probe: initial delay 3 s, period 7 s in both charts); the container's memory as
// the node's cgroup accounts it (memory.stat rss, and the working set kubelet and `kubectl top` report) at
// idle, after a Bundle (the machine's Debian bundle as the default CAs plus a private CA, PEM + JKS) has
// been written to N namespaces, and after a restart with those targets synced (and --unrelated 100 KB
// ConfigMaps in the cluster). First, the runtime's floor: a pod of our image running node with the
// controller's flags and one TLS connection to the API server, nothing else. Prints a Markdown table.
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { AppsV1Api, CoordinationV1Api, CoreV1Api, type V1Deployment, type V1Pod, type V1PodTemplateSpec } from '@kubernetes/client-node';
import { useCluster, waitFor } from '../cluster/harness.ts';
import { readImages } from '../cluster/images.ts';
import { applyObject } from '../cluster/crd.ts';
import { installCertManagerCRDs, issueCertificatesAndInjectCA } from '../e2e/support/cert-manager.ts';
import { CHART_DIR } from '../e2e/support/trust-manager.ts';
import { UPSTREAM_IMAGE, UPSTREAM_VERSION } from '../e2e/support/upstream.ts';
import { RELEASE, RELEASE_NAMESPACE as NAMESPACE, bundle, kubectlApply } from '../e2e/support/journeys.ts';
import { CONTROLLER, WEBHOOK, isReady, livePods, rolledOut } from '../pods/support.ts';
import { createNamespaces, createUnrelatedConfigMaps, pollUntilReady, UNRELATED_SIZE } from './support.ts';
import { makeCA } from '@trust-manager/shared/certs/testing/fixtures.ts';
import { BUNDLE_LABEL, LEADER_ELECTION_LEASE_NAME } from '@trust-manager/shared/api/constants.ts';
import { KubeClient } from '@trust-manager/shared/kube/client.ts';
import { CONFIGMAPS, resourcePath } from '@trust-manager/shared/kube/resource.ts';
import { ACCEPT_METADATA_LIST } from '@trust-manager/controller/kube/reflector.ts';

const { values: args, positionals } = parseArgs({
  options: { upstream: { type: 'boolean', default: false }, unrelated: { type: 'string', default: '0' } },
  allowPositionals: true,
});
const COUNT = Number(positionals[0] ?? 1000);
const UNRELATED = Number(args.unrelated);
const UPSTREAM_DEPLOYMENT = 'upstream-trust-manager';
const PROBE_PORT = 6060;

const log = (line: string): void => void process.stderr.write(`[bench] ${line}\n`);

interface Memory {
  rss: number;
  workingSet: number;
}

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
function memory(cgroup: string): Memory {
  const stat = Object.fromEntries(readFileSync(join(cgroup, 'memory.stat'), 'utf8').trim().split('\n').map((l) => {
    const [k, v] = l.split(' ');
    return [k!, Number(v)];
  }));
  const usage = Number(readFileSync(join(cgroup, 'memory.usage_in_bytes'), 'utf8'));
  return { rss: stat.total_rss ?? stat.rss ?? 0, workingSet: usage - (stat.total_inactive_file ?? 0) };
}

/** Median of samples a second apart: one sample catches a collection in progress. */
async function settledMemory(pod: V1Pod, samples = 7): Promise<Memory> {
  const cgroup = memoryCgroup(pod);
  const taken: Memory[] = [];
  for (let i = 0; i < samples; i++) {
    taken.push(memory(cgroup));
    await sleep(1000);
  }
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
  return { rss: median(taken.map((m) => m.rss)), workingSet: median(taken.map((m) => m.workingSet)) };
}

/** Counts a Bundle's ConfigMap targets from their metadata only (the targets themselves are large). */
async function countTargets(bundleName: string): Promise<number> {
  const list = await client.json<{ items: unknown[] | null }>({ path: resourcePath(CONFIGMAPS), query: { labelSelector: `${BUNDLE_LABEL}=${bundleName}` }, accept: ACCEPT_METADATA_LIST });
  // An empty PartialObjectMetadataList comes back with "items": null.
  return (list.items ?? []).length;
}

const mb = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`;
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

const cluster = await useCluster();
const images = readImages();
const client = KubeClient.load(cluster.kubeconfigPath);
const core = cluster.kubeConfig.makeApiClient(CoreV1Api);
const apps = cluster.kubeConfig.makeApiClient(AppsV1Api);
const leases = cluster.kubeConfig.makeApiClient(CoordinationV1Api);

async function scale(deployment: string, replicas: number): Promise<void> {
  await cluster.kubectl(['scale', '-n', NAMESPACE, `deployment/${deployment}`, `--replicas=${replicas}`]);
  if (replicas === 0) {
    await waitFor(`no pod of ${deployment}`, async () => (await core.listNamespacedPod({ namespace: NAMESPACE, labelSelector: `app=${deployment}` })).items.length === 0, 120_000);
  }
}

interface Started {
  pod: V1Pod;
  /** Scale-up to the first 200 from /readyz, polled every 2 ms on the pod IP. */
  readyzMs: number;
  /** Scale-up to the Pod's Ready condition as the bench saw it (kubelet probes after 3 s, then every 7 s). */
  podReadyMs: number;
}

/** Scales a stopped controller Deployment to one replica and waits until its pod serves 200 on /readyz, is Ready and leads. */
async function start(deployment: string): Promise<Started> {
  const started = Date.now();
  await scale(deployment, 1);
  const ip = await waitFor(`an IP for the pod of ${deployment}`, async () => (await livePods(cluster, deployment))[0]?.status?.podIP, 120_000);
  if (!(await pollUntilReady(`http://${ip}:${PROBE_PORT}/readyz`, () => Date.now() - started < 180_000))) throw new Error(`${deployment} not ready in 180 s`);
  const readyzMs = Date.now() - started;
  const pod = await waitFor(`the pod of ${deployment} Ready`, async () => (await livePods(cluster, deployment)).find(isReady), 120_000);
  const podReadyMs = Date.now() - started;
  await waitFor(`${pod.metadata!.name} holding the Lease`, async () =>
    (await leases.readNamespacedLease({ name: LEADER_ELECTION_LEASE_NAME, namespace: NAMESPACE })).spec?.holderIdentity?.startsWith(pod.metadata!.name!), 60_000);
  return { pod, readyzMs, podReadyMs };
}

/** A Deployment `name` in the release namespace whose pods carry the template `app: <name>` and nothing else as labels. */
function deploymentOf(name: string, replicas: number, template: V1PodTemplateSpec): V1Deployment {
  return {
    apiVersion: 'apps/v1', kind: 'Deployment',
    metadata: { name, namespace: NAMESPACE },
    spec: { replicas, selector: { matchLabels: { app: name } }, template: { ...template, metadata: { labels: { app: name } } } },
  };
}

/**
 * Upstream's Deployment, made from the chart's controller Deployment: the same init container (the
 * package image), volumes, ServiceAccount (so the same RBAC), security context and probe, with upstream's
 * image and the flags its own chart passes (upstream serves its webhook in the same process: the
 * release's serving certificate is mounted at /tls; the API server does not call it).
 */
function upstreamDeployment(ours: V1Deployment): V1Deployment {
  const template = structuredClone(ours.spec!.template);
  const container = template.spec!.containers[0]!;
  const oursOnly = ['--leader-election-namespace='];
  template.spec!.containers = [{
    ...container,
    name: 'trust-manager',
    image: UPSTREAM_IMAGE,
    command: undefined,
    args: [
      ...container.args!.filter((a) => !oursOnly.some((flag) => a.startsWith(flag))),
      '--webhook-host=0.0.0.0', '--webhook-port=6443', '--webhook-certificate-dir=/tls',
    ],
    volumeMounts: [...(container.volumeMounts ?? []), { name: 'tls', mountPath: '/tls', readOnly: true }],
  }];
  template.spec!.volumes = [...(template.spec!.volumes ?? []), { name: 'tls', secret: { secretName: `${RELEASE}-tls`, defaultMode: 0o644 } }];
  return deploymentOf(UPSTREAM_DEPLOYMENT, 0, template);
}

/**
 * The runtime's floor: a pod of our image running its node with the chart's V8 flags and the image's
 * environment, holding one kept-alive TLS connection to the API server (the service account's CA and
 * token, a GET every 10 s) and nothing else. What any controller on this runtime pays before its first
 * line of code; upstream's idle figure is its whole process.
 */
const FLOOR_DEPLOYMENT = 'node-floor';
const FLOOR_SCRIPT = `
const https = require('node:https'), { readFileSync } = require('node:fs');
const sa = '/var/run/secrets/kubernetes.io/serviceaccount/';
const agent = new https.Agent({ keepAlive: true, ca: readFileSync(sa + 'ca.crt') });
const get = () => https.get({ host: process.env.KUBERNETES_SERVICE_HOST, port: process.env.KUBERNETES_SERVICE_PORT, path: '/version', agent,
  headers: { authorization: 'Bearer ' + readFileSync(sa + 'token', 'utf8') } }, (res) => { console.log('GET /version', res.statusCode); res.resume(); });
get();
setInterval(get, 10000);`;

function floorDeployment(ours: V1Deployment): V1Deployment {
  const { spec } = structuredClone(ours.spec!.template);
  const { command, image, env, securityContext, resources } = spec!.containers[0]!;
  // node and its flags, the script in place of the entrypoint.
  return deploymentOf(FLOOR_DEPLOYMENT, 1, { spec: { ...spec!, initContainers: undefined, volumes: undefined,
    containers: [{ name: 'node', image, env, securityContext, resources, command: [...command!.slice(0, -1), '-e', FLOOR_SCRIPT] }] } });
}

/** The floor pod's settled memory once it has made its first request; then it is removed. */
async function measureFloor(ours: V1Deployment): Promise<Memory> {
  await applyObject(cluster.kubeConfig, floorDeployment(ours));
  const pod = await waitFor(`the ${FLOOR_DEPLOYMENT} pod running`, async () =>
    (await livePods(cluster, FLOOR_DEPLOYMENT)).find((p) => p.status?.containerStatuses?.[0]?.state?.running), 120_000);
  const logs = await waitFor(`a request from ${FLOOR_DEPLOYMENT}`, async () => {
    const out = await core.readNamespacedPodLog({ name: pod.metadata!.name!, namespace: NAMESPACE });
    return out.includes('GET /version') ? out : undefined;
  }, 60_000);
  if (!logs.includes('GET /version 200')) throw new Error(`${FLOOR_DEPLOYMENT}: ${logs}`);
  await sleep(5000);
  const floor = await settledMemory(pod);
  log(`${FLOOR_DEPLOYMENT}: rss ${mb(floor.rss)}, working set ${mb(floor.workingSet)}`);
  await apps.deleteNamespacedDeployment({ name: FLOOR_DEPLOYMENT, namespace: NAMESPACE });
  return floor;
}

interface SubjectFigures {
  start: Started;
  idle: Memory;
  rolloutMs: number;
  afterRollout: Memory;
  restart: Started;
  afterRestart: Memory;
}

/** One subject's run: start, idle, rollout to COUNT namespaces, restart; then it stops and its Bundle's targets are collected. */
async function measure(deployment: string, bundleName: string): Promise<SubjectFigures> {
  const first = await start(deployment);
  log(`${deployment}: /readyz 200 ${first.readyzMs} ms after scale-up, Pod Ready ${first.podReadyMs} ms`);
  const idle = await settledMemory(first.pod);
  log(`${deployment}: idle rss ${mb(idle.rss)}, working set ${mb(idle.workingSet)}`);

  const ca = await makeCA({ cn: bundleName });
  const rolloutStarted = Date.now();
  await kubectlApply(cluster, bundle(bundleName, {
    sources: [{ useDefaultCAs: true }, { inLine: ca.pem }],
    target: { configMap: { key: 'ca-certificates.crt' }, additionalFormats: { jks: { key: 'truststore.jks' } }, namespaceSelector: { matchLabels: { 'pods-bench': 'yes' } } },
  }));
  await waitFor(`${COUNT} targets of ${bundleName}`, async () => (await countTargets(bundleName)) >= COUNT || undefined, 1_800_000);
  const rolloutMs = Date.now() - rolloutStarted;
  const afterRollout = await settledMemory(first.pod);
  log(`${deployment}: rollout ${seconds(rolloutMs)}, then rss ${mb(afterRollout.rss)}, working set ${mb(afterRollout.workingSet)}`);

  await scale(deployment, 0);
  const restart = await start(deployment);
  await sleep(5000); // the resync after the caches synced: every target is compared, none written
  const afterRestart = await settledMemory(restart.pod);
  log(`${deployment}: restarted, /readyz 200 ${restart.readyzMs} ms; rss ${mb(afterRestart.rss)}, working set ${mb(afterRestart.workingSet)}`);

  await scale(deployment, 0);
  await cluster.kubectl(['delete', 'bundle', bundleName]);
  log(`${deployment}: stopped, Bundle ${bundleName} deleted`);
  await waitFor(`the targets of ${bundleName} collected`, async () => (await countTargets(bundleName)) === 0, 600_000);
  log(`${deployment}: its targets collected`);
  return { start: first, idle, rolloutMs, afterRollout, restart, afterRestart };
}

await installCertManagerCRDs(cluster);
await cluster.kubectl(['create', 'namespace', NAMESPACE]);

const installStarted = Date.now();
await cluster.helm(['install', '-n', NAMESPACE, RELEASE, CHART_DIR]);
await issueCertificatesAndInjectCA(cluster, NAMESPACE);
await rolledOut(cluster, CONTROLLER);
await rolledOut(cluster, WEBHOOK);
const installMs = Date.now() - installStarted;
log(`pods Ready; image ${images.operator.ref}`);

await createNamespaces(client, Array.from({ length: COUNT }, (_, i) => `pods-bench-${i}`), { 'pods-bench': 'yes' });
log(`${COUNT} namespaces created`);
if (UNRELATED > 0) {
  await createUnrelatedConfigMaps(client, 'pods-bench-unrelated', UNRELATED, 25);
  log(`${UNRELATED} unrelated ${UNRELATED_SIZE / 1024} KB ConfigMaps created`);
}

const ours = await apps.readNamespacedDeployment({ name: CONTROLLER, namespace: NAMESPACE });
const floor = await measureFloor(ours);
await scale(CONTROLLER, 0);
const figures = new Map<string, SubjectFigures>();
figures.set('ours', await measure(CONTROLLER, 'pods-bench-ours'));
if (args.upstream) {
  await applyObject(cluster.kubeConfig, upstreamDeployment(ours));
  log(`Deployment ${UPSTREAM_DEPLOYMENT} created (${UPSTREAM_IMAGE})`);
  figures.set('upstream', await measure(UPSTREAM_DEPLOYMENT, 'pods-bench-upstream'));
}

const command = `${args.upstream ? 'TM_UPSTREAM_IMAGE=1 ' : ''}TM_NODE=1 TM_INSTALL_CRD=0 bash test/cluster/with-cluster.sh node test/bench/pods.bench.ts ${COUNT}${args.upstream ? ' --upstream' : ''}${UNRELATED ? ` --unrelated ${UNRELATED}` : ''}`;
const subjects = args.upstream ? ['upstream', 'ours'] : ['ours'];
const columns = subjects.map((s) => (s === 'ours' ? 'this project' : `upstream ${UPSTREAM_VERSION}`));
const ratio = (pick: (f: SubjectFigures) => number): string => {
  const up = figures.get('upstream');
  return up ? ` ${(pick(figures.get('ours')!) / pick(up)).toFixed(2)}x |` : '';
};
const row = (what: string, format: (f: SubjectFigures) => string, pick?: (f: SubjectFigures) => number): string =>
  `| ${what} | ${subjects.map((s) => format(figures.get(s)!)).join(' | ')} |${args.upstream ? (pick ? ratio(pick) : ' |') : ''}`;
const memoryRows = (what: string, pick: (f: SubjectFigures) => Memory): string[] => [
  row(`${what}: rss (anonymous)`, (f) => mb(pick(f).rss), (f) => pick(f).rss),
  row(`${what}: working set (\`kubectl top\`)`, (f) => mb(pick(f).workingSet), (f) => pick(f).workingSet),
];
/** The floor beside the idle rows: in this project's column, its ratio to upstream's idle figure. */
const floorRows = (): string[] => (['rss', 'workingSet'] as const).map((key) => {
  const upstream = figures.get('upstream')?.idle[key];
  const cells = subjects.map((s) => (s === 'ours' ? mb(floor[key]) : ''));
  const what = key === 'rss' ? 'rss (anonymous)' : 'working set';
  return `| the runtime's floor: node alone, same image and flags, one TLS connection to the API server: ${what} | ${cells.join(' | ')} |${upstream ? ` ${(floor[key] / upstream).toFixed(2)}x of upstream's idle |` : ''}`;
});
const unrelatedNote = UNRELATED ? `, ${UNRELATED} unrelated ${UNRELATED_SIZE / 1024} KB ConfigMaps in the cluster throughout` : '';

console.log(`\n\`${command}\`\n`);
console.log(`helm install to all pods Ready (1 controller, 2 webhook; the stand-in cert-manager issues the webhook certificate): ${seconds(installMs)}\n`);
console.log(`| controller container${unrelatedNote} | ${columns.join(' | ')} |${args.upstream ? ' ratio |' : ''}`);
console.log(`|---|${subjects.map(() => '---:|').join('')}${args.upstream ? '---:|' : ''}`);
for (const line of [
  row('scale-up to /readyz 200 (polled every 2 ms)', (f) => `${f.start.readyzMs} ms`, (f) => f.start.readyzMs),
  row('scale-up to the Pod Ready (kubelet probe: delay 3 s, period 7 s)', (f) => seconds(f.start.podReadyMs)),
  ...memoryRows('idle, before any Bundle', (f) => f.idle),
  ...floorRows(),
  row(`rollout to ${COUNT} namespaces (Bundle applied to every target written)`, (f) => seconds(f.rolloutMs), (f) => f.rolloutMs),
  ...memoryRows(`after the ${COUNT}-namespace rollout`, (f) => f.afterRollout),
  row(`restart with ${COUNT} targets synced: scale-up to /readyz 200`, (f) => `${f.restart.readyzMs} ms`, (f) => f.restart.readyzMs),
  ...memoryRows('after that restart and resync', (f) => f.afterRestart),
]) console.log(line);
process.exit(0);
