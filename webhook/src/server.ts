// The webhook process without its command line: HTTPS admission server with hot certificate reload,
// plain-HTTP probe server and metrics server. main.ts adds flags and signals; tests start this directly.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Server as HttpsServer } from 'node:https';
import type { SecureContextOptions } from 'node:tls';

import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';

import { KubeClient } from '@trust-manager/shared/kube/client.ts';

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
  /** Stop accepting, finish in-flight requests, stop everything. */
  close(): Promise<void>;
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

  const probes = await listenPlain(config.readinessProbePort, (request, response) => {
    const path = (request.url ?? '').split('?')[0];
    if (path !== '/healthz' && path !== config.readinessProbePath) return respond(response, 404, 'not found\n');
    return ready ? respond(response, 200, 'ok\n') : respond(response, 503, 'webhook not ready: waiting for the serving certificate\n');
  });
  const metricsServer = await listenPlain(config.metricsPort, (request, response) => {
    if ((request.url ?? '').split('?')[0] !== '/metrics') return respond(response, 404, 'not found\n');
    metrics.registry.metrics().then(
      (text) => respond(response, 200, text, metrics.registry.contentType),
      (error: unknown) => respond(response, 500, `${String(error)}\n`),
    );
  });

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

  const clusterTrustBundles = new ClusterTrustBundleApiWatch({
    logger,
    ...(config.clusterTrustBundlesEnabled === true ? { client: KubeClient.load(config.kubeconfig || undefined) } : {}),
    ...(options.discoveryIntervalMs !== undefined ? { intervalMs: options.discoveryIntervalMs } : {}),
  });
  clusterTrustBundles.start();

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
    });
    await app.listen({ host: config.webhookHost, port: config.webhookPort });
  } catch (error) {
    reloader.close();
    await Promise.all([closePlain(probes), closePlain(metricsServer), clusterTrustBundles.close()]);
    throw error;
  }
  ready = true;
  const webhookPort = (app.server.address() as AddressInfo).port;
  logger.info({ host: config.webhookHost, port: webhookPort, probePort: port(probes), metricsPort: port(metricsServer) }, 'webhook serving');

  const running = app;
  return {
    webhookPort,
    probePort: port(probes),
    metricsPort: port(metricsServer),
    metrics,
    isReady: () => ready,
    close: async () => {
      ready = false;
      reloader.close();
      await running.close();
      await Promise.all([closePlain(probes), closePlain(metricsServer), clusterTrustBundles.close()]);
    },
  };
}

function respond(response: ServerResponse, code: number, body: string, contentType = 'text/plain; charset=utf-8'): void {
  response.writeHead(code, { 'content-type': contentType });
  response.end(body);
}

// All interfaces, as upstream: kubelet probes and Prometheus scrape the pod IP.
async function listenPlain(portNumber: number, handler: (request: IncomingMessage, response: ServerResponse) => void): Promise<Server> {
  const server = createServer(handler);
  server.requestTimeout = 10_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(portNumber, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return server;
}

function closePlain(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

function port(server: Server): number {
  return (server.address() as AddressInfo).port;
}
