// Upstream cert-manager trust-manager (the Go binary, test/cluster/build-upstream.sh) as a local process
// against the test control plane, for the migration tests.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import type { KubeConfig, KubernetesObject } from '@kubernetes/client-node';
import { ApiextensionsV1Api } from '@kubernetes/client-node';
import { CRD_NAME } from '@trust-manager/shared/api/constants.ts';
import { applyObject } from '../../cluster/crd.ts';
import { freePort } from '../../cluster/control-plane.ts';
import { createCA, issueCertificate } from '../../cluster/pki.ts';
import { ManagedProcess } from '../../cluster/processes.ts';
import { waitFor } from '../../cluster/harness.ts';
import { REPO_ROOT } from './trust-manager.ts';

export const UPSTREAM_VERSION = 'v0.24.0';
/** The image `test/cluster/build-upstream.sh --image` builds of that binary (the test node imports it with TM_UPSTREAM_IMAGE=1). */
export const UPSTREAM_IMAGE = `localhost/upstream-trust-manager:${UPSTREAM_VERSION}`;
const CRD_FILE = 'trust.cert-manager.io_bundles.yaml';

/** The directory build-upstream.sh fills: the binary and the release's Bundle CRD. */
export function upstreamDir(): string {
  const dir = join(process.env.TM_CACHE ?? join(homedir(), '.cache', 'trust-manager-ts'), 'upstream', `trust-manager-${UPSTREAM_VERSION}`);
  if (existsSync(join(dir, 'trust-manager')) && existsSync(join(dir, CRD_FILE))) return dir;
  // Needs the Go module proxy (or a warm module cache): test/cluster/with-cluster.sh runs tests offline.
  try {
    execFileSync('bash', [join(REPO_ROOT, 'test', 'cluster', 'build-upstream.sh')], { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, UPSTREAM_VERSION } });
  } catch (err) {
    throw new Error(`upstream trust-manager ${UPSTREAM_VERSION} is not built: run bash test/cluster/build-upstream.sh (needs the network) before the tests (${(err as Error).message})`, { cause: err });
  }
  return dir;
}

/** Upstream's CRD as shipped, in place of ours (server-side apply as the tests' field manager), and Established. */
export async function installUpstreamCRD(kc: KubeConfig): Promise<KubernetesObject> {
  const crd = parse(readFileSync(join(upstreamDir(), CRD_FILE), 'utf8')) as KubernetesObject;
  await applyObject(kc, crd);
  const api = kc.makeApiClient(ApiextensionsV1Api);
  await waitFor(`${CRD_NAME} Established with upstream's schema`, async () => {
    const served = await api.readCustomResourceDefinition({ name: CRD_NAME });
    const status = served.spec.versions[0]?.schema?.openAPIV3Schema?.properties?.status?.properties ?? {};
    const established = served.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True');
    return established && !('certificateCount' in status);
  });
  return crd;
}

export interface UpstreamOptions {
  kubeconfigPath: string;
  /** The namespace of the leader-election Lease: upstream reads it from the pod's ServiceAccount namespace file. */
  podNamespace: string;
  args: string[];
  logDir: string;
}

export interface UpstreamProcess {
  proc: ManagedProcess;
  metricsUrl: string;
  stop(): Promise<void>;
}

/**
 * Starts upstream's binary with its webhook on a free port (it has no flag to turn the webhook off; the
 * API server is not configured to call it). Upstream takes the Lease namespace from
 * /var/run/secrets/kubernetes.io/serviceaccount/namespace, which exists only in a pod: the process runs
 * in a private mount namespace with that file on a tmpfs over /run (/var/run links to /run).
 */
export async function startUpstream(options: UpstreamOptions): Promise<UpstreamProcess> {
  const dir = upstreamDir();
  const tlsDir = join(options.logDir, 'upstream-tls');
  if (!existsSync(join(tlsDir, 'tls.crt'))) {
    mkdirSync(tlsDir, { recursive: true });
    const ca = await createCA('upstream-webhook-ca');
    const leaf = await issueCertificate(ca, { commonName: 'localhost', dnsNames: ['localhost'], usage: 'server' });
    writeFileSync(join(tlsDir, 'tls.crt'), leaf.certPem);
    writeFileSync(join(tlsDir, 'tls.key'), leaf.keyPem, { mode: 0o600 });
  }
  const ports = { webhook: await freePort(), metrics: await freePort(), probe: await freePort() };
  const script = [
    'set -e',
    'mount -t tmpfs tmpfs /run',
    'mkdir -p /run/secrets/kubernetes.io/serviceaccount',
    'printf %s "$TM_POD_NAMESPACE" > /run/secrets/kubernetes.io/serviceaccount/namespace',
    'exec "$@"',
  ].join('\n');
  const args = [
    `--kubeconfig=${options.kubeconfigPath}`,
    '--webhook-host=127.0.0.1',
    `--webhook-port=${ports.webhook}`,
    `--webhook-certificate-dir=${tlsDir}`,
    `--metrics-port=${ports.metrics}`,
    `--readiness-probe-port=${ports.probe}`,
    ...options.args,
  ];
  const logPath = join(options.logDir, `upstream-${Date.now()}.log`);
  const proc = new ManagedProcess('upstream trust-manager', 'unshare', ['--mount', '--propagation', 'private', '--', 'sh', '-c', script, 'sh', join(dir, 'trust-manager'), ...args], logPath, {
    ...process.env,
    TM_POD_NAMESPACE: options.podNamespace,
  });
  const readyUrl = `http://127.0.0.1:${ports.probe}/readyz`;
  const state = await waitFor(`upstream trust-manager ready (log: ${logPath})`, async () =>
    !proc.running ? 'exited' : (await fetch(readyUrl).catch(() => undefined))?.ok && 'ready',
  );
  if (state === 'exited') throw new Error(`${proc.describeExit()}\n${readFileSync(logPath, 'utf8').slice(-3000)}`);
  return {
    proc,
    metricsUrl: `http://127.0.0.1:${ports.metrics}/metrics`,
    stop: () => proc.stop(),
  };
}
