// HTTP access to the Kubernetes API: client-node's KubeConfig supplies the server, TLS material,
// proxy settings and credentials; undici sends the requests over one pooled set of connections.
// client-node's own request path builds a new connection pool for every call, which a controller
// writing to thousands of namespaces cannot afford, so we build the dispatcher once.
//
// HTTP/1.1 only: undici 8 would negotiate HTTP/2 and multiplex everything over one connection. Under
// a burst of concurrent large writes kube-apiserver answered that with ENHANCE_YOUR_CALM, and
// undici let the resulting stream error escape as an uncaught exception (seen in the controller
// benchmark). With HTTP/1.1 each write in flight has its own connection, and watches never share
// a connection with writes.
import type { AgentOptions, RequestOptions as HttpsRequestOptions } from 'node:https';
import { HttpMethod, KubeConfig, RequestContext } from '@kubernetes/client-node';
import { Agent, ProxyAgent, request, type Dispatcher } from 'undici';
import type { Readable } from 'node:stream';
import { sleep } from './backoff.ts';

export type Verb = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface KubeRequest {
  method?: Verb;
  /** Absolute API path, e.g. from resourcePath(). */
  path: string;
  query?: Record<string, string | number | boolean | undefined>;
  /** Objects are sent as JSON; strings as they are. */
  body?: unknown;
  contentType?: string;
  accept?: string;
  signal?: AbortSignal;
  /** Time allowed until the response headers arrive. */
  headersTimeoutMs?: number;
  /** Longest silence allowed between two chunks of the response body (0 = none). */
  bodyTimeoutMs?: number;
}

/** The `Status` object the API server returns with errors. */
export interface KubeStatus {
  kind?: string;
  status?: string;
  message?: string;
  reason?: string;
  code?: number;
  details?: unknown;
}

export class KubeApiError extends Error {
  readonly statusCode: number;
  readonly reason: string | undefined;
  readonly status: KubeStatus | undefined;

  constructor(statusCode: number, status: KubeStatus | undefined, fallback: string) {
    super(status?.message ?? fallback);
    this.name = 'KubeApiError';
    this.statusCode = statusCode;
    this.reason = status?.reason;
    this.status = status;
  }
}

export function isNotFound(err: unknown): boolean {
  return err instanceof KubeApiError && err.statusCode === 404;
}
export function isConflict(err: unknown): boolean {
  return err instanceof KubeApiError && err.statusCode === 409;
}
export function isAlreadyExists(err: unknown): boolean {
  return err instanceof KubeApiError && err.statusCode === 409 && err.reason === 'AlreadyExists';
}
/** 410: the resourceVersion we asked for has been compacted away. */
export function isGone(err: unknown): boolean {
  return err instanceof KubeApiError && err.statusCode === 410;
}

export interface KubeClientOptions {
  /** How long credentials taken from the KubeConfig are reused before being asked for again. */
  credentialRefreshMs?: number;
  /** Retries of a request answered with 429 (API Priority and Fairness) before giving up. */
  maxThrottleRetries?: number;
}

interface Credentials {
  headers: Record<string, string>;
  takenAt: number;
}

const DEFAULT_HEADERS_TIMEOUT_MS = 30_000;
const DEFAULT_BODY_TIMEOUT_MS = 60_000;
/** Longest wait honoured from a Retry-After header. */
const MAX_RETRY_AFTER_MS = 10_000;

export class KubeClient {
  readonly server: string;
  readonly #kc: KubeConfig;
  readonly #credentialRefreshMs: number;
  readonly #maxThrottleRetries: number;
  #dispatcher: Promise<Dispatcher> | undefined;
  #credentials: Credentials | undefined;
  #pendingCredentials: Promise<Credentials> | undefined;

  constructor(kc: KubeConfig, options: KubeClientOptions = {}) {
    const cluster = kc.getCurrentCluster();
    if (!cluster) throw new Error('kubeconfig has no current cluster');
    this.server = cluster.server.replace(/\/+$/, '');
    this.#kc = kc;
    this.#credentialRefreshMs = options.credentialRefreshMs ?? 60_000;
    this.#maxThrottleRetries = options.maxThrottleRetries ?? 5;
  }

  /** A client for `--kubeconfig <path>` (optionally a context), else in-cluster or ~/.kube/config. */
  static load(kubeconfigPath?: string, context?: string): KubeClient {
    const kc = new KubeConfig();
    if (kubeconfigPath !== undefined && kubeconfigPath !== '') kc.loadFromFile(kubeconfigPath);
    else kc.loadFromDefault();
    if (context !== undefined && context !== '') kc.setCurrentContext(context);
    return new KubeClient(kc);
  }

  /** Sends a request and parses the JSON answer; non-2xx answers throw KubeApiError. */
  async json<T>(req: KubeRequest): Promise<T> {
    const res = await this.#send(req);
    const text = await res.body.text();
    if (res.statusCode >= 200 && res.statusCode < 300) {
      return (text === '' ? undefined : JSON.parse(text)) as T;
    }
    throw apiError(res.statusCode, text);
  }

  /** Opens a streaming request (watch); the caller must consume or destroy the body. */
  async stream(req: KubeRequest): Promise<Readable> {
    const res = await this.#send(req);
    if (res.statusCode === 200) return res.body;
    const text = await res.body.text().catch(() => '');
    throw apiError(res.statusCode, text);
  }

  async close(): Promise<void> {
    const dispatcher = this.#dispatcher;
    this.#dispatcher = undefined;
    if (dispatcher) await (await dispatcher).close();
  }

  async #send(req: KubeRequest): Promise<Dispatcher.ResponseData> {
    const url = new URL(this.server + req.path);
    for (const [key, value] of Object.entries(req.query ?? {})) {
      if (value !== undefined) url.searchParams.set(key, String(value));
    }
    let body: string | undefined;
    if (req.body !== undefined) body = typeof req.body === 'string' ? req.body : JSON.stringify(req.body);

    for (let attempt = 0; ; attempt++) {
      const credentials = await this.#getCredentials();
      const headers: Record<string, string> = { ...credentials.headers, accept: req.accept ?? 'application/json' };
      if (body !== undefined) headers['content-type'] = req.contentType ?? 'application/json';
      const res = await request(url, {
        method: req.method ?? 'GET',
        headers,
        body: body ?? null,
        signal: req.signal ?? null,
        dispatcher: await this.#getDispatcher(),
        headersTimeout: req.headersTimeoutMs ?? DEFAULT_HEADERS_TIMEOUT_MS,
        bodyTimeout: req.bodyTimeoutMs ?? DEFAULT_BODY_TIMEOUT_MS,
      });
      if (res.statusCode === 401 && attempt === 0) {
        // Rotated token (projected service account tokens expire): fetch credentials again once.
        await res.body.dump();
        this.#credentials = undefined;
        continue;
      }
      if (res.statusCode === 429 && attempt < this.#maxThrottleRetries) {
        await res.body.dump();
        await sleep(retryAfterMs(res.headers['retry-after']), req.signal);
        continue;
      }
      return res;
    }
  }

  #getDispatcher(): Promise<Dispatcher> {
    this.#dispatcher ??= this.#buildDispatcher();
    return this.#dispatcher;
  }

  async #buildDispatcher(): Promise<Dispatcher> {
    const https: HttpsRequestOptions = {};
    await this.#kc.applyToHTTPSOptions(https);
    const tls: AgentOptions = {};
    if (https.ca !== undefined) tls.ca = https.ca;
    if (https.cert !== undefined) tls.cert = https.cert;
    if (https.key !== undefined) tls.key = https.key;
    if (https.pfx !== undefined) tls.pfx = https.pfx;
    if (https.passphrase !== undefined) tls.passphrase = https.passphrase;
    if (https.rejectUnauthorized !== undefined) tls.rejectUnauthorized = https.rejectUnauthorized;
    if (https.servername !== undefined) tls.servername = https.servername;
    const options = this.#kc.createDispatcherOptions(this.#kc.getCurrentCluster(), tls);
    switch (options.type) {
      case 'agent':
        return new Agent({ connect: options.connect, allowH2: false });
      case 'none':
        return new Agent({ connect: { keepAlive: true, keepAliveInitialDelay: 30_000 }, allowH2: false });
      case 'proxy':
        return new ProxyAgent({ uri: options.uri, requestTls: options.requestTls, connect: options.connect, allowH2: false });
      case 'socks':
        throw new Error(`kubeconfig proxy-url ${options.uri}: SOCKS proxies are not supported`);
    }
  }

  async #getCredentials(): Promise<Credentials> {
    const cached = this.#credentials;
    if (cached && Date.now() - cached.takenAt < this.#credentialRefreshMs) return cached;
    this.#pendingCredentials ??= this.#takeCredentials().finally(() => {
      this.#pendingCredentials = undefined;
    });
    return this.#pendingCredentials;
  }

  async #takeCredentials(): Promise<Credentials> {
    const ctx = new RequestContext(this.server, HttpMethod.GET);
    await this.#kc.applySecurityAuthentication(ctx);
    const headers: Record<string, string> = {};
    for (const [key, value] of Object.entries(ctx.getHeaders())) headers[key.toLowerCase()] = String(value);
    // client-node built a connection pool for this context too; ours (#buildDispatcher) is used instead.
    void ctx.getDispatcher()?.close();
    const credentials = { headers, takenAt: Date.now() };
    this.#credentials = credentials;
    return credentials;
  }
}

function apiError(statusCode: number, text: string): KubeApiError {
  let status: KubeStatus | undefined;
  try {
    const parsed = JSON.parse(text) as unknown;
    if (parsed !== null && typeof parsed === 'object') status = parsed;
  } catch {
    // Not JSON (e.g. a proxy's HTML error page): keep the HTTP status only.
  }
  return new KubeApiError(statusCode, status, `HTTP ${statusCode}${text === '' ? '' : `: ${text.slice(0, 200)}`}`);
}

/** Retry-After in seconds (the API server never sends dates), capped; 1 s when absent. */
export function retryAfterMs(header: string | string[] | undefined): number {
  const value = Array.isArray(header) ? header[0] : header;
  const seconds = value === undefined ? NaN : Number.parseInt(value, 10);
  if (!Number.isFinite(seconds) || seconds < 0) return 1000;
  return Math.min(seconds * 1000, MAX_RETRY_AFTER_MS);
}
