import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inClusterConnection, KubeconfigError, kubeconfigFiles, loadKubeConnection, parseKubeconfigFiles, resolveContext } from './kubeconfig.ts';

const b64 = (s: string): string => Buffer.from(s).toString('base64');

function withDir(fn: (dir: string) => void | Promise<void>): () => Promise<void> {
  return async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tm-kubeconfig-'));
    try {
      await fn(dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
}

const twoContexts = `
apiVersion: v1
kind: Config
clusters:
- name: a
  cluster:
    server: https://a.example:6443/
    certificate-authority-data: ${b64('CA-A')}
- name: b
  cluster:
    server: https://b.example:6443
    certificate-authority: pki/ca.crt
    insecure-skip-tls-verify: true
    tls-server-name: api.b
    proxy-url: http://proxy.example:3128
users:
- name: cert-user
  user:
    client-certificate-data: ${b64('CERT')}
    client-key-data: ${b64('KEY')}
- name: file-user
  user:
    client-certificate: pki/client.crt
    client-key: /abs/client.key
    tokenFile: token
    as: someone
    as-groups: [g1, g2]
contexts:
- name: ctx-a
  context: {cluster: a, user: cert-user}
- name: ctx-b
  context: {cluster: b, user: file-user, namespace: x}
current-context: ctx-a
`;

test('parses data fields, files relative to the kubeconfig, and selects the context', () => {
  const config = parseKubeconfigFiles(['/etc/kube/config'], () => twoContexts);
  const a = resolveContext(config);
  assert.equal(a.contextName, 'ctx-a');
  assert.equal(a.server, 'https://a.example:6443');
  assert.equal(a.caData?.toString(), 'CA-A');
  assert.equal(a.certData?.toString(), 'CERT');
  assert.equal(a.keyData?.toString(), 'KEY');
  assert.equal(a.insecureSkipTlsVerify, false);
  assert.equal(a.plugin, undefined);

  const b = resolveContext(config, 'ctx-b');
  assert.equal(b.server, 'https://b.example:6443');
  assert.equal(b.caFile, '/etc/kube/pki/ca.crt');
  assert.equal(b.certFile, '/etc/kube/pki/client.crt');
  assert.equal(b.keyFile, '/abs/client.key');
  assert.equal(b.tokenFile, '/etc/kube/token');
  assert.equal(b.insecureSkipTlsVerify, true);
  assert.equal(b.tlsServerName, 'api.b');
  assert.equal(b.proxyUrl, 'http://proxy.example:3128');
  assert.deepEqual(b.impersonate, { user: 'someone', groups: ['g1', 'g2'] });
});

test('JSON kubeconfigs need no YAML parser; several files merge with the first definition winning', () => {
  const files: Record<string, string> = {
    '/one': JSON.stringify({ clusters: [{ name: 'c', cluster: { server: 'https://one' } }], contexts: [{ name: 'x', context: { cluster: 'c' } }] }),
    '/two': JSON.stringify({
      'current-context': 'x',
      clusters: [{ name: 'c', cluster: { server: 'https://two' } }],
      users: [{ name: 'u', user: { token: 't' } }],
      contexts: [{ name: 'x', context: { cluster: 'c', user: 'u' } }],
    }),
  };
  const config = parseKubeconfigFiles(['/one', '/two'], (f) => files[f]!);
  const ctx = resolveContext(config);
  assert.equal(ctx.server, 'https://one');
  assert.equal(ctx.token, undefined); // context x from /one has no user
});

test('errors name the kubeconfig and the missing or wrong field', () => {
  const check = (yaml: string, context: string | undefined, pattern: RegExp) => {
    assert.throws(() => resolveContext(parseKubeconfigFiles(['/k/config'], () => yaml), context), (err: unknown) => {
      assert.ok(err instanceof KubeconfigError, String(err));
      assert.match(err.message, /kubeconfig \/k\/config/);
      assert.match(err.message, pattern);
      return true;
    });
  };
  check(twoContexts, 'nope', /context "nope" not found \(contexts: ctx-a, ctx-b\)/);
  check(twoContexts.replace('current-context: ctx-a', ''), undefined, /current-context is not set/);
  check('clusters: [{name: c, cluster: {}}]\ncontexts: [{name: x, context: {cluster: c}}]\ncurrent-context: x', undefined, /clusters\["c"\]\.cluster\.server is missing/);
  check('clusters: [{name: c, cluster: {server: "not a url"}}]\ncontexts: [{name: x, context: {cluster: c}}]\ncurrent-context: x', undefined, /server "not a url" is not a URL/);
  check('contexts: [{name: x, context: {cluster: c}}]\ncurrent-context: x', undefined, /cluster "c" not found in clusters/);
  check('contexts: [{name: x, context: {}}]\ncurrent-context: x', undefined, /context "x": cluster is missing/);
  check('clusters: [{name: c, cluster: {server: "https://s"}}]\ncontexts: [{name: x, context: {cluster: c, user: u}}]\ncurrent-context: x', undefined, /user "u" not found in users/);
  check(
    'clusters: [{name: c, cluster: {server: "https://s"}}]\nusers: [{name: u, user: {client-certificate-data: Q0VSVA==}}]\ncontexts: [{name: x, context: {cluster: c, user: u}}]\ncurrent-context: x',
    undefined,
    /users\["u"\]\.user: client-certificate is set but client-key \(or client-key-data\) is missing/,
  );
  check('clusters: [{name: c, cluster: {server: "https://s", proxy-url: "socks5://p:1080"}}]\ncontexts: [{name: x, context: {cluster: c}}]\ncurrent-context: x', undefined, /proxy-url socks5:\/\/p:1080: only http/);
  check('clusters: [{cluster: {server: "https://s"}}]', undefined, /clusters\[0\]\.name is missing/);
  check('clusters: {a: 1}', undefined, /clusters must be a list/);
  check('- just\n- a list', undefined, /not a kubeconfig/);
  check('clusters: [unclosed', undefined, /not valid YAML/);
});

test('exec and auth-provider users are marked for client-node', () => {
  const yaml = (user: string) => `clusters: [{name: c, cluster: {server: "https://s"}}]\nusers: [{name: u, user: ${user}}]\ncontexts: [{name: x, context: {cluster: c, user: u}}]\ncurrent-context: x`;
  assert.equal(resolveContext(parseKubeconfigFiles(['/k'], () => yaml('{exec: {command: aws, apiVersion: client.authentication.k8s.io/v1}}'))).plugin, 'exec');
  assert.equal(resolveContext(parseKubeconfigFiles(['/k'], () => yaml('{auth-provider: {name: oidc}}'))).plugin, 'auth-provider');
});

test(
  'connections read CA, client certificate and key from files, and re-read the token file on every refresh',
  withDir(async (dir) => {
    mkdirSync(join(dir, 'pki'));
    writeFileSync(join(dir, 'pki', 'ca.crt'), 'CA');
    writeFileSync(join(dir, 'pki', 'client.crt'), 'CERT');
    writeFileSync(join(dir, 'client.key'), 'KEY');
    writeFileSync(join(dir, 'token'), 'first\n');
    const path = join(dir, 'config');
    writeFileSync(
      path,
      `clusters: [{name: c, cluster: {server: "https://s:6443", certificate-authority: pki/ca.crt}}]
users: [{name: u, user: {client-certificate: pki/client.crt, client-key: client.key, tokenFile: token, as: me, as-groups: [a, b]}}]
contexts: [{name: x, context: {cluster: c, user: u}}]
current-context: x
`,
    );
    const conn = loadKubeConnection({ path });
    assert.equal(conn.server, 'https://s:6443');
    assert.match(conn.source, /config \(context "x"\)/);
    const { tls, proxyUrl } = await conn.transport();
    assert.equal(tls.ca?.toString(), 'CA');
    assert.equal(tls.cert?.toString(), 'CERT');
    assert.equal(tls.key?.toString(), 'KEY');
    assert.equal(tls.rejectUnauthorized, undefined);
    assert.equal(proxyUrl, undefined);
    assert.deepEqual(await conn.credentials(), { authorization: 'Bearer first', 'impersonate-user': 'me', 'impersonate-group': ['a', 'b'] });
    writeFileSync(join(dir, 'token'), 'second');
    assert.equal((await conn.credentials()).authorization, 'Bearer second');
    rmSync(join(dir, 'pki', 'ca.crt'));
    await assert.rejects(conn.transport(), /certificate-authority: cannot read .*pki\/ca\.crt/);
  }),
);

test('a token in the kubeconfig wins over a token file; username and password become basic auth', async () => {
  const yaml = (user: string) => `clusters: [{name: c, cluster: {server: "http://s"}}]\nusers: [{name: u, user: ${user}}]\ncontexts: [{name: x, context: {cluster: c, user: u}}]\ncurrent-context: x`;
  const conn = (user: string) => loadKubeConnectionFrom(yaml(user));
  assert.equal((await conn('{token: t1, tokenFile: /nonexistent}').credentials()).authorization, 'Bearer t1');
  assert.equal((await conn('{username: u, password: p}').credentials()).authorization, `Basic ${b64('u:p')}`);
  assert.deepEqual(await conn('{}').credentials(), {});
});

function loadKubeConnectionFrom(yaml: string): ReturnType<typeof loadKubeConnection> {
  const dir = mkdtempSync(join(tmpdir(), 'tm-kubeconfig-'));
  try {
    writeFileSync(join(dir, 'config'), yaml);
    return loadKubeConnection({ path: join(dir, 'config') });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test(
  'where the configuration comes from: --kubeconfig, $KUBECONFIG, ~/.kube/config, then in-cluster',
  withDir((dir) => {
    const home = join(dir, 'home');
    mkdirSync(join(home, '.kube'), { recursive: true });
    assert.deepEqual(kubeconfigFiles({ path: '/explicit', env: { KUBECONFIG: '/env' }, home }), ['/explicit']);
    assert.deepEqual(kubeconfigFiles({ env: { KUBECONFIG: '/a::/b' }, home }), ['/a', '/b']);
    assert.deepEqual(kubeconfigFiles({ env: {}, home }), []);
    writeFileSync(join(home, '.kube', 'config'), '{}');
    assert.deepEqual(kubeconfigFiles({ env: {}, home }), [join(home, '.kube', 'config')]);

    const sa = join(dir, 'sa');
    const nowhere = join(dir, 'nowhere');
    assert.throws(() => loadKubeConnection({ env: {}, home: nowhere, serviceAccountDir: sa }), /no Kubernetes configuration found: pass --kubeconfig/);
    mkdirSync(sa);
    writeFileSync(join(sa, 'token'), 'sa-token\n');
    writeFileSync(join(sa, 'ca.crt'), 'SA-CA');
    assert.throws(() => loadKubeConnection({ env: {}, home: nowhere, serviceAccountDir: sa }), /KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT must be set/);
    assert.throws(() => loadKubeConnection({ env: {}, home: nowhere, serviceAccountDir: sa, context: 'x' }), /--context x needs a kubeconfig/);
    const conn = loadKubeConnection({ env: { KUBERNETES_SERVICE_HOST: 'fd00::1', KUBERNETES_SERVICE_PORT: '443' }, home: nowhere, serviceAccountDir: sa });
    assert.equal(conn.server, 'https://[fd00::1]:443');
    assert.equal(conn.source, 'in-cluster');
    assert.equal(inClusterConnection({ KUBERNETES_SERVICE_HOST: '10.0.0.1', KUBERNETES_SERVICE_PORT: '8080' }, sa).server, 'http://10.0.0.1:8080');
    return Promise.all([conn.transport(), conn.credentials()]).then(([transport, credentials]) => {
      assert.equal(transport.tls.ca?.toString(), 'SA-CA');
      assert.deepEqual(credentials, { authorization: 'Bearer sa-token' });
    });
  }),
);

test(
  'loading a kubeconfig and building a client does not import @kubernetes/client-node',
  withDir((dir) => {
    const path = join(dir, 'config');
    writeFileSync(path, `clusters: [{name: c, cluster: {server: "https://127.0.0.1:1"}}]\nusers: [{name: u, user: {token: t}}]\ncontexts: [{name: x, context: {cluster: c, user: u}}]\ncurrent-context: x\n`);
    const script = `
      import { registerHooks } from 'node:module';
      const seen = [];
      registerHooks({ resolve(specifier, context, next) { seen.push(specifier); return next(specifier, context); } });
      const { KubeClient } = await import(${JSON.stringify(new URL('./client.ts', import.meta.url).href)});
      const client = KubeClient.load(${JSON.stringify(path)});
      await client.json({ path: '/version', headersTimeoutMs: 2000 }).catch(() => {});
      await client.close();
      process.stdout.write(JSON.stringify(seen.filter((s) => s.includes('client-node'))));
    `;
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: new URL('.', import.meta.url).pathname, encoding: 'utf8' });
    assert.deepEqual(JSON.parse(out), []);
  }),
);
