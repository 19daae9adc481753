// End to end: the webhook process behind a real kube-apiserver. A Service + EndpointSlice route to the
// locally running process and a ValidatingWebhookConfiguration sends it Bundles; kubectl shows what a
// user sees. Run: bash test/cluster/with-cluster.sh node --test test/e2e/webhook.test.ts

import assert from 'node:assert/strict';
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:tls';
import { X509Certificate } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';

import { WEBHOOK_NAME } from '@trust-manager/shared/api/constants.ts';

import { useCluster, uniqueName, type TestCluster } from '../cluster/harness.ts';
import { createCA, issueCertificate } from '../cluster/pki.ts';
import { ManagedProcess } from '../cluster/processes.ts';
import { prepareServingEndpoint, registerLocalWebhook } from './support/local-webhook.ts';
import { REPO_ROOT, waitForHttpOk } from './support/trust-manager.ts';

const SERVICE = 'trust-manager-webhook-e2e';
const ALLOWED_SOURCE_NAMESPACE = 'team-a';

let cluster: TestCluster;
let namespace: string;
let webhook: ManagedProcess;
let workDir: string;
let configurationName: string;
/** Only Bundles carrying this label are sent to this test's webhook, so a shared cluster's other tests are unaffected. */
let selectorLabel: Record<string, string>;
let caPem: string;
let leafPem: string;
let servingHost: string;
let servingPort: number;

before(async () => {
  cluster = await useCluster();
  await cluster.installBundleCRD();
  namespace = await cluster.newNamespace('webhook-e2e');
  workDir = mkdtempSync(join(tmpdir(), 'webhook-e2e-'));
  selectorLabel = { 'e2e.trust-manager.io/webhook-test': namespace };

  const endpoint = await prepareServingEndpoint(cluster, SERVICE, namespace, workDir);
  caPem = endpoint.caPem;
  leafPem = endpoint.leafPem;
  servingHost = endpoint.host;
  servingPort = endpoint.port;
  webhook = new ManagedProcess('webhook', process.execPath, [
    join(REPO_ROOT, 'webhook/src/main.ts'),
    `--webhook-host=${endpoint.host}`,
    `--webhook-port=${endpoint.port}`,
    `--webhook-certificate-dir=${workDir}`,
    `--trust-namespace=${namespace}`,
    `--source-namespaces=${ALLOWED_SOURCE_NAMESPACE}`,
    '--readiness-probe-port=0',
    '--metrics-port=0',
    '--log-format=json',
  ], join(workDir, 'webhook.log'));
  const { probePort } = await webhook.loggedFields('webhook serving');
  await waitForHttpOk(`http://127.0.0.1:${String(probePort)}/readyz`, webhook);
  configurationName = await registerLocalWebhook(cluster, { service: SERVICE, namespace, endpoint, selectorLabel });
});

after(async () => {
  await cluster?.kubectl(['delete', 'validatingwebhookconfiguration', configurationName, '--ignore-not-found'], { allowFail: true });
  await cluster?.kubectl(['delete', 'bundles', '-l', Object.entries(selectorLabel ?? {}).map(([k, v]) => `${k}=${v}`).join(','), '--wait=false'], { allowFail: true });
  await webhook?.stop();
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

function bundle(name: string, spec: unknown): { apiVersion: string; kind: string; metadata: { name: string; labels: Record<string, string> }; spec: unknown } {
  return { apiVersion: 'trust.cert-manager.io/v1alpha1', kind: 'Bundle', metadata: { name, labels: selectorLabel }, spec };
}

function apply(object: unknown) {
  return cluster.kubectl(['apply', '-f', '-'], { input: JSON.stringify(object), allowFail: true });
}

test('a malformed Bundle is denied with the upstream message through the API server', async () => {
  const name = uniqueName('malformed');
  const result = await apply(bundle(name, { sources: [{ configMap: { name: 'cas', key: 'ca.crt', includeAllKeys: true } }], target: { configMap: { key: 'ca.crt' } } }));
  assert.notEqual(result.code, 0);
  assert.match(
    result.stderr,
    /admission webhook "trust\.cert-manager\.io" denied the request: spec\.sources\[0\]\.configMap: Invalid value: "key: ca\.crt, includeAllKeys: true": source configMap key cannot be defined when includeAllKeys is true/,
  );

  const twice = await apply(bundle(uniqueName('twice'), { sources: [{ useDefaultCAs: true }, { useDefaultCAs: false }], target: { configMap: { key: 'ca.crt' } } }));
  assert.match(
    twice.stderr,
    /admission webhook "trust\.cert-manager\.io" denied the request: spec\.sources: Forbidden: must request default CAs either once or not at all but got 2 requests/,
  );
});

test('a good Bundle is accepted, and an UPDATE that breaks it is denied', async () => {
  const name = uniqueName('good');
  const good = bundle(name, { sources: [{ inLine: caPem }, { configMap: { name: 'extra', key: 'ca.crt', namespace: ALLOWED_SOURCE_NAMESPACE } }], target: { configMap: { key: 'ca.crt' } } });
  const created = await apply(good);
  assert.equal(created.code, 0, created.stderr);
  assert.match(created.stdout, new RegExp(`bundle\\.trust\\.cert-manager\\.io/${name} created`));
  assert.equal(created.stderr, '');

  const broken = bundle(name, { sources: [{ inLine: caPem }], target: { configMap: { key: 'ca.crt', metadata: { labels: { 'trust.cert-manager.io/bundle': 'x' } } } } });
  const updated = await apply(broken);
  assert.notEqual(updated.code, 0);
  assert.match(
    updated.stderr,
    /admission webhook "trust\.cert-manager\.io" denied the request: spec\.target\.configMap\.metadata\.labels: Invalid value: "trust\.cert-manager\.io\/bundle": trust\.cert-manager\.io\/\* labels are not allowed/,
  );
});

test('a source in a namespace that is not allowed is denied (the CRD keeps the namespace field)', async () => {
  const result = await apply(bundle(uniqueName('other-ns'), { sources: [{ secret: { name: 'cas', key: 'ca.crt', namespace: 'kube-system' } }], target: { configMap: { key: 'ca.crt' } } }));
  assert.notEqual(result.code, 0);
  assert.match(
    result.stderr,
    /admission webhook "trust\.cert-manager\.io" denied the request: spec\.sources\[0\]\.secret\.namespace: Forbidden: namespace "kube-system" is not an allowed source namespace; allowed: "[a-z0-9-]+", "team-a"/,
  );
});

test('keepHistory: the webhook denies a zero maxAge the schema lets through, with its field path; valid fields are accepted', async () => {
  const withHistory = (keepHistory: unknown) =>
    bundle(uniqueName('history'), { sources: [{ secret: { name: 'root-ca', key: 'ca.crt', keepHistory } }], target: { configMap: { key: 'ca.crt' } } });
  const zero = await apply(withHistory({ maxAge: '0s' }));
  assert.notEqual(zero.code, 0);
  assert.match(zero.stderr, /admission webhook "trust\.cert-manager\.io" denied the request: spec\.sources\[0\]\.secret\.keepHistory\.maxAge: Invalid value: "0s": must be a positive duration, such as 720h/);
  const good = await apply(withHistory({ limit: 2, maxAge: '720h' }));
  assert.equal(good.code, 0, good.stderr);
});

test('certificate warnings are shown by kubectl and the Bundle is still created', async () => {
  const name = uniqueName('warned');
  const result = await apply(bundle(name, { sources: [{ inLine: leafPem }], target: { configMap: { key: 'ca.crt' } } }));
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, new RegExp(`bundle\\.trust\\.cert-manager\\.io/${name} created`));
  assert.ok(
    result.stderr.includes(`Warning: spec.sources[0].inLine: certificate "CN=${SERVICE}-leaf" is not a CA certificate (basicConstraints CA is not true); it cannot anchor a chain`),
    result.stderr,
  );
});

test('the CRD still rejects what the schema forbids before the webhook is asked', async () => {
  const result = await apply(bundle(uniqueName('schema'), { sources: [], target: { configMap: { key: 'ca.crt' } } }));
  assert.notEqual(result.code, 0);
  assert.match(result.stderr, /spec\.sources: Invalid value: 0: spec\.sources in body should have at least 1 items/);
  assert.doesNotMatch(result.stderr, /admission webhook/);
});

/** The certificate the webhook serves right now (SHA-256 fingerprint). */
function servedFingerprint(): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: servingHost, port: servingPort, rejectUnauthorized: false }, () => {
      resolve(socket.getPeerX509Certificate()?.fingerprint256 ?? '');
      socket.end();
    });
    socket.on('error', reject);
  });
}

test('a rotated serving certificate is served without a restart while admissions keep succeeding', async () => {
  // cert-manager issues a new key pair from a new CA; cainjector publishes both CAs during the change.
  const newCA = await createCA('webhook-e2e-ca-2');
  const rotated = await issueCertificate(newCA, {
    commonName: `${SERVICE}.${namespace}.svc`,
    dnsNames: [`${SERVICE}.${namespace}.svc`],
    ipAddresses: ['127.0.0.1'],
    usage: 'server',
  });
  await cluster.kubectl(['patch', 'validatingwebhookconfiguration', configurationName, '--type=json', '-p',
    JSON.stringify([{ op: 'replace', path: '/webhooks/0/clientConfig/caBundle', value: Buffer.from(`${caPem.trim()}\n${newCA.certPem.trim()}\n`).toString('base64') }])]);

  const before = await servedFingerprint();
  let rotatedAt = 0;
  const outcomes: string[] = [];
  const bad = bundle(uniqueName('rotation'), { sources: [{ useDefaultCAs: false }] });
  for (let i = 0; i < 40; i++) {
    if (i === 5) {
      // Written the way the kubelet updates a Secret volume: new files, then an atomic rename.
      writeFileSync(join(workDir, 'tls.key.new'), rotated.keyPem, { mode: 0o600 });
      writeFileSync(join(workDir, 'tls.crt.new'), rotated.certPem);
      renameSync(join(workDir, 'tls.key.new'), join(workDir, 'tls.key'));
      renameSync(join(workDir, 'tls.crt.new'), join(workDir, 'tls.crt'));
      rotatedAt = i;
    }
    const result = await cluster.kubectl(['create', '--dry-run=server', '-f', '-'], { input: JSON.stringify(bad), allowFail: true });
    outcomes.push(result.stderr.includes(`admission webhook "${WEBHOOK_NAME}" denied the request`) ? 'answered' : `failed: ${result.stderr.trim()}`);
    if (i > rotatedAt && rotatedAt > 0 && (await servedFingerprint()) !== before && i > rotatedAt + 3) break;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  assert.deepEqual(outcomes.filter((o) => o !== 'answered'), [], 'every admission during the rotation was answered by the webhook');
  const after = await servedFingerprint();
  assert.notEqual(after, before);
  assert.equal(after, new X509Certificate(rotated.certPem).fingerprint256);
  assert.equal(webhook.running, true, 'the same webhook process kept serving');
});
