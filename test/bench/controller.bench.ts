// Controller benchmark on a private local control plane (etcd + kube-apiserver):
//   node test/bench/controller.bench.ts [namespace counts...]      (default: 100 1000)
//   (or inside the test network namespace: bash test/cluster/with-cluster.sh node test/bench/controller.bench.ts)
// For each N: the time from a Bundle change (default CAs = the machine's Debian bundle, plus one
// private CA; PEM + JKS) until all N targets are correct, against a bare loop of the same
// server-side apply writes at the same concurrency in the same run. Then: controller RSS after
// sync, RSS after a restart with 2,000 unrelated 100 KB ConfigMaps in the cluster, and the writes a
// resync of a synced cluster costs (must be 0). Prints a Markdown table.
// TM_BENCH_CONTROLLER_NODE_OPTIONS: Node/V8 options for the controller processes only; by default the
// flags the chart runs the controller with (controller/src/node-flags.ts); printed with the results.
// The controller gets the image's allocator settings (GLIBC_TUNABLES; TM_BENCH_GLIBC_TUNABLES='' for glibc's defaults).
import { setTimeout as sleep } from 'node:timers/promises';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BUNDLE_LABEL } from '@trust-manager/shared/api/constants.ts';
import type { Bundle } from '@trust-manager/shared/api/types.ts';
import { makeCA, type TestCertificate } from '@trust-manager/shared/certs/testing/fixtures.ts';
import { Applier } from '@trust-manager/controller/kube/apply.ts';
import { KubeClient } from '@trust-manager/shared/kube/client.ts';
import type { KubeObject } from '@trust-manager/controller/kube/object.ts';
import { BUNDLES, CONFIGMAPS } from '@trust-manager/shared/kube/resource.ts';
import { forEachBounded } from '@trust-manager/controller/reconciler.ts';
import { ControlPlane, freePort } from '../cluster/control-plane.ts';
import { installBundleCRDFromPath } from '../cluster/harness.ts';
import { resolveBinDir } from '../cluster/testbin.ts';
import { startController, TestKube, waitFor, type ControllerProcess } from '../integration/controller-support.ts';
import { applyAll, BENCH_CONTROLLER_FLAGS, bareBodies, debianPackage, compactEtcd, createNamespaces, createUnrelatedConfigMaps, UNRELATED_SIZE, expectedTarget, log, median, megabytes, seconds, tunablesPrefix, waitForHash, withBenchTunables } from './support.ts';

const COUNTS = process.argv.slice(2).map(Number).filter((n) => n > 0);
const NAMESPACE_COUNTS = COUNTS.length > 0 ? COUNTS : [100, 1000];
const CONCURRENCY = 32;
const TRUST_NS = 'bench-trust';
const UNRELATED_CONFIGMAPS = 2000;
const CONTROLLER_ENV = withBenchTunables(process.env);

const rows: Array<[string, string]> = [];

async function main(): Promise<void> {
  const binDir = resolveBinDir();
  const etcdPort = await freePort();
  const advertiseAddress = process.env.TM_LOCAL_ADDRESS || undefined;
  const plane = await ControlPlane.start({ binDir, etcdPort, startControllerManager: false, ...(advertiseAddress ? { advertiseAddress } : {}) });
  const etcdUrl = `http://127.0.0.1:${etcdPort}`;
  const workDir = mkdtempSync(join(tmpdir(), 'tm-bench-'));
  let controller: ControllerProcess | undefined;
  try {
    await installBundleCRDFromPath(plane.kubeconfigPath);
    const client = KubeClient.load(plane.kubeconfigPath);
    const kube = new TestKube(client);
    const applier = new Applier(client);

    const { packagePath, options } = await debianPackage(workDir, TRUST_NS);
    await createNamespaces(client, [TRUST_NS], {});
    const controllerArgs = [`--trust-namespace=${TRUST_NS}`, '--leader-elect=false', `--default-package-location=${packagePath}`, `--max-concurrent-writes=${CONCURRENCY}`];
    const cas: TestCertificate[] = [await makeCA({ cn: 'bench-private-1' }), await makeCA({ cn: 'bench-private-2' }), await makeCA({ cn: 'bench-private-3' })];
    const specFor = (ca: TestCertificate, selector: string): Bundle['spec'] => ({
      sources: [{ useDefaultCAs: true }, { inLine: ca.pem }],
      target: { configMap: { key: 'ca-certificates.crt' }, additionalFormats: { jks: { key: 'truststore.jks' } }, namespaceSelector: { matchLabels: { bench: selector } } },
    });
    const expectedHash = (bundle: Bundle): ReturnType<typeof expectedTarget> => expectedTarget(bundle, options);

    let created = 0;
    for (const count of NAMESPACE_COUNTS) {
      const selector = `n${count}`;
      const namespaces = Array.from({ length: count }, (_, i) => `bench-${selector}-${i}`);
      await createNamespaces(client, namespaces, { bench: selector });
      created += count;
      const name = `bench-${selector}`;

      // The controller runs during both measurements, so the API server carries the same watches.
      controller ??= await startController(plane.kubeconfigPath, controllerArgs, { env: CONTROLLER_ENV, nodeFlags: BENCH_CONTROLLER_FLAGS });
      await waitFor('controller ready', () => controller!.ready());

      // 1. The bare loop: the same apply bodies (built by the core from the same Bundle), same concurrency,
      //    to objects of their own, first created (not timed), then updated to a new bundle (timed, until
      //    a watch sees every object with the new hash, exactly as for the controller below).
      const bareLabel = 'bench.trust-manager.io/bare';
      const bareBundle = (await kube.applyBundle(`${name}-bare-spec`, specFor(cas[0]!, 'nothing-selects-this')));
      const bareUpdate = (await kube.applyBundle(`${name}-bare-spec`, specFor(cas[1]!, 'nothing-selects-this')));
      const bodiesFor = (bundle: Bundle): KubeObject[] => bareBodies(bundle, options, namespaces, 'bench-bare', { [bareLabel]: selector });
      const write = (bodies: KubeObject[]): Promise<void> => applyAll(applier, bodies, CONCURRENCY);
      const updateBodies = bodiesFor(bareUpdate);
      const bytesPerTarget = JSON.stringify(updateBodies[0]).length;
      await write(bodiesFor(bareBundle));
      const bareStart = Date.now();
      const [bareDone] = await Promise.all([
        waitForHash(client, `${bareLabel}=${selector}`, count, expectedHash(bareUpdate).hash),
        write(updateBodies),
      ]);
      const bareMs = bareDone - bareStart;
      await kube.delete(BUNDLES, undefined, `${name}-bare-spec`);
      await forEachBounded(namespaces, CONCURRENCY, new AbortController().signal, (ns) => kube.delete(CONFIGMAPS, ns, 'bench-bare'));
      log(`N=${count}: bare loop ${bareMs} ms, etcd after compaction ${megabytes(await compactEtcd(etcdUrl))}`);

      // 2. The controller: initial rollout (creates), then the timed change (updates).
      const initialStart = Date.now();
      const v1 = (await kube.applyBundle(name, specFor(cas[0]!, selector)));
      const initialDone = await waitForHash(client, `${BUNDLE_LABEL}=${name}`, count, expectedHash(v1).hash);
      const changeStart = Date.now();
      const v2 = (await kube.applyBundle(name, specFor(cas[1]!, selector)));
      const expected = expectedHash(v2);
      const changeDone = await waitForHash(client, `${BUNDLE_LABEL}=${name}`, count, expected.hash);
      const controllerMs = changeDone - changeStart;
      // Spot check of content, not just the hash annotation.
      const sample = await kube.configMap(namespaces[count - 1]!, name);
      if (sample?.data?.['ca-certificates.crt'] !== expected.pem || sample.binaryData?.['truststore.jks'] === undefined) throw new Error('target content is not the expected bundle');
      await kube.waitForCondition(name, 'Synced');
      log(`N=${count}: controller initial ${initialDone - initialStart} ms, change ${controllerMs} ms (${expected.certificates} certificates, ${bytesPerTarget} bytes per apply)`);
      rows.push([`rollout of a change to ${count} namespaces (${expected.certificates} certs, PEM + JKS, ${(bytesPerTarget / 1024).toFixed(0)} KiB per write), controller`, seconds(controllerMs)]);
      rows.push([`same ${count} server-side applies, bare loop, concurrency ${CONCURRENCY}`, seconds(bareMs)]);
      rows.push([`controller / bare loop, ${count} namespaces`, `${(controllerMs / bareMs).toFixed(2)}x`]);
      rows.push([`first rollout (creates) to ${count} namespaces, controller`, seconds(initialDone - initialStart)]);
      log(`etcd after compaction ${megabytes(await compactEtcd(etcdUrl))}`);
    }

    // 3. Memory and resync cost, measured on fresh controller processes.
    const settle = async (proc: ControllerProcess): Promise<{ rss: number; writes: number; heap: number }> => {
      await waitFor('ready', () => proc.ready());
      const bundles = NAMESPACE_COUNTS.length;
      await waitFor('every Bundle reconciled', async () => ((await proc.metric('trust_manager_reconcile_total')) >= bundles ? true : undefined), 600_000);
      await waitFor('queue empty', async () => ((await proc.metric('trust_manager_workqueue_depth')) === 0 ? true : undefined));
      // One sample catches whatever start-up allocation the GC has not returned yet: take the median
      // of samples over a few seconds of idling, so runs (with and without unrelated objects) compare.
      const rssSamples: number[] = [];
      const heapSamples: number[] = [];
      for (let i = 0; i < 7; i++) {
        await sleep(500);
        rssSamples.push(await proc.metric('process_resident_memory_bytes'));
        heapSamples.push(await proc.metric('nodejs_heap_size_used_bytes'));
      }
      return { rss: median(rssSamples), heap: median(heapSamples), writes: await proc.metric('trust_manager_api_writes_total') };
    };
    const afterRollout = await settle(controller!);
    await controller!.stop();
    controller = await startController(plane.kubeconfigPath, controllerArgs, { env: CONTROLLER_ENV, nodeFlags: BENCH_CONTROLLER_FLAGS });
    const restarted = await settle(controller);
    rows.push([`controller RSS after its rollouts (${created} targets)`, `${megabytes(afterRollout.rss)} (heap ${megabytes(afterRollout.heap)})`]);
    rows.push([`controller RSS after a restart and sync (${created} targets in the metadata cache)`, `${megabytes(restarted.rss)} (heap ${megabytes(restarted.heap)})`]);
    rows.push(['API writes by the resync of a synced cluster (restart)', String(restarted.writes)]);
    await controller.stop();

    await createUnrelatedConfigMaps(client, 'bench-unrelated', UNRELATED_CONFIGMAPS, CONCURRENCY);
    log(`etcd with unrelated ConfigMaps ${megabytes(await compactEtcd(etcdUrl))}`);
    controller = await startController(plane.kubeconfigPath, controllerArgs, { env: CONTROLLER_ENV, nodeFlags: BENCH_CONTROLLER_FLAGS });
    const withUnrelated = await settle(controller);
    rows.push([`controller RSS after a restart with ${UNRELATED_CONFIGMAPS} unrelated ${UNRELATED_SIZE / 1024} KB ConfigMaps`, `${megabytes(withUnrelated.rss)} (heap ${megabytes(withUnrelated.heap)})`]);
    rows.push(['API writes by that resync', String(withUnrelated.writes)]);
    await controller.stop();
    controller = undefined;
    await client.close();

    const command = `node test/bench/controller.bench.ts ${NAMESPACE_COUNTS.join(' ')}`;
    const flags = BENCH_CONTROLLER_FLAGS.join(' ');
    const nodeOptions = flags !== '' ? `TM_BENCH_CONTROLLER_NODE_OPTIONS='${flags}' ` : '';
    process.stdout.write(`\nCommand: \`${nodeOptions}${command}\` (the controller runs with ${tunablesPrefix().trim() || "glibc's default allocator settings"}; Node ${process.version}; etcd, kube-apiserver, controller and this bench share the machine's cores)\n\n`);
    process.stdout.write('| measurement | value |\n|---|---:|\n');
    for (const [what, value] of rows) process.stdout.write(`| ${what} | ${value} |\n`);
    if (restarted.writes !== 0 || withUnrelated.writes !== 0) {
      process.stderr.write('[bench] FAIL: a resync of a synced cluster wrote to the API server\n');
      process.exitCode = 1;
    }
  } finally {
    await controller?.kill9();
    await plane.stop();
    rmSync(workDir, { recursive: true, force: true });
  }
}

await main();
