// A real kubelet node for the local control plane: containerd (runc, overlayfs, CNI bridge) and kubelet
// v1.36 registered as node "tm-node", plus kube-scheduler. Pods run for real: the images built from the
// Dockerfile are imported into containerd and run with their security contexts, probes and volumes.
// Everything runs inside the private network namespace of test/cluster/with-cluster.sh; pods reach the
// API server through the `kubernetes` Service VIP (an iptables DNAT rule stands in for kube-proxy: it is
// the only Service pods dial; the API server reaches webhook pods through EndpointSlices).
// See docs/test-cluster.md ("The node").
import { mkdirSync, mkdtempSync, writeFileSync, existsSync, readdirSync, rmdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { KubeConfig, CoreV1Api } from '@kubernetes/client-node';
import { ControlPlaneError, SERVICE_CLUSTER_IP_RANGE, CLUSTER_TRUST_BUNDLE_FEATURE_GATES, type ControlPlane } from './control-plane.ts';
import { issueCertificate } from './pki.ts';
import { ManagedProcess } from './processes.ts';
import { removeScratchDir } from './scratch.ts';
import { runCommand } from './harness.ts';

export const NODE_NAME = 'tm-node';
export const POD_CIDR = '10.244.0.0/24';
/** The `kubernetes` Service's ClusterIP: the first address of the service range. */
export const KUBERNETES_SERVICE_IP = SERVICE_CLUSTER_IP_RANGE.replace(/0\/\d+$/, '1');
/** How often kubelet re-reads ConfigMap/Secret/projected volumes (its default is 1 minute). */
export const KUBELET_SYNC_FREQUENCY = '10s';

export interface NodeOptions {
  plane: ControlPlane;
  binDir: string;
  /** OCI archives to import into containerd before kubelet starts (under the names they carry). */
  imageArchives?: string[];
  /** The pause (sandbox) image reference; it must be among the imported images. */
  pauseImage: string;
}

/** Where the pods' cgroups go: one root per run (named by the host PID that holds the run's network
 *  namespace), so concurrent runs never share them and with-cluster.sh can remove them after a crash. */
function cgroupRootFor(workDir: string): string {
  return `/tm-node-${process.env.TM_NETNS_PID ?? workDir.split('-').pop()}`;
}

const CGROUP_MOUNT = '/sys/fs/cgroup';

/** Creates the run's cgroup root in every v1 hierarchy (kubelet requires it to exist); a cpuset cgroup
 *  starts with no CPUs and memory nodes, so it gets its parent's. */
function createCgroups(root: string): void {
  for (const hierarchy of readdirSync(CGROUP_MOUNT)) {
    if (hierarchy === 'unified') continue;
    const parent = join(CGROUP_MOUNT, hierarchy);
    const dir = join(parent, root);
    mkdirSync(dir, { recursive: true });
    if (hierarchy === 'cpuset') {
      for (const file of ['cpuset.cpus', 'cpuset.mems']) writeFileSync(join(dir, file), readFileSync(join(parent, file)));
    }
  }
}

/** Removes a run's empty pod cgroups in every cgroup v1 hierarchy (kubelet leaves them behind). */
export function removeCgroups(root: string): void {
  if (!existsSync(CGROUP_MOUNT)) return;
  for (const hierarchy of readdirSync(CGROUP_MOUNT)) {
    const dir = join(CGROUP_MOUNT, hierarchy, root);
    if (existsSync(dir)) removeTree(dir);
  }
}

function removeTree(dir: string): void {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.isDirectory()) removeTree(join(dir, entry.name));
  }
  try {
    rmdirSync(dir);
  } catch {
    // still holds a process (a run that is ending): the next clean-up of this root takes it
  }
}

/** Unmounts what pods left mounted under a directory (sandbox /dev/shm, secret volumes), deepest first. */
async function unmountUnder(dir: string): Promise<void> {
  const mountPoints = readFileSync('/proc/self/mountinfo', 'utf8').split('\n')
    .map((line) => line.split(' ')[4]?.replace(/\\040/g, ' '))
    .filter((point): point is string => point !== undefined && point.startsWith(`${dir}/`))
    .sort((a, b) => b.length - a.length);
  for (const point of mountPoints) await runCommand('umount', ['-l', point], { allowFail: true });
}

/** `A=true,B=false` (the command-line form) as KubeletConfiguration's featureGates map. */
function featureGateMap(gates: string): Record<string, boolean> {
  const map: Record<string, boolean> = {};
  for (const gate of gates.split(',')) {
    const [name = '', value] = gate.split('=');
    map[name] = value === 'true';
  }
  return map;
}

export class KubeletNode {
  readonly workDir: string;
  readonly socket: string;
  readonly cgroupRoot: string;
  private readonly options: NodeOptions;
  private containerd: ManagedProcess | undefined;
  private kubelet: ManagedProcess | undefined;
  private scheduler: ManagedProcess | undefined;

  private constructor(options: NodeOptions) {
    this.options = options;
    this.workDir = mkdtempSync(join(tmpdir(), 'tm-node-'));
    this.socket = join(this.workDir, 'containerd.sock');
    this.cgroupRoot = cgroupRootFor(this.workDir);
  }

  /** Starts containerd, imports the images, starts kubelet and kube-scheduler, and waits for the node to be Ready and schedulable. */
  static async start(options: NodeOptions): Promise<KubeletNode> {
    const node = new KubeletNode(options);
    try {
      await node.startAll();
      return node;
    } catch (err) {
      await node.stop();
      throw err instanceof ControlPlaneError ? err : new ControlPlaneError(String((err as Error).message ?? err));
    }
  }

  private get address(): string {
    const address = this.options.plane.advertiseAddress;
    if (!address) throw new ControlPlaneError('the node needs the control plane to advertise a non-loopback address');
    return address;
  }

  private async startAll(): Promise<void> {
    const { plane } = this.options;
    const logDir = plane.logDir;
    const pki = plane.pkiFiles;
    if (!plane.ca || !pki) throw new ControlPlaneError('the control plane has no PKI yet');
    const dirs = { cni: join(this.workDir, 'cni'), ipam: join(this.workDir, 'cni-ipam'), kubelet: join(this.workDir, 'kubelet'), podLogs: join(this.workDir, 'pod-logs'), pki: join(this.workDir, 'pki') };
    for (const dir of Object.values(dirs)) mkdirSync(dir, { recursive: true });

    await this.routeKubernetesService();

    writeFileSync(join(dirs.cni, '10-tm-pods.conflist'), JSON.stringify({
      cniVersion: '0.4.0',
      name: 'tm-pods',
      plugins: [
        {
          type: 'bridge', bridge: 'cni0', isGateway: true, ipMasq: false, hairpinMode: true,
          ipam: { type: 'host-local', ranges: [[{ subnet: POD_CIDR }]], routes: [{ dst: '0.0.0.0/0' }], dataDir: dirs.ipam },
        },
        { type: 'portmap', capabilities: { portMappings: true } },
      ],
    }, null, 2));
    const containerdConfig = join(this.workDir, 'containerd.toml');
    writeFileSync(containerdConfig, [
      'version = 2',
      `root = "${join(this.workDir, 'containerd-root')}"`,
      `state = "${join(this.workDir, 'containerd-state')}"`,
      '[grpc]',
      `  address = "${this.socket}"`,
      '[plugins."io.containerd.grpc.v1.cri"]',
      `  sandbox_image = "${this.options.pauseImage}"`,
      // A negative oom_score_adj is not permitted here: without this every sandbox fails with
      // "can't get final child's PID from pipe: EOF".
      '  restrict_oom_score_adj = true',
      '  [plugins."io.containerd.grpc.v1.cri".containerd]',
      '    snapshotter = "overlayfs"',
      '    default_runtime_name = "runc"',
      '    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]',
      '      runtime_type = "io.containerd.runc.v2"',
      '      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]',
      '        SystemdCgroup = false',
      '  [plugins."io.containerd.grpc.v1.cri".cni]',
      '    bin_dir = "/usr/lib/cni"',
      `    conf_dir = "${dirs.cni}"`,
      '',
    ].join('\n'));
    this.containerd = new ManagedProcess('containerd', 'containerd', ['--config', containerdConfig, '--log-level', 'warn'], join(logDir, 'containerd.log'));
    await this.waitFor('containerd', async () => (await this.ctr(['version'], true)).code === 0, 30_000);

    for (const archive of this.options.imageArchives ?? []) {
      await this.ctr(['images', 'import', '--all-platforms', archive]);
    }

    // kubelet: a node identity the Node authorizer accepts, serving on the node address with a
    // certificate the cluster CA signed, authenticating the API server's client certificate.
    const kubeletClient = await issueCertificate(plane.ca, { commonName: `system:node:${NODE_NAME}`, organizations: ['system:nodes'], usage: 'client' });
    const kubeletServing = await issueCertificate(plane.ca, { commonName: NODE_NAME, usage: 'server', dnsNames: [NODE_NAME], ipAddresses: [this.address] });
    const files = {
      kubeconfig: join(dirs.pki, 'kubelet.kubeconfig'),
      servingCrt: join(dirs.pki, 'kubelet.crt'),
      servingKey: join(dirs.pki, 'kubelet.key'),
      config: join(this.workDir, 'kubelet-config.yaml'),
      schedulerKubeconfig: join(dirs.pki, 'scheduler.kubeconfig'),
    };
    writeFileSync(files.kubeconfig, this.kubeconfig(kubeletClient.certPem, kubeletClient.keyPem), { mode: 0o600 });
    writeFileSync(files.servingCrt, kubeletServing.certPem);
    writeFileSync(files.servingKey, kubeletServing.keyPem, { mode: 0o600 });
    writeFileSync(files.config, JSON.stringify({
      apiVersion: 'kubelet.config.k8s.io/v1beta1',
      kind: 'KubeletConfiguration',
      address: this.address,
      readOnlyPort: 0,
      tlsCertFile: files.servingCrt,
      tlsPrivateKeyFile: files.servingKey,
      authentication: { anonymous: { enabled: false }, webhook: { enabled: true }, x509: { clientCAFile: pki.caCrt } },
      authorization: { mode: 'Webhook' },
      containerRuntimeEndpoint: `unix://${this.socket}`,
      // Not /var/log/pods: nothing of a run is left on the machine.
      podLogsDir: dirs.podLogs,
      cgroupDriver: 'cgroupfs',
      cgroupRoot: this.cgroupRoot,
      // This machine mounts cgroup v1 (a hybrid layout); 1.35+ refuses it unless told otherwise.
      failCgroupV1: false,
      failSwapOn: false,
      // containerd 1.6 has no RuntimeConfig call: kubelet falls back to this setting (and logs "Unimplemented").
      // A test machine's disk and memory are shared with everything else: evict nothing, collect no images.
      evictionHard: { 'memory.available': '1Mi', 'nodefs.available': '0%', 'imagefs.available': '0%', 'nodefs.inodesFree': '0%' },
      imageGCHighThresholdPercent: 100,
      imageGCLowThresholdPercent: 99,
      syncFrequency: KUBELET_SYNC_FREQUENCY,
      serializeImagePulls: false,
      featureGates: featureGateMap(CLUSTER_TRUST_BUNDLE_FEATURE_GATES),
      podCIDR: POD_CIDR,
      maxPods: 60,
    }, null, 2));
    createCgroups(this.cgroupRoot);
    this.kubelet = new ManagedProcess('kubelet', join(this.options.binDir, 'kubelet'), [
      `--config=${files.config}`,
      `--kubeconfig=${files.kubeconfig}`,
      `--hostname-override=${NODE_NAME}`,
      `--node-ip=${this.address}`,
      `--root-dir=${dirs.kubelet}`,
      `--cert-dir=${dirs.pki}`,
      '--v=1',
    ], join(logDir, 'kubelet.log'));

    const scheduler = await issueCertificate(plane.ca, { commonName: 'system:kube-scheduler', usage: 'client' });
    writeFileSync(files.schedulerKubeconfig, this.kubeconfig(scheduler.certPem, scheduler.keyPem), { mode: 0o600 });
    this.scheduler = new ManagedProcess('kube-scheduler', join(this.options.binDir, 'kube-scheduler'), [
      `--kubeconfig=${files.schedulerKubeconfig}`,
      `--authentication-kubeconfig=${files.schedulerKubeconfig}`,
      `--authorization-kubeconfig=${files.schedulerKubeconfig}`,
      '--leader-elect=false',
      '--bind-address=127.0.0.1',
      '--secure-port=0',
      '--v=1',
    ], join(logDir, 'kube-scheduler.log'));

    const kc = new KubeConfig();
    kc.loadFromFile(plane.kubeconfigPath);
    const core = kc.makeApiClient(CoreV1Api);
    // Ready, and the not-ready taint the node lifecycle controller lifts: only then are pods scheduled.
    await this.waitFor(`node ${NODE_NAME} Ready and untainted`, async () => {
      const node = await core.readNode({ name: NODE_NAME }).catch(() => undefined);
      const ready = node?.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True';
      return ready && !(node?.spec?.taints ?? []).some((t) => t.effect === 'NoSchedule');
    }, 90_000);
  }

  /** Stands in for kube-proxy for the one Service pods dial: the `kubernetes` Service VIP to the API server. */
  private async routeKubernetesService(): Promise<void> {
    const target = `${this.address}:${this.options.plane.apiServerPort}`;
    for (const chain of ['PREROUTING', 'OUTPUT']) {
      await runCommand('iptables', ['-t', 'nat', '-A', chain, '-d', `${KUBERNETES_SERVICE_IP}/32`, '-p', 'tcp', '--dport', '443', '-j', 'DNAT', '--to-destination', target]);
    }
  }

  /** Kubelet and scheduler dial the API server at the node's address, as a pod would. */
  private kubeconfig(certPem: string, keyPem: string): string {
    return this.options.plane.kubeconfigYaml(certPem, keyPem, `https://${this.address}:${this.options.plane.apiServerPort}`);
  }


  /** Runs `ctr` against this node's containerd in the Kubernetes namespace. */
  ctr(args: string[], allowFail = false) {
    return runCommand('ctr', ['--address', this.socket, '--namespace', 'k8s.io', ...args], { allowFail });
  }

  private async waitFor(what: string, probe: () => Promise<boolean>, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      for (const proc of [this.containerd, this.kubelet, this.scheduler]) {
        if (proc && !proc.running) throw new ControlPlaneError(proc.describeExit());
      }
      if (await probe().catch(() => false)) return;
      if (Date.now() > deadline) throw new ControlPlaneError(`${what}: not reached within ${timeoutMs / 1000}s; read the logs in ${this.options.plane.logDir}`);
      await sleep(250);
    }
  }

  async stop(): Promise<void> {
    await this.scheduler?.stop();
    await this.kubelet?.stop();
    // Pods outlive kubelet (containerd's shims hold them): stop every container before containerd itself.
    if (this.containerd?.running) {
      const tasks = await this.ctr(['tasks', 'list', '-q'], true);
      for (const id of tasks.stdout.split('\n').filter(Boolean)) await this.ctr(['tasks', 'kill', '--signal', 'SIGKILL', id], true);
      await sleep(500);
    }
    await this.containerd?.stop();
    await unmountUnder(this.workDir);
    removeCgroups(this.cgroupRoot);
    removeScratchDir(this.workDir);
  }
}
