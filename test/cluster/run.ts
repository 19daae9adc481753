// Starts a local control plane with the Bundle CRD installed, then either runs a command against it
// (exit code = the command's) or, with no command, keeps it running until Ctrl-C.
//   node test/cluster/run.ts -- node --test test/integration/*.test.ts
// The command gets KUBECONFIG, TM_KUBECONFIG, TM_TESTBIN_DIR and TM_LOCAL_ADDRESS.
// With TM_NODE=1 the plane also runs a kubelet node (test/cluster/node.ts) with the images listed in
// $TM_IMAGES_DIR/images.json imported (and $TM_UPSTREAM_IMAGE_ARCHIVE, when set); the command then also
// gets TM_NODE_NAME and TM_IMAGES_DIR.
import { spawn } from 'node:child_process';
import { ControlPlane } from './control-plane.ts';
import { resolveBinDir } from './testbin.ts';
import { installBundleCRDFromPath, kubectlHint } from './harness.ts';
import { KubeletNode, NODE_NAME } from './node.ts';
import { readImages, allImages } from './images.ts';

const separator = process.argv.indexOf('--');
const command = separator >= 0 ? process.argv.slice(separator + 1) : [];
const binDir = resolveBinDir();
const localAddress = process.env.TM_LOCAL_ADDRESS || undefined;
const withNode = process.env.TM_NODE === '1';

const started = Date.now();
const plane = await ControlPlane.start({
  binDir,
  advertiseAddress: localAddress,
  workloads: withNode,
  // TM_INSTALL_CRD=0 leaves the CRD to the chart (the demo installs it with helm).
  beforeControllerManager: process.env.TM_INSTALL_CRD === '0' ? undefined : (p) => installBundleCRDFromPath(p.kubeconfigPath),
}).catch((err: Error) => {
  console.error(`[cluster] ${err.message}`);
  process.exit(1);
});
console.error(`[cluster] kube-apiserver ready at ${plane.apiServerUrl} in ${Date.now() - started} ms (logs: ${plane.logDir})`);

let node: KubeletNode | undefined;
if (withNode) {
  const nodeStarted = Date.now();
  const images = readImages();
  const upstream = process.env.TM_UPSTREAM_IMAGE_ARCHIVE ? [process.env.TM_UPSTREAM_IMAGE_ARCHIVE] : [];
  const archives = [...allImages(images).map((i) => i.archive), ...upstream];
  node = await KubeletNode.start({ plane, binDir, imageArchives: archives, pauseImage: images.pause.ref }).catch(async (err: Error) => {
    console.error(`[cluster] ${err.message}`);
    await plane.stop();
    process.exit(1);
  });
  console.error(`[cluster] node ${NODE_NAME} Ready in ${Date.now() - nodeStarted} ms (images imported: ${[...allImages(images).map((i) => i.ref), ...upstream].join(', ')})`);
}

const env = {
  ...process.env, KUBECONFIG: plane.kubeconfigPath, TM_KUBECONFIG: plane.kubeconfigPath, TM_TESTBIN_DIR: binDir, TM_CLUSTER_LOG_DIR: plane.logDir,
  ...(node ? { TM_NODE_NAME: NODE_NAME } : {}),
};

let stopping = false;
async function shutdown(code: number): Promise<never> {
  if (!stopping) {
    stopping = true;
    await node?.stop();
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
