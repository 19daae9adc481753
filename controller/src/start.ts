// The controller process without its command line: default package -> client -> caches -> leader
// election -> reconcilers, plus the metrics and probe servers. main.ts adds flags and signals; tests
// can start this directly (as webhook/src/server.ts startWebhook).
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import { EVENT_REPORTING_CONTROLLER } from '@trust-manager/shared/api/constants.ts';
import { metricsRoutes, probeRoutes, servePlain, type RunningServer } from '@trust-manager/shared/http/plain-server.ts';
import { loadPackage, type DefaultPackage } from './package/package.ts';
import { errorMessage } from '@trust-manager/shared/text/error-message.ts';
import { discoverClusterTrustBundles } from './cluster-trust-bundle-api.ts';
import type { ControllerConfig } from './config.ts';
import { Controller } from './controller.ts';
import { Applier } from './kube/apply.ts';
import { KubeClient } from '@trust-manager/shared/kube/client.ts';
import { EventRecorder } from './kube/events.ts';
import { defaultIdentity, LeaderElector } from './kube/leader-election.ts';
import { ControllerMetrics } from './metrics.ts';

export interface RunningController {
  controller: Controller;
  metrics: ControllerMetrics;
  metricsPort: number;
  readinessProbePort: number;
  /**
   * Resolves when this replica must stop: leadership was lost (reconciling has already stopped, so
   * another leader never races our writes) or leader election failed. Never resolves otherwise.
   */
  fatal: Promise<void>;
  /** Graceful stop: no new writes, writes in flight finish, the Lease is released, everything closes. */
  stop(): Promise<void>;
}

/** Starting failed; `message` is what `error: <message>` prints. Nothing is left running. */
export class StartError extends Error {
  override name = 'StartError';
}

export async function startController(config: ControllerConfig, log: Logger): Promise<RunningController> {
  const defaultPackage = await loadDefaultPackage(config, log);

  let client: KubeClient;
  try {
    client = KubeClient.load(config.kubeconfig, config.context);
  } catch (err) {
    throw new StartError(`failed to build kubernetes client config: ${errorMessage(err)}`);
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

  const servers: RunningServer[] = [];
  try {
    servers.push(await servePlain({ port: config.metricsPort, routes: metricsRoutes(metrics.registry) }));
    servers.push(
      await servePlain({
        port: config.readinessProbePort,
        routes: probeRoutes({ readinessPath: config.readinessProbePath, isReady: () => controller.caches.hasSynced(), notReadyReason: 'caches not synced' }),
      }),
    );
  } catch (err) {
    await Promise.all(servers.map((server) => server.close()));
    await client.close();
    throw new StartError(`failed to start HTTP servers: ${errorMessage(err)}`);
  }
  const [metricsServer, healthServer] = servers as [RunningServer, RunningServer];
  log.info({ metricsPort: metricsServer.port, readinessProbePort: healthServer.port, readinessProbePath: config.readinessProbePath }, 'serving metrics and health probes');

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
  let stopped = false;
  const startReconciling = (): void => {
    controller.startReconciling(stopping.signal).catch((err: unknown) => {
      if (!stopping.signal.aborted) log.error({ err: errorMessage(err) }, 'failed to start reconciling');
    });
  };

  let elector: LeaderElector | undefined;
  let fatal: Promise<void> = new Promise<void>(() => {});
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
    fatal = elector.run(stopping.signal).then(
      async (lost) => {
        if (!lost || stopped) return never();
        // Another replica may lead now: stop writing at once, as controller-runtime does.
        log.error('leader election lost; exiting');
        await controller.stopReconciling();
      },
      (err: unknown) => {
        log.error({ err: errorMessage(err) }, 'leader election failed; exiting');
      },
    );
  } else {
    metrics.leader(true);
    startReconciling();
  }

  return {
    controller,
    metrics,
    metricsPort: metricsServer.port,
    readinessProbePort: healthServer.port,
    fatal,
    stop: async () => {
      if (stopped) return;
      stopped = true;
      stopping.abort(new Error('stopping'));
      await controller.stopReconciling();
      await elector?.release();
      await controller.caches.stop();
      await Promise.all(servers.map((server) => server.close()));
      await client.close();
    },
  };
}

async function loadDefaultPackage(config: ControllerConfig, log: Logger): Promise<DefaultPackage | undefined> {
  if (config.defaultPackageLocation === '') return undefined;
  let defaultPackage: DefaultPackage;
  try {
    defaultPackage = await loadPackage(config.defaultPackageLocation);
  } catch (err) {
    throw new StartError(`must load default package successfully when default package location is set: ${errorMessage(err)}`);
  }
  log.info({ location: config.defaultPackageLocation, name: defaultPackage.name, version: defaultPackage.version }, 'loaded default CA package');
  return defaultPackage;
}

function never(): Promise<void> {
  return new Promise<void>(() => {});
}
