// Renders charts/trust-manager with a real helm binary (test/cluster/build-testbin.sh builds one) and
// parses the manifests. Release "tm" in namespace "trust", as upstream's chart unit tests.
import { execFile } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import YAML from 'yaml';

const run = promisify(execFile);

export const CHART_DIR = fileURLToPath(new URL('../../charts/trust-manager', import.meta.url));
/** helm built without version ldflags assumes Kubernetes v1.20, below the chart's kubeVersion. */
export const KUBE_VERSION = '1.36.0';

export function helmBinary(): string {
  if (process.env.HELM) return process.env.HELM;
  const testbin = join(process.env.TM_CACHE ?? join(homedir(), '.cache', 'trust-manager-ts'), 'testbin');
  if (existsSync(testbin)) {
    for (const dir of readdirSync(testbin).sort().reverse()) {
      const candidate = join(testbin, dir, 'helm');
      if (dir.startsWith('bin-') && existsSync(candidate)) return candidate;
    }
  }
  return 'helm';
}

export interface Meta {
  name: string;
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

export interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: Meta;
  [field: string]: unknown;
}

export interface VolumeMount {
  name: string;
  mountPath: string;
  readOnly?: boolean;
}

export interface Container {
  name: string;
  image: string;
  imagePullPolicy?: string;
  command?: string[];
  args?: string[];
  ports?: { name: string; containerPort: number; protocol?: string }[];
  readinessProbe?: { httpGet: { port: number; path: string }; initialDelaySeconds: number; periodSeconds: number };
  volumeMounts?: VolumeMount[];
  securityContext?: Record<string, unknown>;
  resources?: Record<string, unknown>;
}

export interface Volume {
  name: string;
  emptyDir?: { sizeLimit?: string };
  secret?: { secretName: string; defaultMode?: number };
  [field: string]: unknown;
}

export interface PodSpec {
  serviceAccountName?: string;
  automountServiceAccountToken?: boolean;
  hostNetwork?: boolean;
  dnsPolicy?: string;
  initContainers?: Container[];
  containers: Container[];
  volumes?: Volume[];
  securityContext?: Record<string, unknown>;
  nodeSelector?: Record<string, string>;
  priorityClassName?: string;
  affinity?: Record<string, unknown>;
  tolerations?: Record<string, unknown>[];
  topologySpreadConstraints?: Record<string, unknown>[];
}

export interface Deployment extends Manifest {
  spec: {
    replicas?: number;
    revisionHistoryLimit?: number;
    selector: { matchLabels: Record<string, string> };
    template: { metadata: { labels: Record<string, string>; annotations?: Record<string, string> }; spec: PodSpec };
  };
}

export interface PolicyRule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
  resourceNames?: string[];
}

export interface Role extends Manifest {
  rules: PolicyRule[];
}

export interface Binding extends Manifest {
  roleRef: { apiGroup: string; kind: string; name: string };
  subjects: { kind: string; name: string; namespace: string }[];
}

export interface Service extends Manifest {
  spec: {
    type: string;
    ipFamilyPolicy?: string;
    ipFamilies?: string[];
    ports: { port: number; targetPort: number | string; name: string; protocol?: string; nodePort?: number }[];
    selector: Record<string, string>;
  };
}

export interface RenderOptions {
  /** Values, passed as a values file. */
  values?: Record<string, unknown>;
  /** --set expressions. */
  set?: string[];
  release?: string;
  namespace?: string;
  /** Another chart directory (e.g. a patched copy). */
  chartDir?: string;
  extraArgs?: string[];
}

async function helm(args: string[], stdin?: string): Promise<{ stdout: string; stderr: string }> {
  const child = run(helmBinary(), args, { maxBuffer: 64 * 1024 * 1024 });
  if (stdin !== undefined) child.child.stdin?.end(stdin);
  return child;
}

function templateArgs(opts: RenderOptions): string[] {
  const args = ['template', opts.release ?? 'tm', opts.chartDir ?? CHART_DIR, '--namespace', opts.namespace ?? 'trust', '--kube-version', KUBE_VERSION];
  if (opts.values) args.push('--values', '-');
  for (const s of opts.set ?? []) args.push('--set', s);
  args.push(...(opts.extraArgs ?? []));
  return args;
}

/** helm template; returns every rendered object. */
export async function render(opts: RenderOptions = {}): Promise<Manifest[]> {
  const { stdout } = await helm(templateArgs(opts), opts.values ? JSON.stringify(opts.values) : undefined);
  return YAML.parseAllDocuments(stdout)
    .map((d) => d.toJS() as Manifest | null)
    .filter((o): o is Manifest => o !== null);
}

/** helm template that must fail; returns its stderr. */
export async function renderError(opts: RenderOptions = {}): Promise<string> {
  try {
    await helm(templateArgs(opts), opts.values ? JSON.stringify(opts.values) : undefined);
  } catch (err) {
    return (err as { stderr?: string }).stderr ?? String(err);
  }
  throw new Error('helm template succeeded, expected it to fail');
}

export async function helmCommand(args: string[]): Promise<{ stdout: string; stderr: string; code: number }> {
  try {
    const { stdout, stderr } = await helm(args);
    return { stdout, stderr, code: 0 };
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; code?: number };
    return { stdout: e.stdout ?? '', stderr: e.stderr ?? '', code: e.code ?? 1 };
  }
}

export function all<T extends Manifest = Manifest>(objects: Manifest[], kind: string): T[] {
  return objects.filter((o) => o.kind === kind) as T[];
}

export function find<T extends Manifest = Manifest>(objects: Manifest[], kind: string, name: string, namespace?: string): T | undefined {
  return objects.find((o) => o.kind === kind && o.metadata.name === name && (namespace === undefined || o.metadata.namespace === namespace)) as
    | T
    | undefined;
}

export function get<T extends Manifest = Manifest>(objects: Manifest[], kind: string, name: string, namespace?: string): T {
  const o = find<T>(objects, kind, name, namespace);
  if (!o) {
    const have = objects.map((x) => `${x.kind}/${x.metadata.namespace ? `${x.metadata.namespace}/` : ''}${x.metadata.name}`).join(', ');
    throw new Error(`no ${kind} ${namespace ? `${namespace}/` : ''}${name} rendered; have: ${have}`);
  }
  return o;
}

export const controller = (objects: Manifest[]): Deployment => get<Deployment>(objects, 'Deployment', 'trust-manager');
export const webhook = (objects: Manifest[]): Deployment => get<Deployment>(objects, 'Deployment', 'trust-manager-webhook');

export function container(d: Deployment): Container {
  const c = d.spec.template.spec.containers[0];
  if (!c) throw new Error(`${d.metadata.name} has no container`);
  return c;
}
