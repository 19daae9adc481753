// One helper for tests: attach to the run's shared control plane (started by run.ts, found through
// $TM_KUBECONFIG) or start a private one for this test process, stopped when the process exits.
import { KubeConfig } from '@kubernetes/client-node';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ControlPlane } from './control-plane.ts';
import { resolveBinDir } from './testbin.ts';
import { installBundleCRD } from './crd.ts';

export interface CommandResult {
  stdout: string;
  stderr: string;
  code: number;
}

export interface CommandOptions {
  input?: string;
  allowFail?: boolean;
  env?: NodeJS.ProcessEnv;
}

export interface TestCluster {
  kubeconfigPath: string;
  kubeConfig: KubeConfig;
  binDir: string;
  /** Non-loopback address on lo inside the private network namespace: the API server can dial webhooks
   *  there through an EndpointSlice. Undefined in the url-fallback mode (then use 127.0.0.1 and clientConfig.url). */
  localAddress: string | undefined;
  newNamespace(prefix: string, labels?: Record<string, string>): Promise<string>;
  kubectl(args: string[], opts?: CommandOptions): Promise<CommandResult>;
  helm(args: string[], opts?: CommandOptions): Promise<CommandResult>;
  installBundleCRD(): Promise<void>;
}

export function runCommand(command: string, args: string[], opts: CommandOptions = {}): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = execFile(command, args, { maxBuffer: 64 * 1024 * 1024, env: opts.env ?? process.env }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      if (code !== 0 && !opts.allowFail) {
        reject(new Error(`${command} ${args.join(' ')} exited with ${code}\n${stderr}${stdout}`));
        return;
      }
      resolve({ stdout, stderr, code });
    });
    if (opts.input !== undefined) child.stdin?.end(opts.input);
    else child.stdin?.end();
  });
}

/** How to run kubectl against this cluster from another shell (entering the private network namespace if any). */
export function kubectlHint(kubeconfigPath: string, binDir: string): string {
  const netnsPid = process.env.TM_NETNS_PID;
  const enter = netnsPid ? `nsenter --net=/proc/${netnsPid}/ns/net -- ` : '';
  return `${enter}env KUBECONFIG=${kubeconfigPath} ${join(binDir, 'kubectl')}`;
}

/**
 * Polls until the probe returns a value (not undefined, false or null). A probe that throws is tried
 * again; the timeout only guards against a hang and reports the last error.
 */
export async function waitFor<T>(
  what: string,
  probe: () => T | undefined | false | null | Promise<T | undefined | false | null>,
  timeoutMs = 90_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false && value !== null) return value;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError instanceof Error ? ` (last error: ${lastError.message})` : ''}`);
    }
    await sleep(100);
  }
}

/** A short random suffix keeps namespaces of parallel and repeated tests apart. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${randomBytes(3).toString('hex')}`.toLowerCase();
}

function makeCluster(kubeconfigPath: string, binDir: string, localAddress: string | undefined): TestCluster {
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromFile(kubeconfigPath);
  const env = { ...process.env, KUBECONFIG: kubeconfigPath };
  const kubectl = (args: string[], opts: CommandOptions = {}) => runCommand(join(binDir, 'kubectl'), args, { env, ...opts });
  const helm = (args: string[], opts: CommandOptions = {}) =>
    runCommand(join(binDir, 'helm'), args, { env: { ...env, HELM_CACHE_HOME: '/tmp/tm-helm/cache', HELM_CONFIG_HOME: '/tmp/tm-helm/config', HELM_DATA_HOME: '/tmp/tm-helm/data' }, ...opts });
  return {
    kubeconfigPath,
    kubeConfig,
    binDir,
    localAddress,
    kubectl,
    helm,
    async newNamespace(prefix, labels = {}) {
      const name = uniqueName(prefix);
      const manifest = { apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels } };
      await kubectl(['apply', '-f', '-'], { input: JSON.stringify(manifest) });
      return name;
    },
    installBundleCRD: () => installBundleCRD(kubeConfig),
  };
}

let shared: Promise<TestCluster> | undefined;

export function useCluster(): Promise<TestCluster> {
  shared ??= (async () => {
    const binDir = resolveBinDir();
    const localAddress = process.env.TM_LOCAL_ADDRESS || undefined;
    const kubeconfig = process.env.TM_KUBECONFIG;
    if (kubeconfig) return makeCluster(kubeconfig, binDir, localAddress);
    const plane = await ControlPlane.start({ binDir, advertiseAddress: localAddress, beforeControllerManager: (p) => installBundleCRDFromPath(p.kubeconfigPath) });
    process.once('exit', () => void plane.stop());
    for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void plane.stop().finally(() => process.exit(130)));
    return makeCluster(plane.kubeconfigPath, binDir, localAddress);
  })();
  return shared;
}

export async function installBundleCRDFromPath(kubeconfigPath: string): Promise<void> {
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfigPath);
  await installBundleCRD(kc);
}
