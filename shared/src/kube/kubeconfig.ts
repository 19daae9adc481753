// Where the API server is and how to authenticate to it, without @kubernetes/client-node.
//
// Importing client-node's KubeConfig loads every generated API class (~60 MB RSS), and the
// controller only needs the connection facts. This loader reads what in-cluster deployments and
// ordinary kubeconfigs use:
//   - in-cluster: $KUBERNETES_SERVICE_HOST/PORT, the service account CA and token (the token file is
//     re-read on every credential refresh, so projected tokens rotate);
//   - kubeconfig files (--kubeconfig, $KUBECONFIG with several files merged as client-go does, else
//     ~/.kube/config): server, certificate-authority[-data], insecure-skip-tls-verify,
//     tls-server-name, proxy-url (http/https), client-certificate[-data] + client-key[-data],
//     token / tokenFile, username + password, impersonation (as, as-groups, as-uid);
//     current-context or an explicit context.
// Users with `exec` or `auth-provider` (cloud plugins, OIDC) are handed to client-node's KubeConfig,
// imported only then: the library stays the fallback for exotic authentication.
import { createRequire } from 'node:module';
import { homedir } from 'node:os';
import { delimiter, dirname, isAbsolute, join } from 'node:path';
import { isIPv6 } from 'node:net';
import type { KubeConfig } from '@kubernetes/client-node';
import { errorMessage } from '@trust-manager/shared/text/error-message.ts';

const { existsSync, readFileSync } = process.getBuiltinModule('node:fs');

/** TLS settings for connections to the API server (the subset of tls.ConnectionOptions we set). */
export interface TlsSettings {
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  pfx?: Buffer;
  passphrase?: string;
  rejectUnauthorized?: boolean;
  servername?: string;
}

export interface Transport {
  tls: TlsSettings;
  /** http(s) proxy to tunnel through (kubeconfig `proxy-url`). */
  proxyUrl?: string;
}

/** Everything KubeClient needs to reach and authenticate to one API server. */
export interface KubeConnection {
  /** API server URL without a trailing slash. */
  readonly server: string;
  /** Where the settings came from, for messages: a kubeconfig path and context, or "in-cluster". */
  readonly source: string;
  /** TLS and proxy settings; read once, when the connection pool is built. */
  transport(): Promise<Transport>;
  /** Request headers carrying the credentials (lower-case names; a list = one header line each); asked again periodically and after a 401. */
  credentials(): Promise<Record<string, string | string[]>>;
}

export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

export interface LoadOptions {
  /** --kubeconfig; empty or undefined: $KUBECONFIG, ~/.kube/config, then in-cluster. */
  path?: string;
  /** --context; empty or undefined: the kubeconfig's current-context. */
  context?: string;
  /** For tests. */
  env?: NodeJS.ProcessEnv;
  home?: string;
  serviceAccountDir?: string;
}

/** Thrown for kubeconfigs we cannot use; the message names the file and the field. */
export class KubeconfigError extends Error {
  override name = 'KubeconfigError';
}

// ---- the kubeconfig file format (clientcmd v1), as far as we read it ----

interface NamedCluster {
  name: string;
  cluster: Record<string, unknown>;
}
interface NamedUser {
  name: string;
  user: Record<string, unknown>;
}
interface NamedContext {
  name: string;
  context: Record<string, unknown>;
}

/** One or more kubeconfig files merged (client-go: the first file that defines a name wins). */
export interface ParsedKubeconfig {
  /** The file(s) read, for messages. */
  source: string;
  currentContext?: string;
  clusters: Map<string, { cluster: Record<string, unknown>; file: string }>;
  users: Map<string, { user: Record<string, unknown>; file: string }>;
  contexts: Map<string, { context: Record<string, unknown>; file: string }>;
}

/** Resolved settings of one context: what a connection is built from. */
export interface ResolvedContext {
  source: string;
  contextName: string;
  server: string;
  caData?: Buffer;
  caFile?: string;
  insecureSkipTlsVerify: boolean;
  tlsServerName?: string;
  proxyUrl?: string;
  certData?: Buffer;
  certFile?: string;
  keyData?: Buffer;
  keyFile?: string;
  token?: string;
  tokenFile?: string;
  username?: string;
  password?: string;
  impersonate?: { user?: string; groups?: string[]; uid?: string };
  /** `exec` or `auth-provider`: handled by client-node. */
  plugin?: 'exec' | 'auth-provider';
}

let yamlParse: ((text: string) => unknown) | undefined;

/** Kubeconfigs are YAML; many are JSON. The YAML parser is loaded only when needed. */
function parseDocument(text: string, file: string): unknown {
  const trimmed = text.trimStart();
  if (trimmed.startsWith('{')) {
    try {
      return JSON.parse(trimmed) as unknown;
    } catch {
      // Flow-style YAML may start with "{" too.
    }
  }
  if (yamlParse === undefined) {
    const yaml = createRequire(import.meta.url)('yaml') as { parse: (text: string) => unknown };
    yamlParse = (t) => yaml.parse(t);
  }
  try {
    return yamlParse(text);
  } catch (err) {
    throw new KubeconfigError(`kubeconfig ${file}: not valid YAML: ${errorMessage(err)}`);
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function namedList<T>(doc: Record<string, unknown>, field: 'clusters' | 'users' | 'contexts', inner: 'cluster' | 'user' | 'context', file: string): T[] {
  const list = doc[field];
  if (list === undefined || list === null) return [];
  if (!Array.isArray(list)) throw new KubeconfigError(`kubeconfig ${file}: ${field} must be a list`);
  return list.map((entry: unknown, i) => {
    if (!isRecord(entry) || typeof entry.name !== 'string' || entry.name === '') {
      throw new KubeconfigError(`kubeconfig ${file}: ${field}[${i}].name is missing`);
    }
    const value = entry[inner] ?? {};
    if (!isRecord(value)) throw new KubeconfigError(`kubeconfig ${file}: ${field}[${i}].${inner} must be a map`);
    return { name: entry.name, [inner]: value } as T;
  });
}

/** Relative file references in a kubeconfig are relative to the kubeconfig's directory (client-go). */
function absolute(file: string, path: unknown): unknown {
  return typeof path === 'string' && path !== '' && !isAbsolute(path) ? join(dirname(file), path) : path;
}

/** Reads and merges kubeconfig files; the first file that defines a name or current-context wins. */
export function parseKubeconfigFiles(files: readonly string[], read: (file: string) => string = (f) => readFileSync(f, 'utf8')): ParsedKubeconfig {
  const parsed: ParsedKubeconfig = { source: files.join(delimiter), clusters: new Map(), users: new Map(), contexts: new Map() };
  for (const file of files) {
    let text: string;
    try {
      text = read(file);
    } catch (err) {
      throw new KubeconfigError(`kubeconfig ${file}: cannot read: ${errorMessage(err)}`);
    }
    const doc = parseDocument(text, file) ?? {};
    if (!isRecord(doc)) throw new KubeconfigError(`kubeconfig ${file}: not a kubeconfig (expected a map with clusters, users and contexts)`);
    for (const { name, cluster } of namedList<NamedCluster>(doc, 'clusters', 'cluster', file)) {
      if (parsed.clusters.has(name)) continue;
      parsed.clusters.set(name, { file, cluster: { ...cluster, 'certificate-authority': absolute(file, cluster['certificate-authority']) } });
    }
    for (const { name, user } of namedList<NamedUser>(doc, 'users', 'user', file)) {
      if (parsed.users.has(name)) continue;
      parsed.users.set(name, {
        file,
        user: {
          ...user,
          'client-certificate': absolute(file, user['client-certificate']),
          'client-key': absolute(file, user['client-key']),
          tokenFile: absolute(file, user.tokenFile ?? user['token-file']),
        },
      });
    }
    for (const { name, context } of namedList<NamedContext>(doc, 'contexts', 'context', file)) {
      if (!parsed.contexts.has(name)) parsed.contexts.set(name, { file, context });
    }
    const current = doc['current-context'];
    if (parsed.currentContext === undefined && typeof current === 'string' && current !== '') parsed.currentContext = current;
  }
  return parsed;
}

function optionalString(value: unknown, where: string): string | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string') throw new KubeconfigError(`${where} must be a string`);
  return value;
}

function base64Field(value: unknown, where: string): Buffer | undefined {
  const text = optionalString(value, where);
  if (text === undefined) return undefined;
  const bytes = Buffer.from(text, 'base64');
  if (bytes.length === 0) throw new KubeconfigError(`${where} is not base64`);
  return bytes;
}

/** Picks the context (explicit, else current-context) and resolves its cluster and user. */
export function resolveContext(config: ParsedKubeconfig, contextName?: string): ResolvedContext {
  const where = `kubeconfig ${config.source}`;
  const name = contextName !== undefined && contextName !== '' ? contextName : config.currentContext;
  if (name === undefined) {
    throw new KubeconfigError(`${where}: current-context is not set; set it or pass --context (contexts: ${[...config.contexts.keys()].join(', ') || 'none'})`);
  }
  const ctx = config.contexts.get(name);
  if (ctx === undefined) {
    throw new KubeconfigError(`${where}: context "${name}" not found (contexts: ${[...config.contexts.keys()].join(', ') || 'none'})`);
  }
  const ctxWhere = `kubeconfig ${ctx.file}: context "${name}"`;
  const clusterName = optionalString(ctx.context.cluster, `${ctxWhere}: cluster`);
  if (clusterName === undefined) throw new KubeconfigError(`${ctxWhere}: cluster is missing`);
  const clusterEntry = config.clusters.get(clusterName);
  if (clusterEntry === undefined) throw new KubeconfigError(`${ctxWhere}: cluster "${clusterName}" not found in clusters`);
  const cluster = clusterEntry.cluster;
  const cw = `kubeconfig ${clusterEntry.file}: clusters["${clusterName}"].cluster`;
  const server = optionalString(cluster.server, `${cw}.server`);
  if (server === undefined) throw new KubeconfigError(`${cw}.server is missing`);
  try {
    new URL(server);
  } catch {
    throw new KubeconfigError(`${cw}.server "${server}" is not a URL`);
  }
  const resolved: ResolvedContext = {
    source: `${config.source} (context "${name}")`,
    contextName: name,
    server: server.replace(/\/+$/, ''),
    insecureSkipTlsVerify: cluster['insecure-skip-tls-verify'] === true,
  };
  const caData = base64Field(cluster['certificate-authority-data'], `${cw}.certificate-authority-data`);
  const caFile = optionalString(cluster['certificate-authority'], `${cw}.certificate-authority`);
  if (caData !== undefined) resolved.caData = caData;
  else if (caFile !== undefined) resolved.caFile = caFile;
  const tlsServerName = optionalString(cluster['tls-server-name'], `${cw}.tls-server-name`);
  if (tlsServerName !== undefined) resolved.tlsServerName = tlsServerName;
  const proxyUrl = optionalString(cluster['proxy-url'], `${cw}.proxy-url`);
  if (proxyUrl !== undefined) {
    if (!/^https?:\/\//.test(proxyUrl)) throw new KubeconfigError(`${cw}.proxy-url ${proxyUrl}: only http:// and https:// proxies are supported`);
    resolved.proxyUrl = proxyUrl;
  }

  const userName = optionalString(ctx.context.user, `${ctxWhere}: user`);
  if (userName === undefined) return resolved; // anonymous
  const userEntry = config.users.get(userName);
  if (userEntry === undefined) throw new KubeconfigError(`${ctxWhere}: user "${userName}" not found in users`);
  const user = userEntry.user;
  const uw = `kubeconfig ${userEntry.file}: users["${userName}"].user`;
  if (user.exec !== undefined && user.exec !== null) resolved.plugin = 'exec';
  else if (user['auth-provider'] !== undefined && user['auth-provider'] !== null) resolved.plugin = 'auth-provider';

  const certData = base64Field(user['client-certificate-data'], `${uw}.client-certificate-data`);
  const certFile = optionalString(user['client-certificate'], `${uw}.client-certificate`);
  const keyData = base64Field(user['client-key-data'], `${uw}.client-key-data`);
  const keyFile = optionalString(user['client-key'], `${uw}.client-key`);
  const hasCert = certData !== undefined || certFile !== undefined;
  const hasKey = keyData !== undefined || keyFile !== undefined;
  if (hasCert && !hasKey) throw new KubeconfigError(`${uw}: client-certificate is set but client-key (or client-key-data) is missing`);
  if (hasKey && !hasCert) throw new KubeconfigError(`${uw}: client-key is set but client-certificate (or client-certificate-data) is missing`);
  if (certData !== undefined) resolved.certData = certData;
  else if (certFile !== undefined) resolved.certFile = certFile;
  if (keyData !== undefined) resolved.keyData = keyData;
  else if (keyFile !== undefined) resolved.keyFile = keyFile;

  const token = optionalString(user.token, `${uw}.token`);
  const tokenFile = optionalString(user.tokenFile, `${uw}.tokenFile`);
  if (token !== undefined) resolved.token = token;
  else if (tokenFile !== undefined) resolved.tokenFile = tokenFile;
  const username = optionalString(user.username, `${uw}.username`);
  if (username !== undefined) {
    resolved.username = username;
    resolved.password = optionalString(user.password, `${uw}.password`) ?? '';
  }
  const as = optionalString(user.as, `${uw}.as`);
  const asUid = optionalString(user['as-uid'], `${uw}.as-uid`);
  const asGroups = user['as-groups'];
  if (asGroups !== undefined && asGroups !== null && !(Array.isArray(asGroups) && asGroups.every((g) => typeof g === 'string'))) {
    throw new KubeconfigError(`${uw}.as-groups must be a list of strings`);
  }
  if (as !== undefined || asUid !== undefined || (Array.isArray(asGroups) && asGroups.length > 0)) {
    resolved.impersonate = {
      ...(as !== undefined ? { user: as } : {}),
      ...(asUid !== undefined ? { uid: asUid } : {}),
      ...(Array.isArray(asGroups) && asGroups.length > 0 ? { groups: asGroups } : {}),
    };
  }
  return resolved;
}

function readFileFor(path: string, what: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new KubeconfigError(`${what}: cannot read ${path}: ${errorMessage(err)}`);
  }
}

/** A connection from resolved kubeconfig settings (no plugin). Files are read when first needed. */
export function connectionFromContext(ctx: ResolvedContext): KubeConnection {
  const where = `kubeconfig ${ctx.source}`;
  return {
    server: ctx.server,
    source: ctx.source,
    // A file that cannot be read is a rejection, not a throw.
    transport: () => settled((): Transport => {
      const tls: TlsSettings = {};
      const ca = ctx.caData ?? (ctx.caFile !== undefined ? readFileFor(ctx.caFile, `${where}: certificate-authority`) : undefined);
      if (ca !== undefined) tls.ca = ca;
      const cert = ctx.certData ?? (ctx.certFile !== undefined ? readFileFor(ctx.certFile, `${where}: client-certificate`) : undefined);
      const key = ctx.keyData ?? (ctx.keyFile !== undefined ? readFileFor(ctx.keyFile, `${where}: client-key`) : undefined);
      if (cert !== undefined) tls.cert = cert;
      if (key !== undefined) tls.key = key;
      if (ctx.insecureSkipTlsVerify) tls.rejectUnauthorized = false;
      if (ctx.tlsServerName !== undefined) tls.servername = ctx.tlsServerName;
      return { tls, ...(ctx.proxyUrl !== undefined ? { proxyUrl: ctx.proxyUrl } : {}) };
    }),
    credentials: () => settled(() => {
      const headers: Record<string, string | string[]> = {};
      if (ctx.token !== undefined) headers.authorization = `Bearer ${ctx.token}`;
      else if (ctx.tokenFile !== undefined) {
        // Re-read on every refresh: bound service account tokens rotate.
        headers.authorization = `Bearer ${readFileFor(ctx.tokenFile, `${where}: tokenFile`).toString('utf8').trim()}`;
      } else if (ctx.username !== undefined) {
        headers.authorization = `Basic ${Buffer.from(`${ctx.username}:${ctx.password ?? ''}`).toString('base64')}`;
      }
      if (ctx.impersonate?.user !== undefined) headers['impersonate-user'] = ctx.impersonate.user;
      if (ctx.impersonate?.uid !== undefined) headers['impersonate-uid'] = ctx.impersonate.uid;
      // One header line per group (the API server reads every Impersonate-Group line).
      if (ctx.impersonate?.groups !== undefined) headers['impersonate-group'] = [...ctx.impersonate.groups];
      return headers;
    }),
  };
}

function settled<T>(fn: () => T): Promise<T> {
  return new Promise((resolve) => resolve(fn()));
}

/** In-cluster: the service account's token and CA, the API server from the Service environment. */
export function inClusterConnection(env: NodeJS.ProcessEnv = process.env, dir: string = SERVICE_ACCOUNT_DIR): KubeConnection {
  const host = env.KUBERNETES_SERVICE_HOST;
  const port = env.KUBERNETES_SERVICE_PORT;
  if (host === undefined || host === '' || port === undefined || port === '') {
    throw new KubeconfigError(`in-cluster configuration: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT must be set (found a service account token in ${dir})`);
  }
  const scheme = port === '80' || port === '8080' || port === '8001' ? 'http' : 'https'; // as client-node
  const server = `${scheme}://${isIPv6(host) ? `[${host}]` : host}:${port}`;
  return connectionFromContext({
    source: 'in-cluster',
    contextName: 'in-cluster',
    server,
    caFile: join(dir, 'ca.crt'),
    insecureSkipTlsVerify: false,
    tokenFile: join(dir, 'token'),
  });
}

/**
 * client-node's KubeConfig as a connection (exec and auth-provider users, or a KubeConfig a caller
 * already has). client-node's runtime is imported only here.
 */
export function connectionFromKubeConfig(kc: KubeConfig, source = 'client-node KubeConfig'): KubeConnection {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new KubeconfigError(`${source}: no current cluster`);
  return {
    server: cluster.server.replace(/\/+$/, ''),
    source,
    async transport() {
      const https: { ca?: Buffer; cert?: Buffer; key?: Buffer; pfx?: Buffer; passphrase?: string; rejectUnauthorized?: boolean; servername?: string } = {};
      await kc.applyToHTTPSOptions(https);
      const tls: TlsSettings = {};
      if (https.ca !== undefined) tls.ca = https.ca;
      if (https.cert !== undefined) tls.cert = https.cert;
      if (https.key !== undefined) tls.key = https.key;
      if (https.pfx !== undefined) tls.pfx = https.pfx;
      if (https.passphrase !== undefined) tls.passphrase = https.passphrase;
      if (https.rejectUnauthorized !== undefined) tls.rejectUnauthorized = https.rejectUnauthorized;
      if (https.servername !== undefined) tls.servername = https.servername;
      const current = kc.getCurrentCluster();
      const proxyUrl = current?.proxyUrl;
      if (proxyUrl !== undefined && proxyUrl !== '') {
        if (!/^https?:\/\//.test(proxyUrl)) throw new KubeconfigError(`${source}: proxy-url ${proxyUrl}: only http:// and https:// proxies are supported`);
        return { tls, proxyUrl };
      }
      return { tls };
    },
    async credentials() {
      const { HttpMethod, RequestContext } = await import('@kubernetes/client-node');
      const ctx = new RequestContext(cluster.server, HttpMethod.GET);
      await kc.applySecurityAuthentication(ctx);
      const headers: Record<string, string> = {};
      for (const [key, value] of Object.entries(ctx.getHeaders())) headers[key.toLowerCase()] = String(value);
      // client-node built a connection pool for this context too; KubeClient uses its own.
      void ctx.getDispatcher()?.close();
      return headers;
    },
  };
}

/** client-node for plugin users: loaded lazily, from the same place (as KubeClient did before this loader). */
function pluginConnection(ctx: ResolvedContext, explicitPath: string | undefined): KubeConnection {
  let loaded: Promise<KubeConnection> | undefined;
  const load = (): Promise<KubeConnection> =>
    (loaded ??= import('@kubernetes/client-node').then(({ KubeConfig: ClientNodeKubeConfig }) => {
      const kc = new ClientNodeKubeConfig();
      if (explicitPath !== undefined && explicitPath !== '') kc.loadFromFile(explicitPath);
      else kc.loadFromDefault();
      kc.setCurrentContext(ctx.contextName);
      return connectionFromKubeConfig(kc, `kubeconfig ${ctx.source}`);
    }));
  return {
    server: ctx.server,
    source: ctx.source,
    transport: async () => (await load()).transport(),
    credentials: async () => (await load()).credentials(),
  };
}

/** The kubeconfig files to read: --kubeconfig, else $KUBECONFIG (a path list), else ~/.kube/config if present. */
export function kubeconfigFiles(options: LoadOptions = {}): string[] {
  if (options.path !== undefined && options.path !== '') return [options.path];
  const env = options.env ?? process.env;
  const list = (env.KUBECONFIG ?? '').split(delimiter).filter((f) => f !== '');
  if (list.length > 0) return list;
  const home = options.home ?? homedir();
  const file = join(home, '.kube', 'config');
  return home !== '' && existsSync(file) ? [file] : [];
}

/**
 * The connection for `--kubeconfig`/`--context`, else $KUBECONFIG, ~/.kube/config, then in-cluster
 * (the order of client-node's loadFromDefault, which this replaces).
 */
export function loadKubeConnection(options: LoadOptions = {}): KubeConnection {
  const files = kubeconfigFiles(options);
  if (files.length === 0) {
    const dir = options.serviceAccountDir ?? SERVICE_ACCOUNT_DIR;
    if (existsSync(join(dir, 'token'))) {
      if (options.context !== undefined && options.context !== '') {
        throw new KubeconfigError(`--context ${options.context} needs a kubeconfig, but none was found (no --kubeconfig, $KUBECONFIG or ~/.kube/config); in-cluster configuration has no contexts`);
      }
      return inClusterConnection(options.env ?? process.env, dir);
    }
    throw new KubeconfigError(
      `no Kubernetes configuration found: pass --kubeconfig, set $KUBECONFIG, create ~/.kube/config, or run in a pod with a service account token (${join(dir, 'token')})`,
    );
  }
  const parsed = parseKubeconfigFiles(files);
  const ctx = resolveContext(parsed, options.context);
  return ctx.plugin !== undefined ? pluginConnection(ctx, options.path) : connectionFromContext(ctx);
}
