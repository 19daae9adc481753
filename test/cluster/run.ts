// Starts a local control plane with the Bundle CRD installed, then either runs a command against it
// (exit code = the command's) or, with no command, keeps it running until Ctrl-C.
//   node test/cluster/run.ts -- node --test test/integration/*.test.ts
// The command gets KUBECONFIG, TM_KUBECONFIG, TM_TESTBIN_DIR and TM_LOCAL_ADDRESS.
import { spawn } from 'node:child_process';
import { ControlPlane } from './control-plane.ts';
import { resolveBinDir } from './testbin.ts';
import { installBundleCRDFromPath, kubectlHint } from './harness.ts';

const separator = process.argv.indexOf('--');
const command = separator >= 0 ? process.argv.slice(separator + 1) : [];
const binDir = resolveBinDir();
const localAddress = process.env.TM_LOCAL_ADDRESS || undefined;

const started = Date.now();
const plane = await ControlPlane.start({
  binDir,
  advertiseAddress: localAddress,
  // TM_INSTALL_CRD=0 leaves the CRD to the chart (the demo installs it with helm).
  beforeControllerManager: process.env.TM_INSTALL_CRD === '0' ? undefined : (p) => installBundleCRDFromPath(p.kubeconfigPath),
}).catch((err: Error) => {
  console.error(`[cluster] ${err.message}`);
  process.exit(1);
});
console.error(`[cluster] kube-apiserver ready at ${plane.apiServerUrl} in ${Date.now() - started} ms (logs: ${plane.logDir})`);

const env = { ...process.env, KUBECONFIG: plane.kubeconfigPath, TM_KUBECONFIG: plane.kubeconfigPath, TM_TESTBIN_DIR: binDir, TM_CLUSTER_LOG_DIR: plane.logDir };

let stopping = false;
async function shutdown(code: number): Promise<never> {
  if (!stopping) {
    stopping = true;
    await plane.stop();
  }
  process.exit(code);
}
process.on('SIGINT', () => void shutdown(130));
process.on('SIGTERM', () => void shutdown(143));

if (command.length === 0) {
  console.error(`[cluster] running; in another shell: ${kubectlHint(plane.kubeconfigPath, binDir)} get ns`);
  console.error('[cluster] Ctrl-C stops it');
  setInterval(() => {}, 1 << 30);
} else {
  const child = spawn(command[0]!, command.slice(1), { stdio: 'inherit', env });
  child.on('exit', (code, signal) => void shutdown(code ?? (signal ? 128 : 1)));
}
