// Start-up and idle memory of the controller: the compiled bundle the image runs (`pnpm build`:
// dist/controller.js) against the TypeScript sources run by type stripping (controller/src/main.ts),
// on a private local control plane (etcd + kube-apiserver) with one Bundle to sync.
//   node test/bench/startup.bench.ts [rounds]      (default 3; runs alternate between the two)
// For each: the time from spawn until /readyz answers 200, and RSS (process_resident_memory_bytes)
// as the median of samples over a few seconds of idling after the sync. Prints a Markdown table.
// The controller processes run with the chart's V8 flags and the image's allocator settings
// (controller/src/node-flags.ts; TM_BENCH_GLIBC_TUNABLES='' for glibc's defaults), the bundle from a
// fresh copy of a code cache made as the image makes it (TM_BENCH_COMPILE_CACHE=0: without).
import { setTimeout as sleep } from 'node:timers/promises';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeClient } from '@trust-manager/shared/kube/client.ts';
import { BUNDLES, NAMESPACES, resourcePath } from '@trust-manager/shared/kube/resource.ts';
import { CONTROLLER_NODE_FLAGS } from '@trust-manager/controller/node-flags.ts';
import { ControlPlane, freePort } from '../cluster/control-plane.ts';
import { installBundleCRDFromPath, waitFor } from '../cluster/harness.ts';
import { resolveBinDir } from '../cluster/testbin.ts';
import { MAIN, startController } from '../integration/controller-support.ts';
import { buildAll } from '../../scripts/build.ts';
import { codeCachePrefix, imageCodeCache, pollUntilReady, tunablesPrefix, withBenchTunables } from './support.ts';

const ROUNDS = Number(process.argv[2] ?? 3);
const TRUST_NS = 'bench-trust';
const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;
const megabytes = (bytes: number): string => `${(bytes / 1e6).toFixed(1)} MB`;
const CONTROLLER_ENV = withBenchTunables(process.env);

async function main(): Promise<void> {
  const workDir = mkdtempSync(join(tmpdir(), 'tm-startup-bench-'));
  await buildAll(join(workDir, 'dist'));
  const bundle = join(workDir, 'dist', 'controller.js');
  const withCodeCache = imageCodeCache(bundle, CONTROLLER_NODE_FLAGS, workDir);
  // The environment of each start: the bundle gets a fresh copy of the image's code cache every time.
  const variants: [string, string, () => NodeJS.ProcessEnv][] = [
    [`compiled bundle (\`${codeCachePrefix()}node dist/controller.js\`)`, bundle, () => withCodeCache(CONTROLLER_ENV)],
    ['TypeScript sources (`node controller/src/main.ts`)', MAIN, () => CONTROLLER_ENV],
  ];
  const advertiseAddress = process.env.TM_LOCAL_ADDRESS || undefined;
  const plane = await ControlPlane.start({ binDir: resolveBinDir(), etcdPort: await freePort(), startControllerManager: false, ...(advertiseAddress ? { advertiseAddress } : {}) });
  try {
    await installBundleCRDFromPath(plane.kubeconfigPath);
    const client = KubeClient.load(plane.kubeconfigPath);
    await client.json({ method: 'POST', path: resourcePath(NAMESPACES), body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: TRUST_NS } } });
    await client.json({
      method: 'POST',
      path: resourcePath(BUNDLES),
      body: { apiVersion: 'trust.cert-manager.io/v1alpha1', kind: 'Bundle', metadata: { name: 'bench' }, spec: { sources: [{ configMap: { name: 'missing', key: 'ca.crt' } }], target: { configMap: { key: 'ca.crt' } } } },
    });
    await client.close();
    const results = new Map<string, { ready: number[]; rss: number[] }>(variants.map(([name]) => [name, { ready: [], rss: [] }]));
    for (let round = 0; round < ROUNDS; round++) {
      for (const [name, main, environment] of variants) {
        const env = environment();
        const started = performance.now();
        const proc = await startController(plane.kubeconfigPath, [`--trust-namespace=${TRUST_NS}`, '--leader-elect=false'], { main, env, nodeFlags: CONTROLLER_NODE_FLAGS });
        let running = true;
        void proc.exited.then(() => (running = false));
        if (!(await pollUntilReady(`http://127.0.0.1:${proc.healthPort}/readyz`, () => running))) throw new Error(`${name} exited before it was ready`);
        const ready = performance.now() - started;
        await waitFor('queue empty', async () => ((await proc.metric('trust_manager_workqueue_depth')) === 0 ? true : undefined));
        const samples: number[] = [];
        for (let i = 0; i < 7; i++) {
          await sleep(500);
          samples.push(await proc.metric('process_resident_memory_bytes'));
        }
        await proc.stop();
        results.get(name)!.ready.push(ready);
        results.get(name)!.rss.push(median(samples));
        process.stderr.write(`[bench] ${name}: ready ${ready.toFixed(0)} ms, idle RSS ${megabytes(median(samples))}\n`);
      }
    }
    process.stdout.write(`\nCommand: \`node test/bench/startup.bench.ts ${ROUNDS}\` (Node ${process.version}, the controller run as \`${tunablesPrefix()}node ${CONTROLLER_NODE_FLAGS.join(' ')} <entrypoint>\`; medians of ${ROUNDS} runs)\n\n`);
    process.stdout.write('| controller | spawn to ready | idle RSS |\n|---|---:|---:|\n');
    for (const [name, r] of results) process.stdout.write(`| ${name} | ${median(r.ready).toFixed(0)} ms | ${megabytes(median(r.rss))} |\n`);
  } finally {
    await plane.stop();
    rmSync(workDir, { recursive: true, force: true });
  }
}

await main();
