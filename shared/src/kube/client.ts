// HTTP access to the Kubernetes API: a KubeConnection (kubeconfig.ts: our own loader for in-cluster
// and ordinary kubeconfigs, client-node's KubeConfig only for exec/auth-provider users) supplies the
// server, TLS material, proxy and credentials; Node's own HTTP client sends the requests over one
// keep-alive Agent. client-node's own request path builds a new connection pool for every call, which
// a controller writing to thousands of namespaces cannot afford, so we build the Agent once.
// Nothing here imports client-node at run time: its KubeConfig alone costs ~60 MB RSS (it loads
// every generated API class). Nor undici: loading it costs each process about 6 MB (docs/performance.md).
//
// HTTP/1.1 only, on purpose: with HTTP/2 every write would share one connection, and under a burst of
// concurrent large writes kube-apiserver answered that with ENHANCE_YOUR_CALM (seen in the controller
// benchmark). With HTTP/1.1 each write in flight has its own connection, and watches never share a
// connection with writes.
import type { KubeConfig } from '@kubernetes/client-node';
import type { Agent, ClientRequest, IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import { text as readText } from 'node:stream/consumers';
import { sleep } from './backoff.ts';
import { connectionFromKubeConfig, loadKubeConnection, type KubeConnection } from './kubeconfig.ts';

const http = process.getBuiltinModule('node:http');
const https = process.getBuiltinModule('node:https');

export type Verb = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface KubeRequest {
  method?: Verb;
  /** Absolute API path, e.g. from resourcePath(). */
  path: string;
  query?: Record<string, string | number | boolean | undefined>;
  /** Objects are sent as JSON; strings and RawBody as they are. */
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

/**
 * A body serialised ahead of time, as chunks sent in order without being joined: large shared parts
 * (a bundle every target carries) are then one Buffer for all requests instead of a copy per request.
 */
export class RawBody {
  readonly chunks: readonly Uint8Array[];
  readonly byteLength: number;

  constructor(chunks: readonly Uint8Array[]) {
    this.chunks = chunks;
    this.byteLength = chunks.reduce((sum, chunk) => sum + chunk.byteLength, 0);
  }

  /**
   * The chunks cut into views of at most `max` bytes (no copies). Written one by one with
   * backpressure, a large body then never sits whole in a TLS socket's output buffer: 32 writes in
   * flight cost 32 pieces of memory, not 32 encrypted copies of the body.
   */
  pieces(max: number): Uint8Array[] {
    const out: Uint8Array[] = [];
    for (const chunk of this.chunks) {
      for (let offset = 0; offset < chunk.byteLength; offset += max) out.push(chunk.subarray(offset, Math.min(offset + max, chunk.byteLength)));
    }
    return out;
  }

  toString(): string {
    return Buffer.concat(this.chunks).toString('utf8');
  }
}

/** Largest piece of a RawBody handed to the socket at once (see RawBody.pieces). */
const WRITE_PIECE_BYTES = 64 * 1024;

interface Credentials {
  headers: Record<string, string | string[]>;
  takenAt: number;
}

const DEFAULT_HEADERS_TIMEOUT_MS = 30_000;
const IDLE_CONNECTION_MS = 90_000;
const DEFAULT_BODY_TIMEOUT_MS = 60_000;
/** Longest wait honoured from a Retry-After header. */
const MAX_RETRY_AFTER_MS = 10_000;

export class KubeClient {
  readonly server: string;
  readonly #connection: KubeConnection;
  readonly #credentialRefreshMs: number;
  readonly #maxThrottleRetries: number;
  #agent: Promise<Agent> | undefined;
  #credentials: Credentials | undefined;
  #pendingCredentials: Promise<Credentials> | undefined;

  /** A KubeConnection (see kubeconfig.ts), or a client-node KubeConfig the caller already loaded. */
  constructor(config: KubeConnection | KubeConfig, options: KubeClientOptions = {}) {
    this.#connection = isKubeConnection(config) ? config : connectionFromKubeConfig(config);
    this.server = this.#connection.server.replace(/\/+$/, '');
    this.#credentialRefreshMs = options.credentialRefreshMs ?? 60_000;
    this.#maxThrottleRetries = options.maxThrottleRetries ?? 5;
  }

  /** A client for `--kubeconfig <path>` (optionally a context), else in-cluster or ~/.kube/config. */
  static load(kubeconfigPath?: string, context?: string, options: KubeClientOptions = {}): KubeClient {
    return new KubeClient(loadKubeConnection({ ...(kubeconfigPath !== undefined ? { path: kubeconfigPath } : {}), ...(context !== undefined ? { context } : {}) }), options);
  }

  /** Sends a request and parses the JSON answer; non-2xx answers throw KubeApiError. */
  async json<T>(req: KubeRequest): Promise<T> {
    const res = await this.#send(req);
    const text = await readText(res);
    const statusCode = res.statusCode ?? 0;
    if (statusCode >= 200 && statusCode < 300) {
      return (text === '' ? undefined : JSON.parse(text)) as T;
    }
    throw apiError(statusCode, text);
  }

  /** Opens a streaming request (watch); the caller must consume or destroy the body. */
  async stream(req: KubeRequest): Promise<Readable> {
    const res = await this.#send(req);
    if (res.statusCode === 200) return res;
    const text = await readText(res).catch(() => '');
    throw apiError(res.statusCode ?? 0, text);
  }

  /** Closes the pooled connections; requests still in flight are cut. */
  async close(): Promise<void> {
    const agent = this.#agent;
    this.#agent = undefined;
    if (agent) (await agent).destroy();
  }

  async #send(req: KubeRequest): Promise<IncomingMessage> {
    const url = new URL(this.server + req.path);
    for (const [key, value] of Object.entries(req.query ?? {})) {
      if (value !== undefined) url.searchParams.set(key, String(value));
    }
    // Bytes once, not per attempt.
    let body: Buffer | readonly Uint8Array[] | undefined;
    let contentLength: number | undefined;
    if (req.body instanceof RawBody) {
      body = req.body.pieces(WRITE_PIECE_BYTES);
      contentLength = req.body.byteLength;
    } else if (req.body !== undefined) {
      body = Buffer.from(typeof req.body === 'string' ? req.body : JSON.stringify(req.body), 'utf8');
      contentLength = body.byteLength;
    }

    for (let attempt = 0; ; attempt++) {
      const credentials = await this.#getCredentials();
      const headers: Record<string, string | string[]> = { ...credentials.headers, accept: req.accept ?? 'application/json' };
      if (body !== undefined) headers['content-type'] = req.contentType ?? 'application/json';
      if (contentLength !== undefined) headers['content-length'] = String(contentLength);
      const res = await exchange(url, {
        method: req.method ?? 'GET',
        headers,
        body,
        agent: await this.#getAgent(),
        signal: req.signal,
        headersTimeoutMs: req.headersTimeoutMs ?? DEFAULT_HEADERS_TIMEOUT_MS,
        bodyTimeoutMs: req.bodyTimeoutMs ?? DEFAULT_BODY_TIMEOUT_MS,
      });
      if (res.statusCode === 401 && attempt === 0) {
        // Rotated token (projected service account tokens expire): fetch credentials again once.
        res.resume();
        this.#credentials = undefined;
        continue;
      }
      if (res.statusCode === 429 && attempt < this.#maxThrottleRetries) {
        res.resume();
        await sleep(retryAfterMs(res.headers['retry-after']), req.signal);
        continue;
      }
      return res;
    }
  }

  #getAgent(): Promise<Agent> {
    this.#agent ??= this.#buildAgent();
    return this.#agent;
  }

  async #buildAgent(): Promise<Agent> {
    const { tls, proxyUrl } = await this.#connection.transport();
    const secure = this.server.startsWith('https:');
    // keepAliveMsecs is the TCP keep-alive probe delay: 30 s as client-go (a longer one can race cloud
    // load balancers' idle timeouts). timeout closes pooled connections idle for 90 s, as Go's
    // http.Transport does; requests in flight are bounded by exchange()'s own timers.
    const options = { keepAlive: true, keepAliveMsecs: 30_000, timeout: IDLE_CONNECTION_MS, ...(proxyUrl !== undefined ? { proxyEnv: { [secure ? 'HTTPS_PROXY' : 'HTTP_PROXY']: proxyUrl } } : {}) };
    return secure ? new https.Agent({ ...tls, ...options }) : new http.Agent(options);
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
    const credentials = { headers: await this.#connection.credentials(), takenAt: Date.now() };
    this.#credentials = credentials;
    return credentials;
  }
}

interface Exchange {
  method: Verb;
  headers: Record<string, string | string[]>;
  body: Buffer | readonly Uint8Array[] | undefined;
  agent: Agent;
  signal: AbortSignal | undefined;
  headersTimeoutMs: number;
  bodyTimeoutMs: number;
}

/**
 * One HTTP request: resolves with the response once its headers arrive. Gives up when `signal`
 * aborts (also while the body is being read: the body then fails with the abort reason), when the
 * headers take longer than headersTimeoutMs (also while a proxy tunnel is still being set up), and
 * when the body goes silent for longer than bodyTimeoutMs (a watch whose connection died without a FIN).
 */
function exchange(url: URL, { method, headers, body, agent, signal, headersTimeoutMs, bodyTimeoutMs }: Exchange): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const send = url.protocol === 'https:' ? https.request : http.request;
    const request = send(url, { method, headers, agent });
    let response: IncomingMessage | undefined;
    // Rejects at once: a request still waiting for its socket (a proxy tunnel) emits its error only
    // once it has one.
    const giveUp = (err: Error): void => {
      clearTimeout(headersTimer);
      stopListening();
      response?.destroy(err);
      request.destroy(err);
      reject(err);
    };
    const onAbort = (): void => giveUp(abortReason(signal));
    const stopListening = (): void => signal?.removeEventListener('abort', onAbort);
    const headersTimer = setTimeout(() => giveUp(new Error(`no answer from the API server within ${headersTimeoutMs} ms`)), headersTimeoutMs);
    request.on('response', (res) => {
      clearTimeout(headersTimer);
      response = res;
      res.once('close', stopListening);
      if (bodyTimeoutMs > 0) res.setTimeout(bodyTimeoutMs, () => res.destroy(new Error(`the API server sent nothing for ${bodyTimeoutMs} ms`)));
      resolve(res);
    });
    // After the response has arrived, errors reach its body's reader; this settles the wait for headers.
    request.on('error', (err) => {
      clearTimeout(headersTimer);
      if (response === undefined) stopListening();
      reject(err);
    });
    if (signal?.aborted) return onAbort();
    signal?.addEventListener('abort', onAbort, { once: true });
    void writeBody(request, body);
  });
}

function abortReason(signal: AbortSignal | undefined): Error {
  return signal?.reason instanceof Error ? signal.reason : new DOMException('This operation was aborted', 'AbortError');
}

/** Writes piece by piece, waiting for the socket to drain in between (see RawBody.pieces). */
async function writeBody(request: ClientRequest, body: Buffer | readonly Uint8Array[] | undefined): Promise<void> {
  if (body === undefined || Buffer.isBuffer(body)) {
    request.end(body);
    return;
  }
  for (const piece of body) {
    if (request.destroyed) return;
    if (!request.write(piece)) await drained(request);
  }
  if (!request.destroyed) request.end();
}

function drained(request: ClientRequest): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      request.off('drain', done);
      request.off('close', done);
      resolve();
    };
    request.on('drain', done);
    request.on('close', done);
  });
}

function isKubeConnection(config: KubeConnection | KubeConfig): config is KubeConnection {
  return typeof (config as Partial<KubeConnection>).credentials === 'function' && typeof (config as Partial<KubeConnection>).transport === 'function';
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
