// Helpers for the controller's process-level tests: start `node controller/src/main.ts` as a child
// process with flags, follow its JSON log, read its metrics and probes, stop or kill it; and small
// cluster helpers (apply, get, wait) on our own KubeClient.
import { waitFor } from '../cluster/harness.ts';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { API_VERSION, KIND } from '@trust-manager/shared/api/constants.ts';
import type { Bundle, BundleCondition } from '@trust-manager/shared/api/types.ts';
import type { Readable } from 'node:stream';
import { isNotFound, KubeClient, type KubeRequest } from '@trust-manager/shared/kube/client.ts';
import type { KubeObject } from '@trust-manager/controller/kube/object.ts';
import { BUNDLES, CONFIGMAPS, EVENTS, SECRETS, resourcePath, type ResourceType } from '@trust-manager/shared/kube/resource.ts';
import { LineSplitter } from '@trust-manager/controller/kube/lines.ts';
import { createWriteStream } from 'node:fs';
import { Applier, type WriteObserver } from '@trust-manager/controller/kube/apply.ts';
import { EventRecorder } from '@trust-manager/controller/kube/events.ts';
import { Controller } from '@trust-manager/controller/controller.ts';
import { ControllerMetrics } from '@trust-manager/controller/metrics.ts';
import { createLogger } from '@trust-manager/shared/logging/logging.ts';

export const MAIN = fileURLToPath(new URL('../../controller/src/main.ts', import.meta.url));

export interface LogLine {
  level: string;
  msg: string;
  [field: string]: unknown;
}

export interface ControllerProcess {
  child: ChildProcess;
  logs: LogLine[];
  /** Non-JSON output (stderr, crash traces). */
  rawOutput: string[];
  metricsPort: number;
  healthPort: number;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  waitForLog(what: string, predicate: (line: LogLine) => boolean, timeoutMs?: number): Promise<LogLine>;
  metrics(): Promise<string>;
  /** Sum of a metric's samples whose labels include `labels`. */
  metric(name: string, labels?: Record<string, string>): Promise<number>;
  ready(): Promise<boolean>;
  /** SIGTERM and wait for the exit. */
  stop(): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  kill9(): Promise<void>;
}

/** Leader election in `leaseNamespace` with a 4 s lease, so that tests see a hand-over within seconds. */
export function fastLeaderElectionFlags(leaseNamespace: string): string[] {
  return [
    '--leader-elect=true',
    `--leader-election-namespace=${leaseNamespace}`,
    '--leader-election-lease-duration=4s',
    '--leader-election-renew-deadline=3s',
    '--leader-election-retry-period=500ms',
  ];
}

/** `nodeFlags` go on node's command line: V8 flags such as --no-maglev are not allowed in NODE_OPTIONS. */
export async function startController(kubeconfigPath: string, args: string[], options: { waitForPorts?: boolean; main?: string; env?: NodeJS.ProcessEnv; nodeFlags?: readonly string[] } = {}): Promise<ControllerProcess> {
  const child = spawn(process.execPath, [...(options.nodeFlags ?? []), options.main ?? MAIN, `--kubeconfig=${kubeconfigPath}`, '--metrics-port=0', '--readiness-probe-port=0', '--log-format=json', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(options.env !== undefined ? { env: options.env } : {}),
  });
  const logs: LogLine[] = [];
  const rawOutput: string[] = [];
  const waiters = new Set<() => void>();
  const notify = (): void => {
    for (const waiter of waiters) waiter();
  };
  const splitter = new LineSplitter();
  child.stdout?.on('data', (chunk: Buffer) => {
    for (const line of splitter.push(chunk)) {
      try {
        logs.push(JSON.parse(line) as LogLine);
      } catch {
        rawOutput.push(line);
      }
    }
    notify();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    rawOutput.push(chunk.toString());
    notify();
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => {
      notify();
      resolve({ code, signal });
    });
  });
  let done = false;
  void exited.then(() => (done = true));

  const waitForLog = async (what: string, predicate: (line: LogLine) => boolean, timeoutMs = 60_000): Promise<LogLine> => {
    const deadline = Date.now() + timeoutMs;
    let seen = 0;
    for (;;) {
      for (; seen < logs.length; seen++) {
        const line = logs[seen];
        if (line !== undefined && predicate(line)) return line;
      }
      if (done) throw new Error(`controller exited while waiting for ${what}\n${tail(logs, rawOutput)}`);
      if (Date.now() > deadline) throw new Error(`timed out waiting for log: ${what}\n${tail(logs, rawOutput)}`);
      await new Promise<void>((resolve) => {
        const wake = (): void => {
          waiters.delete(wake);
          clearTimeout(timer);
          resolve();
        };
        const timer = setTimeout(wake, 200);
        waiters.add(wake);
      });
    }
  };

  let metricsPort = 0;
  let healthPort = 0;
  if (options.waitForPorts !== false) {
    const serving = await waitForLog('servers', (line) => line.msg === 'serving metrics and health probes');
    metricsPort = serving.metricsPort as number;
    healthPort = serving.readinessProbePort as number;
  }

  const metrics = async (): Promise<string> => (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
  return {
    child,
    logs,
    rawOutput,
    metricsPort,
    healthPort,
    exited,
    waitForLog,
    metrics,
    async metric(name, labels = {}) {
      return sumMetric(await metrics(), name, labels);
    },
    async ready() {
      const res = await fetch(`http://127.0.0.1:${healthPort}/readyz`).catch(() => undefined);
      return res?.status === 200;
    },
    async stop() {
      if (!done) child.kill('SIGTERM');
      return exited;
    },
    async kill9() {
      if (!done) child.kill('SIGKILL');
      await exited;
    },
  };
}

function tail(logs: LogLine[], raw: string[]): string {
  return [...logs.slice(-15).map((line) => JSON.stringify(line)), ...raw.slice(-10)].join('\n');
}

/** Sums the samples of `name` (exact metric name) whose labels include all of `labels`. */
export function sumMetric(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const have = new Map([...(match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m): [string, string] => [m[1] ?? '', m[2] ?? '']));
    if (Object.entries(labels).every(([key, value]) => have.get(key) === value)) sum += Number(match[3]);
  }
  return sum;
}

export { waitFor };

/** The certificates in a PEM text, as sorted base64 bodies (order-independent comparison). */
export function certsIn(pem: string | undefined): string[] {
  return [...(pem ?? '').matchAll(/-----BEGIN CERTIFICATE-----\n([\s\S]*?)\n-----END CERTIFICATE-----/g)].map((m) => (m[1] ?? '').replace(/\s/g, '')).sort();
}

export function certsOf(...certs: Array<{ pem: string }>): string[] {
  return certsIn(certs.map((c) => c.pem).join(''));
}

export interface ConfigMapObject extends KubeObject {
  data?: Record<string, string>;
  binaryData?: Record<string, string>;
}

export interface SecretObject extends KubeObject {
  data?: Record<string, string>;
  type?: string;
}

export interface EventObject {
  type: string;
  reason: string;
  action: string;
  note: string;
  reportingController: string;
  regarding: { name: string; kind: string };
  metadata: { namespace: string };
}

/** Cluster access for tests, as a field manager other than trust-manager. */
export class TestKube {
  readonly client: KubeClient;

  constructor(client: KubeClient) {
    this.client = client;
  }

  async apply<T extends KubeObject>(resource: ResourceType, object: T, fieldManager = 'trust-manager-tests'): Promise<T> {
    return this.client.json<T>({
      method: 'PATCH',
      path: resourcePath(resource, { namespace: object.metadata.namespace, name: object.metadata.name }),
      query: { fieldManager, force: true },
      body: object,
      contentType: 'application/apply-patch+yaml',
    });
  }

  async get<T extends KubeObject>(resource: ResourceType, namespace: string | undefined, name: string): Promise<T | undefined> {
    try {
      return await this.client.json<T>({ path: resourcePath(resource, { namespace, name }) });
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  async patch(resource: ResourceType, namespace: string | undefined, name: string, body: unknown, contentType = 'application/merge-patch+json', fieldManager = 'someone-else'): Promise<void> {
    await this.client.json({ method: 'PATCH', path: resourcePath(resource, { namespace, name }), query: { fieldManager }, body, contentType });
  }

  async delete(resource: ResourceType, namespace: string | undefined, name: string): Promise<void> {
    try {
      await this.client.json({ method: 'DELETE', path: resourcePath(resource, { namespace, name }) });
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }

  configMap(namespace: string, name: string): Promise<ConfigMapObject | undefined> {
    return this.get<ConfigMapObject>(CONFIGMAPS, namespace, name);
  }

  secret(namespace: string, name: string): Promise<SecretObject | undefined> {
    return this.get<SecretObject>(SECRETS, namespace, name);
  }

  bundle(name: string): Promise<Bundle | undefined> {
    return this.get<Bundle & KubeObject>(BUNDLES, undefined, name);
  }

  applyBundle(name: string, spec: Bundle['spec']): Promise<Bundle> {
    return this.apply<Bundle & KubeObject>(BUNDLES, { apiVersion: API_VERSION, kind: KIND, metadata: { name }, spec });
  }

  async syncedCondition(name: string): Promise<BundleCondition | undefined> {
    return (await this.bundle(name))?.status?.conditions?.find((c) => c.type === 'Synced');
  }

  /** Waits for a Synced condition with this reason (and generation observed). */
  async waitForCondition(name: string, reason: string, timeoutMs = 60_000): Promise<BundleCondition> {
    return waitFor(
      `Bundle ${name} Synced reason ${reason}`,
      async () => {
        const bundle = await this.bundle(name);
        const condition = bundle?.status?.conditions?.find((c) => c.type === 'Synced');
        return condition?.reason === reason && condition.observedGeneration === bundle?.metadata.generation ? condition : undefined;
      },
      timeoutMs,
    );
  }

  async events(bundleName: string): Promise<EventObject[]> {
    const list = await this.client.json<{ items: EventObject[] }>({
      path: resourcePath(EVENTS, { namespace: 'default' }),
      query: { fieldSelector: `regarding.name=${bundleName}` },
    });
    return list.items;
  }
}

/**
 * A real client whose watches that `isCuttable` picks the test can close and hold closed. On release they
 * reconnect either where they left off (the API server replays what was missed) or, with `expired`, from a
 * compacted resourceVersion, as after an API server restart: the reflector must LIST again and sees only
 * the latest state of each object, not the changes in between.
 */
export class CuttableWatchClient extends KubeClient {
  readonly #isCuttable: (req: KubeRequest) => boolean;
  readonly #open = new Set<Readable>();
  #held: PromiseWithResolvers<void> | undefined;
  #expireNext = false;
  watchesOpened = 0;

  constructor(kubeConfig: ConstructorParameters<typeof KubeClient>[0], isCuttable: (req: KubeRequest) => boolean) {
    super(kubeConfig);
    this.#isCuttable = isCuttable;
  }

  override async stream(req: KubeRequest): Promise<Readable> {
    if (!this.#isCuttable(req)) return super.stream(req);
    await this.#held?.promise;
    const resume = this.#expireNext && req.query?.resourceVersion !== undefined ? { ...req, query: { ...req.query, resourceVersion: '1' } } : req;
    this.#expireNext = false;
    const body = await super.stream(resume);
    this.watchesOpened++;
    this.#open.add(body);
    body.once('close', () => this.#open.delete(body));
    return body;
  }

  /** Closes the watches; they cannot reconnect until release(). */
  cut(): void {
    this.#held = Promise.withResolvers<void>();
    for (const body of this.#open) body.destroy();
  }

  release({ expired = false } = {}): void {
    this.#expireNext = expired;
    this.#held?.resolve();
    this.#held = undefined;
  }
}

export interface InProcessController {
  controller: Controller;
  metrics: ControllerMetrics;
  /** Stops reconciling and the caches. */
  stop(): Promise<void>;
}

/**
 * The controller in this process, on `client` (so that a test can steer its watches), with one worker,
 * upstream's default options and the default of --max-concurrent-writes; `onWrite` sees every write. Its
 * log is discarded.
 */
export async function startInProcessController(client: KubeClient, trustNamespace: string, options: { maxConcurrentWrites?: number; onWrite?: WriteObserver } = {}): Promise<InProcessController> {
  const metrics = new ControllerMetrics();
  const applier = new Applier(client, {
    onWrite: (write) => {
      metrics.write(write.resource.kind, 'apply', write.ok);
      options.onWrite?.(write);
    },
  });
  const logger = createLogger({ format: 'json', verbosity: 0, destination: createWriteStream('/dev/null') });
  const controller = new Controller({
    client,
    applier,
    events: new EventRecorder(client, { reportingInstance: 'in-process-test', logger }),
    options: { trustNamespace, sourceNamespaces: [], targetNamespaces: [], secretTargetsEnabled: false, filterExpiredCertificates: false, filterNonCACerts: false },
    workers: 1,
    maxConcurrentWrites: options.maxConcurrentWrites ?? 32,
    logger,
    metrics,
  });
  controller.startCaches();
  const stopping = new AbortController();
  await controller.startReconciling(stopping.signal);
  return {
    controller,
    metrics,
    stop: async () => {
      stopping.abort();
      await controller.stop();
    },
  };
}
