// Entry point: node controller/src/main.ts [flags]   (see --help)
// Wires flags -> config -> client -> caches -> leader election -> reconcilers, serves /metrics and
// the health probes, and shuts down gracefully on SIGTERM/SIGINT: stop taking work, let the writes
// in flight finish, release the Lease, exit 0.
import { hostname } from 'node:os';
import { EVENT_REPORTING_CONTROLLER } from '@trust-manager/shared/api/constants.ts';
import { Applier } from '@trust-manager/shared/kube/apply.ts';
import { KubeClient } from '@trust-manager/shared/kube/client.ts';
import { EventRecorder } from '@trust-manager/shared/kube/events.ts';
import { defaultIdentity, LeaderElector } from '@trust-manager/shared/kube/leader-election.ts';
import { createLogger } from '@trust-manager/shared/kube/logging.ts';
import { loadPackage, type DefaultPackage } from '@trust-manager/shared/package/package.ts';
import { discoverClusterTrustBundles } from './cluster-trust-bundle-api.ts';
import { buildConfig, type ControllerConfig } from './config.ts';
import { Controller } from './controller.ts';
import { parseFlags } from './flags.ts';
import { serveHealth } from './health.ts';
import type { RunningServer } from './listen.ts';
import { ControllerMetrics, serveMetrics } from './metrics.ts';

/** Longest a graceful shutdown may take before the process exits anyway. */
const SHUTDOWN_GRACE_MS = 25_000;

function fail(message: string): never {
  process.stderr.write(`error: ${message}\n`);
  process.exit(1);
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

let config: ControllerConfig;
try {
  const parsed = parseFlags(process.argv.slice(2));
  if (parsed.kind === 'help') {
    process.stdout.write(parsed.text);
    process.exit(0);
  }
  config = buildConfig(parsed.flags);
} catch (err) {
  fail(errorText(err));
}

const log = createLogger({ format: config.logFormat, verbosity: config.logLevel });

let defaultPackage: DefaultPackage | undefined;
if (config.defaultPackageLocation !== '') {
  try {
    defaultPackage = await loadPackage(config.defaultPackageLocation);
  } catch (err) {
    fail(`must load default package successfully when default package location is set: ${errorText(err)}`);
  }
  log.info({ location: config.defaultPackageLocation, name: defaultPackage.name, version: defaultPackage.version }, 'loaded default CA package');
}

let client: KubeClient;
try {
  client = KubeClient.load(config.kubeconfig, config.context);
} catch (err) {
  fail(`failed to build kubernetes client config: ${errorText(err)}`);
}

const clusterTrustBundles = await discoverClusterTrustBundles(client, config.clusterTrustBundlesEnabled, log);

const metrics = new ControllerMetrics();
const applier = new Applier(client, { onWrite: ({ resource, verb, ok }) => metrics.write(resource.kind, verb, ok) });
const events = new EventRecorder(client, {
  reportingInstance: `${EVENT_REPORTING_CONTROLLER}-${hostname()}`,
  logger: log,
  onWrite: (ok) => metrics.write('Event', 'create', ok),
});
const controller = new Controller({
  client,
  applier,
  events,
  options: { ...config.reconcile, clusterTrustBundles, ...(defaultPackage ? { defaultPackage } : {}) },
  workers: config.workers,
  maxConcurrentWrites: config.maxConcurrentWrites,
  logger: log,
  metrics,
});

let servers: RunningServer[];
try {
  const metricsServer = await serveMetrics(metrics.registry, config.metricsPort);
  const healthServer = await serveHealth({ port: config.readinessProbePort, readinessPath: config.readinessProbePath, isReady: () => controller.caches.hasSynced() });
  servers = [metricsServer, healthServer];
  log.info({ metricsPort: metricsServer.port, readinessProbePort: healthServer.port, readinessProbePath: config.readinessProbePath }, 'serving metrics and health probes');
} catch (err) {
  fail(`failed to start HTTP servers: ${errorText(err)}`);
}

log.info(
  {
    server: client.server,
    trustNamespace: config.reconcile.trustNamespace,
    sourceNamespaces: config.reconcile.sourceNamespaces,
    targetNamespaces: config.reconcile.targetNamespaces,
    secretTargetsEnabled: config.reconcile.secretTargetsEnabled,
    clusterTrustBundles,
  },
  'starting controller',
);
controller.startCaches();

const stopping = new AbortController();
let shuttingDown = false;
let elector: LeaderElector | undefined;

function startReconciling(): void {
  controller.startReconciling(stopping.signal).catch((err: unknown) => {
    if (!stopping.signal.aborted) log.error({ err: errorText(err) }, 'failed to start reconciling');
  });
}

if (config.leaderElection.enabled) {
  const lease = config.leaderElection;
  elector = new LeaderElector({
    client,
    namespace: lease.namespace,
    identity: defaultIdentity(),
    leaseDurationMs: lease.leaseDurationMs,
    renewDeadlineMs: lease.renewDeadlineMs,
    retryPeriodMs: lease.retryPeriodMs,
    logger: log,
    onStartedLeading: () => {
      metrics.leader(true);
      startReconciling();
    },
    onStoppedLeading: () => metrics.leader(false),
  });
  elector.run(stopping.signal).then(
    async (lost) => {
      if (!lost || shuttingDown) return;
      // Another replica may lead now: stop writing at once and exit, as controller-runtime does.
      log.error('leader election lost; exiting');
      await controller.stopReconciling();
      process.exit(1);
    },
    (err: unknown) => {
      log.error({ err: errorText(err) }, 'leader election failed; exiting');
      process.exit(1);
    },
  );
} else {
  metrics.leader(true);
  startReconciling();
}

async function shutdown(signal: string): Promise<void> {
  if (shuttingDown) return;
  shuttingDown = true;
  log.info({ signal }, 'shutting down: finishing writes in flight');
  setTimeout(() => {
    log.error('graceful shutdown took too long; exiting');
    process.exit(1);
  }, SHUTDOWN_GRACE_MS).unref();
  stopping.abort(new Error(`received ${signal}`));
  await controller.stopReconciling();
  await elector?.release();
  await controller.caches.stop();
  await Promise.all(servers.map((server) => server.close()));
  await client.close();
  log.info('stopped');
  process.exit(0);
}

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => {
    void shutdown(signal);
  });
}
