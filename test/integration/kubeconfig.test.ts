// Our kubeconfig loader (controller/src/kube/kubeconfig.ts) against a real kube-apiserver: client
// certificates as data and as files, bearer tokens from the TokenRequest API inline and from a
// token file (re-read after a 401, as rotated service account tokens need), in-cluster settings,
// context selection, and the client-node fallback for a KubeConfig object.
//   bash test/cluster/with-cluster.sh node --test test/integration/kubeconfig.test.ts
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeApiError, KubeClient } from '@trust-manager/shared/kube/client.ts';
import { loadKubeConnection, parseKubeconfigFiles, resolveContext } from '@trust-manager/shared/kube/kubeconfig.ts';
import { CONFIGMAPS, resourcePath } from '@trust-manager/shared/kube/resource.ts';
import { useCluster, type TestCluster } from '../cluster/harness.ts';

let cluster: TestCluster;
let admin: KubeClient;
let dir: string;
let namespace: string;
const clients: KubeClient[] = [];

function track(client: KubeClient): KubeClient {
  clients.push(client);
  return client;
}

/** The harness kubeconfig's context, resolved by our own parser. */
function adminContext() {
  return resolveContext(parseKubeconfigFiles([cluster.kubeconfigPath]));
}

async function serviceAccountToken(name: string): Promise<string> {
  const result = await admin.json<{ status: { token: string } }>({
    method: 'POST',
    path: `/api/v1/namespaces/${namespace}/serviceaccounts/${name}/token`,
    body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { audiences: ['https://kubernetes.default.svc'], expirationSeconds: 3600 } },
  });
  return result.status.token;
}

function writeKubeconfig(name: string, user: string, extraCluster = ''): string {
  const ctx = adminContext();
  const path = join(dir, name);
  writeFileSync(
    path,
    [
      'apiVersion: v1',
      'kind: Config',
      `clusters: [{name: local, cluster: {server: "${ctx.server}", certificate-authority-data: "${ctx.caData!.toString('base64')}"${extraCluster}}}]`,
      `users: [{name: u, user: ${user}}]`,
      `contexts: [{name: other, context: {cluster: missing}}, {name: local, context: {cluster: local, user: u, namespace: ${namespace}}}]`,
      'current-context: local',
      '',
    ].join('\n'),
    { mode: 0o600 },
  );
  return path;
}

async function listConfigMaps(client: KubeClient, ns = namespace): Promise<number> {
  const list = await client.json<{ items: unknown[] }>({ path: resourcePath(CONFIGMAPS, { namespace: ns }) });
  return list.items.length;
}

before(async () => {
  cluster = await useCluster();
  dir = mkdtempSync(join(tmpdir(), 'tm-kubeconfig-it-'));
  admin = track(KubeClient.load(cluster.kubeconfigPath));
  namespace = await cluster.newNamespace('kubeconfig');
  // A service account that may list ConfigMaps in its namespace only.
  const apply = (obj: Record<string, unknown>) => cluster.kubectl(['apply', '-f', '-'], { input: JSON.stringify(obj) });
  await apply({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'reader', namespace } });
  await apply({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name: 'reader', namespace }, rules: [{ apiGroups: [''], resources: ['configmaps'], verbs: ['list'] }] });
  await apply({
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'RoleBinding',
    metadata: { name: 'reader', namespace },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'reader' },
    subjects: [{ kind: 'ServiceAccount', name: 'reader', namespace }],
  });
});

after(async () => {
  await Promise.all(clients.map((c) => c.close()));
  rmSync(dir, { recursive: true, force: true });
});

test('the harness kubeconfig (embedded client certificate data) works through our loader', async () => {
  const ctx = adminContext();
  assert.ok(ctx.certData && ctx.keyData && ctx.caData, 'the harness kubeconfig embeds certificate data');
  const version = await admin.json<{ major: string }>({ path: '/version' });
  assert.equal(version.major, '1');
  assert.equal(admin.server, ctx.server);
  await listConfigMaps(admin, 'default');
});

test('client certificate, key and CA from files relative to the kubeconfig; an explicit context', async () => {
  const ctx = adminContext();
  mkdirSync(join(dir, 'pki'), { recursive: true });
  writeFileSync(join(dir, 'pki', 'ca.crt'), ctx.caData!);
  writeFileSync(join(dir, 'pki', 'admin.crt'), ctx.certData!);
  writeFileSync(join(dir, 'pki', 'admin.key'), ctx.keyData!, { mode: 0o600 });
  const path = join(dir, 'files.kubeconfig');
  writeFileSync(
    path,
    [
      `clusters: [{name: local, cluster: {server: "${ctx.server}", certificate-authority: pki/ca.crt}}]`,
      'users: [{name: admin, user: {client-certificate: pki/admin.crt, client-key: pki/admin.key}}]',
      'contexts: [{name: local, context: {cluster: local, user: admin}}]',
      'current-context: nonexistent',
    ].join('\n'),
  );
  assert.throws(() => KubeClient.load(path), /files\.kubeconfig: context "nonexistent" not found \(contexts: local\)/);
  const client = track(KubeClient.load(path, 'local'));
  await listConfigMaps(client, 'default');
});

test('a bearer token from the TokenRequest API authenticates as the service account', async () => {
  const client = track(KubeClient.load(writeKubeconfig('token.kubeconfig', `{token: "${await serviceAccountToken('reader')}"}`)));
  await listConfigMaps(client);
  await assert.rejects(listConfigMaps(client, 'default'), (err: unknown) => err instanceof KubeApiError && err.statusCode === 403 && /system:serviceaccount:.*:reader/.test(err.message));
});

test('a token file is re-read when the API server answers 401 (rotated token)', async () => {
  const tokenFile = join(dir, 'sa-token');
  writeFileSync(tokenFile, 'not-a-valid-token');
  const client = track(new KubeClient(loadKubeConnection({ path: writeKubeconfig('tokenfile.kubeconfig', `{tokenFile: ${tokenFile}}`) }), { credentialRefreshMs: 3_600_000 }));
  await assert.rejects(listConfigMaps(client), (err: unknown) => err instanceof KubeApiError && err.statusCode === 401);
  // The token "rotates": the next request is answered 401 with the cached token, then succeeds with the new one.
  writeFileSync(tokenFile, `${await serviceAccountToken('reader')}\n`);
  await listConfigMaps(client);
});

test('in-cluster: the service account directory and the KUBERNETES_SERVICE_* environment', async () => {
  const ctx = adminContext();
  const sa = join(dir, 'serviceaccount');
  mkdirSync(sa, { recursive: true });
  writeFileSync(join(sa, 'token'), await serviceAccountToken('reader'));
  writeFileSync(join(sa, 'ca.crt'), ctx.caData!);
  const url = new URL(ctx.server);
  const connection = loadKubeConnection({ env: { KUBERNETES_SERVICE_HOST: url.hostname, KUBERNETES_SERVICE_PORT: url.port }, home: join(dir, 'no-home'), serviceAccountDir: sa });
  assert.equal(connection.source, 'in-cluster');
  const client = track(new KubeClient(connection));
  await listConfigMaps(client);
});

test('a client-node KubeConfig object still works (the fallback path for exec and auth-provider users)', async () => {
  const client = track(new KubeClient(cluster.kubeConfig));
  await listConfigMaps(client, 'default');
});
