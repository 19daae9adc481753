// The small plain-HTTP servers both processes run beside their work: health probes and Prometheus
// metrics. One module, so both answer alike: GET and HEAD only, short timeouts, text bodies, and
// "all interfaces" meaning IPv6 and IPv4 as it does for upstream's Go servers.

import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

import { errorMessage } from '../text/error-message.ts';

const { createServer } = process.getBuiltinModule('node:http');

/** What a route answers. */
export interface PlainResponse {
  status: number;
  body: string;
  contentType?: string;
}

/** Handlers by exact path (the query string is ignored). */
export type PlainRoutes = Record<string, () => PlainResponse | Promise<PlainResponse>>;

export interface RunningServer {
  /** The port bound (useful when 0 asked for a free one). */
  port: number;
  close(): Promise<void>;
}

export interface PlainServerOptions {
  port: number;
  /** Default: all interfaces (see listenHost). */
  host?: string;
  routes: PlainRoutes;
}

const TEXT = 'text/plain; charset=utf-8';
/** Probes and scrapes are tiny; a client that takes longer than this is stuck, not slow. */
export const PLAIN_REQUEST_TIMEOUT_MS = 10_000;
const ALLOWED_METHODS = 'GET, HEAD';

/** Kubelet probes: /healthz while the process serves, the readiness path once `isReady()` says so. */
export function probeRoutes(options: { readinessPath: string; isReady: () => boolean; notReadyReason: string }): PlainRoutes {
  return {
    '/healthz': () => ok(),
    [options.readinessPath]: () => (options.isReady() ? ok() : { status: 503, body: `${options.notReadyReason}\n` }),
  };
}

/** Prometheus text exposition of a prom-client Registry (typed structurally: shared needs no prom-client). */
export function metricsRoutes(registry: { metrics(): Promise<string>; contentType: string }): PlainRoutes {
  return { '/metrics': async () => ({ status: 200, body: await registry.metrics(), contentType: registry.contentType }) };
}

export async function servePlain(options: PlainServerOptions): Promise<RunningServer> {
  const server = createServer((request, response) => void answer(options.routes, request, response));
  server.requestTimeout = PLAIN_REQUEST_TIMEOUT_MS;
  server.headersTimeout = PLAIN_REQUEST_TIMEOUT_MS;
  await listen(server, options.port, await listenHost(options.host));
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

async function answer(routes: PlainRoutes, request: IncomingMessage, response: ServerResponse): Promise<void> {
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    return send(response, { status: 405, body: 'method not allowed\n' }, { allow: ALLOWED_METHODS });
  }
  const route = Object.hasOwn(routes, pathOf(request)) ? routes[pathOf(request)] : undefined;
  if (route === undefined) return send(response, { status: 404, body: 'not found\n' });
  try {
    send(response, await route());
  } catch (err) {
    send(response, { status: 500, body: `${errorMessage(err)}\n` });
  }
}

function send(response: ServerResponse, { status, body, contentType }: PlainResponse, headers: Record<string, string> = {}): void {
  // For HEAD, Node sends the headers (with the length of the body) and drops the body itself.
  response.writeHead(status, { 'content-type': contentType ?? TEXT, 'content-length': Buffer.byteLength(body), ...headers });
  response.end(body);
}

function ok(): PlainResponse {
  return { status: 200, body: 'ok\n' };
}

function pathOf(request: IncomingMessage): string {
  return (request.url ?? '').split('?')[0] ?? '';
}

// ---------------------------------------------------------------------------------------------
// Listening on "all interfaces"

/** Hosts that mean "every interface" (upstream's default is 0.0.0.0, which Go serves on IPv6 too). */
const WILDCARD_HOSTS = new Set(['', '0.0.0.0', '::']);

let wildcard: Promise<string> | undefined;

/**
 * The host to pass to listen(). Go's net.Listen on "0.0.0.0" (or "") accepts IPv4 and IPv6; Node's
 * "0.0.0.0" accepts IPv4 only. So a wildcard becomes "::" (dual-stack: IPv4 arrives mapped), or
 * "0.0.0.0" where this host has no IPv6 (e.g. disabled in the pod's network namespace).
 */
export function listenHost(host: string | undefined): Promise<string> {
  if (host !== undefined && !WILDCARD_HOSTS.has(host)) return Promise.resolve(host);
  wildcard ??= canListenOnIPv6().then((yes) => (yes ? '::' : '0.0.0.0'));
  return wildcard;
}

async function canListenOnIPv6(): Promise<boolean> {
  const probe = createServer();
  try {
    await listen(probe, 0, '::');
    return true;
  } catch {
    return false;
  } finally {
    probe.close();
  }
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    // ipv6Only false (the default) is what makes "::" dual-stack.
    server.listen({ port, host, ipv6Only: false }, () => {
      server.off('error', reject);
      resolve();
    });
  });
}
