// A real local Kubernetes control plane, the way envtest runs one: etcd (data on tmpfs),
// kube-apiserver (client-certificate auth, RBAC) and kube-controller-manager (namespace deletion,
// garbage collection, service accounts), on free loopback ports. See docs/test-cluster.md.
import { mkdtempSync, mkdirSync, writeFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'node:https';
import { request as httpRequest } from 'node:http';
import { freePort } from '@trust-manager/shared/testing/net.ts';
import { setTimeout as sleep } from 'node:timers/promises';
import { createCA, issueCertificate, createSigningKey, type CertificateAuthority } from './pki.ts';
import { cleanEnvironment, ManagedProcess } from './processes.ts';
import { removeScratchDir } from './scratch.ts';

export interface ControlPlaneOptions {
  binDir: string;
  /** Directory for PKI, kubeconfig and logs; a fresh temporary directory by default. */
  workDir?: string;
  /** Address the API server advertises; inside the private network namespace, the non-loopback address
   *  on lo (default: $TM_LOCAL_ADDRESS; there is no default route to pick one from). */
  advertiseAddress?: string;
  /** Fixed ports instead of free ones (tests of the failure handling use this). */
  etcdPort?: number;
  apiServerPort?: number;
  /** Override the etcd the API server talks to (tests of the failure handling use this). */
  etcdServers?: string;
  startControllerManager?: boolean;
  readyTimeoutMs?: number;
  /** Objects (e.g. CRDs) to create before kube-controller-manager starts, so its garbage collector knows them at once. */
  beforeControllerManager?: (plane: ControlPlane) => Promise<void>;
  /** Serve a kubelet node (test/cluster/node.ts): the API server listens where pods reach it, admits pods with
   *  their ServiceAccount tokens, authorizes kubelets (Node authorizer) and dials them by InternalIP;
   *  kube-controller-manager runs the workload controllers too. */
  workloads?: boolean;
  /** Serve the ClusterTrustBundle beta API (default true): false starts a plane of a cluster that lacks it. */
  clusterTrustBundles?: boolean;
  /** etcd's space quota (its default is 2 GiB: 5,000 targets of 442 KiB and their next revision need more). */
  etcdQuotaBytes?: number;
  /** etcd's data in the temporary directory on disk instead of /dev/shm: for data that would not fit in memory. */
  etcdOnDisk?: boolean;
  /** kube-apiserver's GOMEMLIMIT (e.g. '9GiB'): its Go heap grows to twice what it holds unless limited. */
  apiServerMemoryLimit?: string;
}

/** The ClusterTrustBundle beta API and its projected volume (Kubernetes 1.33+): gates and runtime-config. */
export const CLUSTER_TRUST_BUNDLE_FEATURE_GATES = 'ClusterTrustBundle=true,ClusterTrustBundleProjection=true';
export const CLUSTER_TRUST_BUNDLE_RUNTIME_CONFIG = 'certificates.k8s.io/v1beta1/clustertrustbundles=true';

/** Controllers kube-controller-manager runs: always what Bundles need (namespace deletion, GC, service accounts,
 *  kube-root-ca.crt); with a node, also what Deployments, Services and PodDisruptionBudgets need. */
const BASE_CONTROLLERS = ['namespace-controller', 'garbage-collector-controller', 'serviceaccount-controller', 'root-ca-certificate-publisher-controller'];
const WORKLOAD_CONTROLLERS = [
  'deployment-controller', 'replicaset-controller', 'endpointslice-controller', 'node-lifecycle-controller',
  'pod-garbage-collector-controller', 'ttl-controller', 'disruption-controller',
];

export const SERVICE_CLUSTER_IP_RANGE = '10.0.0.0/24';

export { freePort };

export class ControlPlaneError extends Error {
  override name = 'ControlPlaneError';
}

function httpGetStatus(url: string, ca?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = (url.startsWith('https:') ? request : httpRequest)(url, { ca, timeout: 2000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

export class ControlPlane {
  readonly workDir: string;
  readonly binDir: string;
  readonly kubeconfigPath: string;
  readonly logDir: string;
  apiServerUrl = '';
  /** The API server's port, on 127.0.0.1 and (with workloads) on the advertised address. */
  apiServerPort = 0;
  /** The address pods and kubelets use to reach the API server (with workloads). */
  advertiseAddress: string | undefined;
  caPem = '';
  /** The cluster CA (it signs client certificates: a test node's kubelet and scheduler identities). */
  ca: CertificateAuthority | undefined;
  /** Paths of the PKI files (CA, API server and admin client certificates). */
  pkiFiles: Record<'caCrt' | 'apiCrt' | 'apiKey' | 'adminCrt' | 'adminKey' | 'saPub' | 'saKey', string> | undefined;
  private readonly options: ControlPlaneOptions;
  private readonly ownsWorkDir: boolean;
  private etcdDataDir = '';
  private etcd: ManagedProcess | undefined;
  private apiServer: ManagedProcess | undefined;
  private controllerManager: ManagedProcess | undefined;
  private apiServerArgs: string[] = [];

  private constructor(options: ControlPlaneOptions) {
    this.options = options;
    this.binDir = options.binDir;
    this.ownsWorkDir = options.workDir === undefined;
    this.workDir = options.workDir ?? mkdtempSync(join(tmpdir(), 'tm-cluster-'));
    this.logDir = join(this.workDir, 'logs');
    this.kubeconfigPath = join(this.workDir, 'kubeconfig');
    mkdirSync(this.logDir, { recursive: true });
  }

  /** Starts everything and waits for /readyz; on any failure stops what it started and throws a ControlPlaneError naming the log. */
  static async start(options: ControlPlaneOptions): Promise<ControlPlane> {
    const plane = new ControlPlane(options);
    try {
      await plane.startAll();
      return plane;
    } catch (err) {
      await plane.stop();
      throw err instanceof ControlPlaneError ? err : new ControlPlaneError(String((err as Error).message ?? err));
    }
  }

  private binary(name: string): string {
    const path = join(this.binDir, name);
    if (!existsSync(path)) throw new ControlPlaneError(`${name} not found at ${path}; run test/cluster/build-testbin.sh`);
    return path;
  }

  private async startAll(): Promise<void> {
    const pki = join(this.workDir, 'pki');
    mkdirSync(pki, { recursive: true });
    const advertise = this.options.advertiseAddress ?? (process.env.TM_LOCAL_ADDRESS || undefined);
    this.advertiseAddress = advertise;
    const workloads = this.options.workloads === true;
    if (workloads && !advertise) throw new ControlPlaneError('a control plane with workloads needs an advertise address (run inside test/cluster/with-cluster.sh)');
    const ca = await createCA('trust-manager-test-ca');
    this.ca = ca;
    const serving = await issueCertificate(ca, {
      commonName: 'kube-apiserver',
      usage: 'server',
      dnsNames: ['localhost', 'kubernetes', 'kubernetes.default', 'kubernetes.default.svc'],
      ipAddresses: ['127.0.0.1', '10.0.0.1', ...(advertise ? [advertise] : [])],
    });
    const admin = await issueCertificate(ca, { commonName: 'test-admin', organizations: ['system:masters'], usage: 'client' });
    const sa = await createSigningKey();
    const files = {
      caCrt: join(pki, 'ca.crt'),
      apiCrt: join(pki, 'apiserver.crt'),
      apiKey: join(pki, 'apiserver.key'),
      adminCrt: join(pki, 'admin.crt'),
      adminKey: join(pki, 'admin.key'),
      saPub: join(pki, 'sa.pub'),
      saKey: join(pki, 'sa.key'),
    };
    writeFileSync(files.caCrt, ca.certPem);
    writeFileSync(files.apiCrt, serving.certPem);
    writeFileSync(files.apiKey, serving.keyPem, { mode: 0o600 });
    writeFileSync(files.adminCrt, admin.certPem);
    writeFileSync(files.adminKey, admin.keyPem, { mode: 0o600 });
    writeFileSync(files.saPub, sa.publicKeyPem);
    writeFileSync(files.saKey, sa.privateKeyPem, { mode: 0o600 });
    this.caPem = ca.certPem;
    this.pkiFiles = files;

    const timeout = this.options.readyTimeoutMs ?? 90_000;

    let etcdServers = this.options.etcdServers;
    if (!etcdServers) {
      const clientPort = this.options.etcdPort ?? (await freePort());
      const peerPort = await freePort();
      const dataParent = existsSync('/dev/shm') && this.options.etcdOnDisk !== true ? '/dev/shm' : tmpdir();
      this.etcdDataDir = mkdtempSync(join(dataParent, 'tm-etcd-'));
      etcdServers = `http://127.0.0.1:${clientPort}`;
      this.etcd = new ManagedProcess('etcd', this.binary('etcd'), [
        '--name=test',
        `--data-dir=${this.etcdDataDir}`,
        `--listen-client-urls=${etcdServers}`,
        `--advertise-client-urls=${etcdServers}`,
        `--listen-peer-urls=http://127.0.0.1:${peerPort}`,
        `--initial-advertise-peer-urls=http://127.0.0.1:${peerPort}`,
        `--initial-cluster=test=http://127.0.0.1:${peerPort}`,
        '--unsafe-no-fsync=true',
        '--log-level=warn',
        ...(this.options.etcdQuotaBytes !== undefined ? [`--quota-backend-bytes=${this.options.etcdQuotaBytes}`] : []),
      ], join(this.logDir, 'etcd.log'));
      await this.waitReady(this.etcd, `${etcdServers}/health`, undefined, timeout);
    }

    const apiPort = this.options.apiServerPort ?? (await freePort());
    this.apiServerPort = apiPort;
    this.apiServerUrl = `https://127.0.0.1:${apiPort}`;
    const clusterTrustBundles = this.options.clusterTrustBundles !== false;
    this.apiServerArgs = [
      `--etcd-servers=${etcdServers}`,
      // With a node, pods reach it through the kubernetes Service VIP (DNAT to the advertised address);
      // the private network namespace keeps the wildcard bind unreachable from outside.
      `--bind-address=${workloads ? '0.0.0.0' : '127.0.0.1'}`,
      `--secure-port=${apiPort}`,
      ...(advertise ? [`--advertise-address=${advertise}`] : []),
      `--tls-cert-file=${files.apiCrt}`,
      `--tls-private-key-file=${files.apiKey}`,
      `--client-ca-file=${files.caCrt}`,
      `--authorization-mode=${workloads ? 'Node,RBAC' : 'RBAC'}`,
      '--service-account-issuer=https://kubernetes.default.svc',
      `--service-account-key-file=${files.saPub}`,
      `--service-account-signing-key-file=${files.saKey}`,
      `--service-cluster-ip-range=${SERVICE_CLUSTER_IP_RANGE}`,
      // Pods need their ServiceAccount token volume; without a node nothing runs pods, so the plugin stays off.
      ...(workloads
        ? [
            '--kubelet-preferred-address-types=InternalIP',
            `--kubelet-client-certificate=${files.adminCrt}`,
            `--kubelet-client-key=${files.adminKey}`,
          ]
        : ['--disable-admission-plugins=ServiceAccount']),
      ...(clusterTrustBundles
        ? [`--feature-gates=${CLUSTER_TRUST_BUNDLE_FEATURE_GATES}`, `--runtime-config=${CLUSTER_TRUST_BUNDLE_RUNTIME_CONFIG}`]
        : []),
      '--allow-privileged=true',
      // Webhooks named by a Service are dialled at the EndpointSlice address (see docs/test-cluster.md).
      '--enable-aggregator-routing=true',
      '--endpoint-reconciler-type=none',
      '--v=1',
    ];
    await this.startApiServer(timeout);

    writeFileSync(this.kubeconfigPath, this.kubeconfigYaml(admin.certPem, admin.keyPem), { mode: 0o600 });

    await this.options.beforeControllerManager?.(this);

    if (this.options.startControllerManager !== false) {
      this.controllerManager = new ManagedProcess('kube-controller-manager', this.binary('kube-controller-manager'), [
        `--kubeconfig=${this.kubeconfigPath}`,
        `--controllers=${[...BASE_CONTROLLERS, ...(workloads ? WORKLOAD_CONTROLLERS : [])].join(',')}`,
        `--root-ca-file=${files.caCrt}`,
        '--use-service-account-credentials=false',
        '--leader-elect=false',
        '--secure-port=0',
        '--v=1',
      ], join(this.logDir, 'kube-controller-manager.log'));
      // It has no health endpoint with serving off: it must at least survive its start-up.
      await Promise.race([this.controllerManager.exited, sleep(1500)]);
      if (!this.controllerManager.running) throw new ControlPlaneError(this.controllerManager.describeExit());
    }
  }

  private async startApiServer(timeout: number): Promise<void> {
    const memoryLimit = this.options.apiServerMemoryLimit;
    this.apiServer = new ManagedProcess('kube-apiserver', this.binary('kube-apiserver'), this.apiServerArgs, join(this.logDir, 'kube-apiserver.log'), {
      ...cleanEnvironment(),
      ...(memoryLimit !== undefined ? { GOMEMLIMIT: memoryLimit } : {}),
    });
    await this.waitReady(this.apiServer, `${this.apiServerUrl}/readyz`, this.caPem, timeout);
  }

  /** Restarts kube-apiserver on the same port and etcd (clients see a dropped connection, then the same server). */
  async restartApiServer(): Promise<void> {
    await this.apiServer?.stop();
    await this.startApiServer(this.options.readyTimeoutMs ?? 90_000);
  }

  private async waitReady(proc: ManagedProcess, url: string, ca: string | undefined, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let last = '';
    while (Date.now() < deadline) {
      if (!proc.running) throw new ControlPlaneError(proc.describeExit());
      try {
        const { status, body } = await httpGetStatus(url, ca);
        if (status === 200) return;
        last = `HTTP ${status}: ${body.slice(0, 200)}`;
      } catch (err) {
        last = (err as Error).message;
      }
      await sleep(250);
    }
    throw new ControlPlaneError(`${proc.name} did not become ready at ${url} within ${Math.round(timeoutMs / 1000)}s (last: ${last}); read its log: ${proc.logPath}`);
  }

  /** A kubeconfig for a client certificate of this cluster's CA, for the API server at `server`. */
  kubeconfigYaml(certPem: string, keyPem: string, server = this.apiServerUrl): string {
    const b64 = (s: string) => Buffer.from(s).toString('base64');
    return [
      'apiVersion: v1',
      'kind: Config',
      'clusters:',
      '- name: local',
      '  cluster:',
      `    server: ${server}`,
      `    certificate-authority-data: ${b64(this.caPem)}`,
      'users:',
      '- name: admin',
      '  user:',
      `    client-certificate-data: ${b64(certPem)}`,
      `    client-key-data: ${b64(keyPem)}`,
      'contexts:',
      '- name: local',
      '  context: {cluster: local, user: admin, namespace: default}',
      'current-context: local',
      '',
    ].join('\n');
  }

  /** Processes still running (for tests that check a failure left nothing behind). */
  runningProcesses(): string[] {
    return [this.etcd, this.apiServer, this.controllerManager].filter((p) => p?.running).map((p) => p!.name);
  }

  async stop(): Promise<void> {
    await this.controllerManager?.stop();
    await this.apiServer?.stop();
    await this.etcd?.stop();
    if (this.etcdDataDir) rmSync(this.etcdDataDir, { recursive: true, force: true });
    if (this.ownsWorkDir) removeScratchDir(this.workDir);
  }
}
