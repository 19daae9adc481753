// Configuration the chart must survive, against the real API server: a helm install that could not work
// fails before creating anything, and every bound values.schema.json puts on an API field is the API
// server's own (the value beyond it, rendered without the schema, is refused by the API server; the
// edge is accepted). Unit-level checks of the same values: test/chart/configuration.test.ts.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubernetesObject } from '@kubernetes/client-node';
import { useCluster, type CommandResult, type TestCluster } from '../cluster/harness.ts';
import { CHART_DIR, parseManifests } from './support/trust-manager.ts';

const RELEASE = 'tm-config';
let cluster: TestCluster;
let namespace: string;

before(async () => {
  cluster = await useCluster();
  namespace = await cluster.newNamespace('tm-config');
});

/** The rendered objects of one kind; `unchecked` skips the chart's values schema (so out-of-range values render). */
async function renderKind(set: string[], kind: string, unchecked = false): Promise<KubernetesObject[]> {
  const args = ['template', RELEASE, CHART_DIR, '-n', namespace, ...(unchecked ? ['--skip-schema-validation'] : []), '--set', `app.trust.namespace=${namespace}`, ...set.flatMap((s) => ['--set', s])];
  const objects = parseManifests((await cluster.helm(args)).stdout).filter((o) => o.kind === kind);
  assert.ok(objects.length > 0, `rendered a ${kind}`);
  return objects;
}

/** Server-side dry run: the API server validates and admits, nothing is stored. */
function serverDryRun(objects: KubernetesObject[]): Promise<CommandResult> {
  const list = { apiVersion: 'v1', kind: 'List', items: objects };
  return cluster.kubectl(['apply', '--server-side', '--force-conflicts', '--field-manager=tm-config-test', '--dry-run=server', '-f', '-'], {
    input: JSON.stringify(list),
    allowFail: true,
  });
}

test('helm install with secretTargets.enabled and no authorized Secrets fails with the cause and creates nothing', async () => {
  const result = await cluster.helm(['install', RELEASE, CHART_DIR, '-n', namespace, '--set', `app.trust.namespace=${namespace}`, '--set', 'secretTargets.enabled=true'], {
    allowFail: true,
  });
  assert.notEqual(result.code, 0);
  assert.match(result.stderr, /secretTargets\.enabled=true needs secretTargets\.authorizedSecrets .* or secretTargets\.authorizedSecretsAll=true/);
  assert.equal((await cluster.helm(['list', '-n', namespace, '-q'])).stdout.trim(), '', 'no release');
  const leftovers = await cluster.kubectl(['get', 'deployments,serviceaccounts,roles', '-n', namespace, '-l', `app.kubernetes.io/instance=${RELEASE}`, '-o', 'name']);
  assert.equal(leftovers.stdout.trim(), '', 'no object created');
});

const BOUNDS: { value: string; edge: string; kind: string; refusal: RegExp }[] = [
  { value: 'app.webhook.timeoutSeconds=31', edge: 'app.webhook.timeoutSeconds=30', kind: 'ValidatingWebhookConfiguration', refusal: /timeoutSeconds: Invalid value: 31: the timeout value must be between 1 and 30 seconds/ },
  { value: 'app.webhook.timeoutSeconds=0', edge: 'app.webhook.timeoutSeconds=1', kind: 'ValidatingWebhookConfiguration', refusal: /timeoutSeconds: Invalid value: 0: the timeout value must be between 1 and 30 seconds/ },
  { value: 'app.webhook.port=65536', edge: 'app.webhook.port=65535', kind: 'Deployment', refusal: /containerPort: Invalid value: 65536: must be between 1 and 65535/ },
  { value: 'app.metrics.port=0', edge: 'app.metrics.port=1', kind: 'Deployment', refusal: /containerPort: Required value|containerPort: Invalid value: 0/ },
  { value: 'image.pullPolicy=Sometimes', edge: 'image.pullPolicy=Never', kind: 'Deployment', refusal: /imagePullPolicy: Unsupported value: "Sometimes"/ },
  { value: 'app.webhook.service.type=Ingress', edge: 'app.webhook.service.type=LoadBalancer', kind: 'Service', refusal: /spec\.type: Unsupported value: "Ingress"/ },
  { value: 'app.webhook.service.ipFamilyPolicy=DualStack', edge: 'app.webhook.service.ipFamilyPolicy=PreferDualStack', kind: 'Service', refusal: /ipFamilyPolicy: Unsupported value: "DualStack"/ },
];

for (const { value, edge, kind, refusal } of BOUNDS) {
  test(`${value} is refused by the API server, and by the chart's schema; ${edge} is accepted by both`, async () => {
    const schema = await cluster.helm(['template', RELEASE, CHART_DIR, '-n', namespace, '--set', value], { allowFail: true });
    assert.notEqual(schema.code, 0);
    assert.match(schema.stderr, /values don't meet the specifications of the schema/);
    const refused = await serverDryRun(await renderKind([value], kind, true));
    assert.notEqual(refused.code, 0, refused.stdout);
    assert.match(refused.stderr, refusal);
    const accepted = await serverDryRun(await renderKind([edge], kind));
    assert.equal(accepted.code, 0, accepted.stderr);
  });
}
