// Installs the chart into the real API server and runs the two processes the way the rendered
// Deployments would: same command and arguments, as the chart's ServiceAccount (a TokenRequest token),
// with the volumes the pod would mount (/tls from the serving Secret, /packages from the package copier)
// mapped to local directories, and the webhook Service routed to the local webhook through an EndpointSlice.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseAllDocuments } from 'yaml';
import { CoreV1Api, type KubernetesObject, type V1Deployment, type V1Container } from '@kubernetes/client-node';
import type { TestCluster } from '../../cluster/harness.ts';
import { applyObject } from '../../cluster/crd.ts';
import { ManagedProcess } from '../../cluster/processes.ts';
import { scratchDir } from '../../cluster/scratch.ts';
import { ENTRYPOINTS } from '../../../scripts/build.ts';

export const REPO_ROOT = resolve(fileURLToPath(new URL('../../../', import.meta.url)));
export const CHART_DIR = join(REPO_ROOT, 'charts', 'trust-manager');
/** The operator image's node (Dockerfile ENTRYPOINT): this process's node runs instead. */
const IMAGE_NODE = '/nodejs/bin/node';
/** The operator image's compiled entrypoints (/app/<name>.js, scripts/build.ts) map to their sources. */
const IMAGE_ENTRYPOINTS: Record<string, string> = Object.fromEntries(
  Object.entries(ENTRYPOINTS).map(([name, source]) => [`/app/${name}.js`, join(REPO_ROOT, source)]),
);

export function parseManifests(text: string): KubernetesObject[] {
  return parseAllDocuments(text)
    .map((d) => d.toJS() as KubernetesObject | null)
    .filter((o): o is KubernetesObject => o !== null && typeof o === 'object' && 'kind' in o);
}

export function findObject<T extends KubernetesObject>(objects: KubernetesObject[], kind: string, name: string): T {
  const found = objects.find((o) => o.kind === kind && o.metadata?.name === name);
  if (!found) throw new Error(`rendered manifests have no ${kind} ${name}: ${objects.map((o) => `${o.kind}/${o.metadata?.name}`).join(', ')}`);
  return found as T;
}

export async function releaseManifests(cluster: TestCluster, release: string, namespace: string): Promise<KubernetesObject[]> {
  return parseManifests((await cluster.helm(['get', 'manifest', release, '-n', namespace])).stdout);
}

/** A kubeconfig that authenticates as the ServiceAccount with a token from the TokenRequest API. */
export async function serviceAccountKubeconfig(cluster: TestCluster, namespace: string, serviceAccount: string, dir: string): Promise<string> {
  const core = cluster.kubeConfig.makeApiClient(CoreV1Api);
  const token = await core.createNamespacedServiceAccountToken({
    name: serviceAccount,
    namespace,
    body: { spec: { audiences: ['https://kubernetes.default.svc'], expirationSeconds: 3600 * 6 } },
  });
  const server = cluster.kubeConfig.getCurrentCluster()!;
  const path = join(dir, `${serviceAccount}.kubeconfig`);
  writeFileSync(path, [
    'apiVersion: v1',
    'kind: Config',
    `clusters: [{name: local, cluster: {server: "${server.server}", certificate-authority-data: "${server.caData}"}}]`,
    `users: [{name: sa, user: {token: "${token.status!.token}"}}]`,
    'contexts: [{name: local, context: {cluster: local, user: sa, namespace: ' + namespace + '}}]',
    'current-context: local',
    '',
  ].join('\n'), { mode: 0o600 });
  return path;
}

export interface LocalContainerOptions {
  name: string;
  container: V1Container;
  logDir: string;
  /** Container path prefix -> local directory (volume mounts). */
  mounts: Record<string, string>;
  /** Appended after the rendered arguments (the last value of a flag wins): ports, kubeconfig. */
  extraArgs: string[];
}

/** Rewrites a container path (bare or as a flag value) to the local directory that stands in for it. */
export function localPath(arg: string, mounts: Record<string, string>): string {
  const roots: Record<string, string> = { ...mounts, ...IMAGE_ENTRYPOINTS };
  return arg.replace(/(^|=)(\/[^\s,]*)/g, (_match, lead: string, path: string) => {
    for (const [from, to] of Object.entries(roots)) {
      if (path === from || path.startsWith(`${from}/`)) return lead + to + path.slice(from.length);
    }
    return lead + path;
  });
}

/** Starts the container's command + args as a local process, mapping image and volume paths. */
export function startContainerLocally(options: LocalContainerOptions): ManagedProcess {
  const [command, ...commandArgs] = (options.container.command ?? []).map((a) => localPath(a, options.mounts));
  if (!command) throw new Error(`container ${options.container.name} has no command`);
  const args = [...commandArgs, ...(options.container.args ?? []).map((a) => localPath(a, options.mounts)), ...options.extraArgs];
  const executable = command === IMAGE_NODE ? process.execPath : command;
  return new ManagedProcess(options.name, executable, args, join(options.logDir, `${options.name}.log`), process.env);
}

export async function waitForHttpOk(url: string, proc: ManagedProcess, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!proc.running) throw new Error(proc.describeExit());
    try {
      const res = await fetch(url);
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await sleep(200);
  }
  throw new Error(`${url} not ready within ${timeoutMs} ms; read ${proc.logPath}`);
}

/** Routes the chart's webhook Service to a local address through an EndpointSlice (docs/test-cluster.md). */
export async function routeServiceToLocal(cluster: TestCluster, namespace: string, service: string, portName: string, port: number): Promise<void> {
  if (!cluster.localAddress) {
    throw new Error('chart end-to-end tests need the private network namespace (bash test/cluster/with-cluster.sh, as root): an EndpointSlice cannot name 127.0.0.1');
  }
  await applyObject(cluster.kubeConfig, {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name: `${service}-local`, namespace, labels: { 'kubernetes.io/service-name': service, 'endpointslice.kubernetes.io/managed-by': 'tests.trust-manager.io' } },
    addressType: 'IPv4',
    ports: [{ name: portName, port, protocol: 'TCP' }],
    endpoints: [{ addresses: [cluster.localAddress], conditions: { ready: true } }],
  } as KubernetesObject);
}

/** Writes a Secret's data as files, the way a secret volume appears in a pod. */
export async function secretVolume(cluster: TestCluster, namespace: string, name: string, dir: string): Promise<string> {
  const core = cluster.kubeConfig.makeApiClient(CoreV1Api);
  const secret = await core.readNamespacedSecret({ namespace, name });
  mkdirSync(dir, { recursive: true });
  for (const [key, value] of Object.entries(secret.data ?? {})) writeFileSync(join(dir, key), Buffer.from(value, 'base64'), { mode: 0o600 });
  return dir;
}

/** The package JSON file the controller reads at --default-package-location (the package image's init container copies it). */
export const PACKAGE_FILE = 'cert-manager-package-debian.json';

/** Writes a package where the package image keeps it (/debian-package): what the image build produces. */
export function writePackage(dir: string, pkg: { name: string; version: string; bundle: string }): string {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, PACKAGE_FILE), JSON.stringify(pkg));
  return dir;
}

export interface RunningProcesses {
  controller: ManagedProcess;
  webhook: ManagedProcess;
  controllerMetricsUrl: string;
  stop(): Promise<void>;
}

export interface StartOptions {
  release: string;
  namespace: string;
  /** Local directory standing in for the package image's /debian-package (see writePackage). */
  packageImageDir?: string;
}

const PACKAGE_IMAGE_ENTRYPOINT = join(REPO_ROOT, 'images', 'package', 'copier.sh');

/**
 * Runs the controller pod's init container: the package image's entrypoint with the rendered args
 * (`/copyandmaybepause /debian-package /packages`), filling a fresh local stand-in for the emptyDir
 * under workDir.
 */
async function runPackageInitContainer(deployment: V1Deployment, packageImageDir: string, workDir: string): Promise<string> {
  const init = deployment.spec?.template.spec?.initContainers?.[0];
  if (!init) throw new Error(`Deployment ${deployment.metadata?.name} has no init container`);
  const packagesDir = join(workDir, 'packages');
  mkdirSync(packagesDir);
  const args = (init.args ?? []).map((a) => localPath(a, { '/debian-package': packageImageDir, '/packages': packagesDir }));
  const copier = new ManagedProcess(init.name, PACKAGE_IMAGE_ENTRYPOINT, args, join(workDir, `${init.name}.log`), process.env);
  await copier.exited;
  if (copier.exitCode !== 0) throw new Error(copier.describeExit());
  return packagesDir;
}

export function deploymentContainer(deployment: V1Deployment): V1Container {
  const container = deployment.spec?.template.spec?.containers[0];
  if (!container) throw new Error(`Deployment ${deployment.metadata?.name} has no container`);
  return container;
}

/** Starts controller and webhook from the release's rendered Deployments and waits until both are ready. */
export async function startReleaseProcesses(cluster: TestCluster, options: StartOptions): Promise<RunningProcesses> {
  const objects = await releaseManifests(cluster, options.release, options.namespace);
  const workDir = scratchDir('tm-release-');
  const controllerDeployment = findObject<V1Deployment>(objects, 'Deployment', 'trust-manager');
  const webhookDeployment = findObject<V1Deployment>(objects, 'Deployment', 'trust-manager-webhook');
  const serviceAccount = controllerDeployment.spec!.template.spec!.serviceAccountName!;
  const kubeconfig = await serviceAccountKubeconfig(cluster, options.namespace, serviceAccount, workDir);
  const packagesDir = options.packageImageDir ? await runPackageInitContainer(controllerDeployment, options.packageImageDir, workDir) : undefined;
  const tlsDir = await secretVolume(cluster, options.namespace, 'trust-manager-tls', join(workDir, 'tls'));

  const controller = startContainerLocally({
    name: 'controller',
    container: deploymentContainer(controllerDeployment),
    logDir: workDir,
    mounts: packagesDir ? { '/packages': packagesDir } : {},
    extraArgs: [`--kubeconfig=${kubeconfig}`, `--leader-election-namespace=${options.namespace}`, '--metrics-port=0', '--readiness-probe-port=0'],
  });
  const webhookContainer = deploymentContainer(webhookDeployment);
  const webhook = startContainerLocally({
    name: 'webhook',
    container: webhookContainer,
    logDir: workDir,
    mounts: { '/tls': tlsDir },
    extraArgs: ['--metrics-port=0', '--readiness-probe-port=0'],
  });
  const stop = async () => {
    await Promise.all([controller.stop(), webhook.stop()]);
  };
  try {
    const webhookPort = webhookContainer.ports?.find((p) => p.name === 'webhook')?.containerPort;
    if (!webhookPort) throw new Error('webhook container has no port named webhook');
    await routeServiceToLocal(cluster, options.namespace, 'trust-manager', 'webhook', webhookPort);
    const readinessPath = webhookContainer.readinessProbe?.httpGet?.path ?? '/readyz';
    const webhookServing = await webhook.loggedFields('webhook serving');
    await waitForHttpOk(`http://127.0.0.1:${String(webhookServing.probePort)}${readinessPath}`, webhook);
    const controllerServing = await controller.loggedFields('serving metrics and health probes');
    await waitForHttpOk(`http://127.0.0.1:${String(controllerServing.readinessProbePort)}${readinessPath}`, controller);
    return { controller, webhook, controllerMetricsUrl: `http://127.0.0.1:${String(controllerServing.metricsPort)}/metrics`, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
