// The webhook process without its command line: HTTPS admission server with hot certificate reload,
// plain-HTTP probe server and metrics server. main.ts adds flags and signals; tests start this directly.

import type { AddressInfo } from 'node:net';
import type { Server as HttpsServer } from 'node:https';
import type { SecureContextOptions } from 'node:tls';
import { setTimeout as sleep } from 'node:timers/promises';

import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';

import { listenHost, metricsRoutes, probeRoutes, servePlain } from '@trust-manager/shared/http/plain-server.ts';

import { buildApp } from './app.ts';
import { ClusterTrustBundleApiWatch } from './cluster-trust-bundle-api.ts';
import { CertificateReloader, type KeyPair } from './certificate-reloader.ts';
import type { WebhookConfig } from './flags.ts';
import { createWebhookMetrics, type WebhookMetrics } from './metrics.ts';
import { opensslCipherList, TLS_VERSIONS } from './tls-options.ts';

export interface RunningWebhook {
  webhookPort: number;
  probePort: number;
  metricsPort: number;
  metrics: WebhookMetrics;
  isReady(): boolean;
  /**
   * Stop: first keep serving for drainMs while answering every request with "Connection: close", so that
   * clients move to other endpoints without losing a request; then stop accepting, finish in-flight
   * requests and stop everything.
   */
  close(options?: { drainMs?: number }): Promise<void>;
}

export interface StartOptions {
  /** Certificate re-read fallback interval (tests shorten it). */
  certificatePollIntervalMs?: number;
  /** ClusterTrustBundle API discovery interval (tests shorten it). */
  discoveryIntervalMs?: number;
}

type Webhook = Pick<WebhookConfig, 'webhookHost' | 'webhookPort' | 'certificateDir' | 'tlsMinVersion' | 'tlsCipherSuites' | 'trustNamespace' | 'sourceNamespaces' | 'readinessProbePort' | 'readinessProbePath' | 'metricsPort'> &
  Partial<Pick<WebhookConfig, 'clusterTrustBundlesEnabled' | 'kubeconfig'>>;

export async function startWebhook(config: Webhook, logger: Logger, options: StartOptions = {}): Promise<RunningWebhook> {
  const metrics = createWebhookMetrics();
  let app: FastifyInstance | undefined;
  let ready = false;
  let draining = false;

  // Before any server starts, so that a bad kubeconfig leaves nothing running. The cluster client is
  // loaded only when ClusterTrustBundle support is on.
  const discovery =
    config.clusterTrustBundlesEnabled === true ? (await import('./cluster-trust-bundle-discovery.ts')).clusterTrustBundleDiscovery(config.kubeconfig ?? '') : undefined;
  const clusterTrustBundles = new ClusterTrustBundleApiWatch({ logger, discovery, intervalMs: options.discoveryIntervalMs });
  clusterTrustBundles.start();

  const probes = await servePlain({
    port: config.readinessProbePort,
    routes: probeRoutes({
      readinessPath: config.readinessProbePath,
      isReady: () => ready,
      notReadyReason: 'webhook not ready: waiting for the serving certificate',
    }),
  });
  const metricsServer = await servePlain({ port: config.metricsPort, routes: metricsRoutes(metrics.registry) });

  const tlsSettings: SecureContextOptions = {
    ...(config.tlsMinVersion !== '' ? { minVersion: TLS_VERSIONS[config.tlsMinVersion] } : {}),
    ...(config.tlsCipherSuites.length > 0 ? { ciphers: opensslCipherList(config.tlsCipherSuites) } : {}),
  };
  const secureContext = (pair: KeyPair): SecureContextOptions => ({ ...tlsSettings, cert: pair.cert, key: pair.key });
  const reloader = new CertificateReloader({
    dir: config.certificateDir,
    logger,
    pollIntervalMs: options.certificatePollIntervalMs,
    onChange: (pair) => (app?.server as HttpsServer | undefined)?.setSecureContext(secureContext(pair)),
  });

  try {
    logger.info({ dir: config.certificateDir }, 'waiting for the serving certificate');
    const pair = await reloader.start();
    app = buildApp({
      validation: {
        trustNamespace: config.trustNamespace,
        sourceNamespaces: config.sourceNamespaces,
        get clusterTrustBundles() {
          return clusterTrustBundles.current;
        },
      },
      logger,
      metrics,
      https: secureContext(pair),
      isDraining: () => draining,
    });
    await app.listen({ host: await listenHost(config.webhookHost), port: config.webhookPort });
  } catch (error) {
    reloader.close();
    await Promise.all([probes.close(), metricsServer.close(), clusterTrustBundles.close()]);
    throw error;
  }
  ready = true;
  const webhookPort = (app.server.address() as AddressInfo).port;
  logger.info({ host: config.webhookHost, port: webhookPort, probePort: probes.port, metricsPort: metricsServer.port }, 'webhook serving');

  const running = app;
  return {
    webhookPort,
    probePort: probes.port,
    metricsPort: metricsServer.port,
    metrics,
    isReady: () => ready,
    close: async ({ drainMs = 0 } = {}) => {
      ready = false;
      draining = true;
      if (drainMs > 0) await sleep(drainMs);
      reloader.close();
      await running.close();
      await Promise.all([probes.close(), metricsServer.close(), clusterTrustBundles.close()]);
    },
  };
}
