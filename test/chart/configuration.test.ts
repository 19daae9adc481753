// Configuration the chart must survive: values that cannot work fail `helm install` with a message
// naming the value (values.schema.json, or a template check where the schema cannot say it), global
// values work, and no PodDisruptionBudget blocks every node drain.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseFlags } from '@trust-manager/controller/flags.ts';
import { parseWebhookFlags } from '@trust-manager/webhook/flags.ts';
import { all, container, controller, get, render, renderError, webhook, type Manifest, type PodSpec } from './helm.ts';

interface PDB extends Manifest {
  spec: { selector: unknown; minAvailable?: number | string; maxUnavailable?: number | string };
}

describe('secretTargets.enabled without authorized Secrets', () => {
  const MESSAGE =
    /secretTargets\.enabled=true needs secretTargets\.authorizedSecrets \(the names of the Secrets trust-manager may write\) or secretTargets\.authorizedSecretsAll=true/;

  it('fails the install with the cause, cluster-wide and with app.targetNamespaces', async () => {
    assert.match(await renderError({ set: ['secretTargets.enabled=true'] }), MESSAGE);
    assert.match(await renderError({ values: { secretTargets: { enabled: true, authorizedSecrets: [], authorizedSecretsAll: false } } }), MESSAGE);
    assert.match(await renderError({ values: { secretTargets: { enabled: true }, app: { targetNamespaces: ['team-a'] } } }), MESSAGE);
  });

  it('installs with either way of authorizing Secrets', async () => {
    for (const secretTargets of [{ enabled: true, authorizedSecrets: ['ca-bundle'] }, { enabled: true, authorizedSecretsAll: true }]) {
      const objects = await render({ values: { secretTargets } });
      assert.ok(controller(objects).spec.template.spec.containers[0]?.args?.includes('--secret-targets-enabled=true'), JSON.stringify(secretTargets));
      const rules = get<Manifest & { rules: { resources: string[]; verbs: string[] }[] }>(objects, 'ClusterRole', 'trust-manager').rules;
      assert.ok(rules.some((r) => r.resources.includes('secrets') && r.verbs.includes('watch')), 'the controller may watch target Secrets');
    }
  });

  it('installs when the RBAC is brought by the user (global.rbac.create=false)', async () => {
    const objects = await render({ set: ['secretTargets.enabled=true', 'global.rbac.create=false'] });
    assert.ok(controller(objects).spec.template.spec.containers[0]?.args?.includes('--secret-targets-enabled=true'));
  });
});

describe('values.schema.json rejects values that cannot work', () => {
  const cases: [string, string[] | Record<string, unknown>, RegExp][] = [
    ['log format', ['app.logFormat=xml'], /\/app\/logFormat': value must be one of 'text', 'json'/],
    ['log level', ['app.logLevel=-1'], /\/app\/logLevel': minimum: got -1, want 0/],
    ['log level type', { app: { logLevel: 1.5 } }, /\/app\/logLevel': got number, want integer/],
    ['TLS version', ['app.minTLSVersion=TLS1.3'], /\/app\/minTLSVersion': value must be one of '', 'VersionTLS10'/],
    ['webhook port', ['app.webhook.port=0'], /\/app\/webhook\/port': minimum: got 0, want 1/],
    ['webhook port', ['app.webhook.port=65536'], /\/app\/webhook\/port': maximum: got 65,536, want 65,535/],
    ['metrics port', ['app.metrics.port=70000'], /\/app\/metrics\/port': maximum/],
    ['probe port', ['app.readinessProbe.port=0'], /\/app\/readinessProbe\/port': minimum/],
    ['probe path', ['app.readinessProbe.path=readyz'], /\/app\/readinessProbe\/path': '.*' does not match pattern '\^\/'/],
    ['nodePort', ['app.webhook.service.nodePort=99999'], /\/app\/webhook\/service\/nodePort': maximum/],
    ['webhook timeout below what the API server accepts', ['app.webhook.timeoutSeconds=0'], /\/app\/webhook\/timeoutSeconds': minimum: got 0, want 1/],
    ['webhook timeout above what the API server accepts', ['app.webhook.timeoutSeconds=31'], /\/app\/webhook\/timeoutSeconds': maximum: got 31, want 30/],
    ['image pull policy', ['image.pullPolicy=Sometimes'], /\/image\/pullPolicy': value must be one of 'Always', 'IfNotPresent', 'Never'/],
    ['package image pull policy', ['defaultPackageImage.pullPolicy=always'], /\/defaultPackageImage\/pullPolicy': value must be one of/],
    ['Service type', ['app.webhook.service.type=Ingress'], /\/app\/webhook\/service\/type': value must be one of 'ClusterIP', 'NodePort', 'LoadBalancer'/],
    ['metrics Service type', ['app.metrics.service.type=clusterip'], /\/app\/metrics\/service\/type': value must be one of/],
    ['IP family policy', ['app.webhook.service.ipFamilyPolicy=DualStack'], /\/app\/webhook\/service\/ipFamilyPolicy': value must be one of/],
    ['IP family', ['app.metrics.service.ipFamilies[0]=IPv5'], /\/app\/metrics\/service\/ipFamilies\/0': value must be one of 'IPv4', 'IPv6'/],
    ['lease duration', { app: { leaderElection: { leaseDuration: '15' } } }, /\/app\/leaderElection\/leaseDuration': '15' does not match pattern/],
    ['renew deadline', ['app.leaderElection.renewDeadline=ten seconds'], /\/app\/leaderElection\/renewDeadline': .* does not match pattern/],
    ['scrape interval', { app: { metrics: { service: { servicemonitor: { interval: '10' } } } } }, /\/servicemonitor\/interval': '10' does not match pattern/],
    ['controller writes', ['app.controller.maxConcurrentWrites=0'], /\/app\/controller\/maxConcurrentWrites': minimum: got 0, want 1/],
    ['controller workers', ['app.controller.workers=0'], /\/app\/controller\/workers': minimum/],
    ['webhook replicas', ['app.webhook.replicaCount=-1'], /\/app\/webhook\/replicaCount': minimum/],
    ['revision history', ['revisionHistoryLimit=-1'], /\/revisionHistoryLimit': minimum/],
    ['target namespace name', { app: { targetNamespaces: ['team-a', 'Team_B'] } }, /\/app\/targetNamespaces\/1': 'Team_B' does not match pattern/],
    ['webhook certificate duration', { app: { webhook: { tls: { certificate: { duration: '90d' } } } } }, /\/app\/webhook\/tls\/certificate\/duration': '90d' does not match pattern/],
    ['imagePullSecrets as strings', ['imagePullSecrets[0]=pull'], /\/imagePullSecrets\/0': got string, want object/],
    ['imagePullSecrets without a name', { imagePullSecrets: [{ secret: 'pull' }] }, /\/imagePullSecrets\/0': missing property 'name'/],
    ['global.imagePullSecrets as strings', ['global.imagePullSecrets[0]=pull'], /\/global\/imagePullSecrets\/0': got string, want object/],
    ['global.commonLabels as a list', ['global.commonLabels[0]=a'], /\/global\/commonLabels': got array, want object/],
  ];
  for (const [what, values, message] of cases) {
    it(`${what}: ${JSON.stringify(values)}`, async () => {
      assert.match(await renderError(Array.isArray(values) ? { set: values } : { values }), message);
    });
  }

  it('accepts the edges of each range and every allowed value', async () => {
    await render({
      values: {
        app: {
          logFormat: 'json',
          logLevel: 5,
          minTLSVersion: 'VersionTLS13',
          leaderElection: { leaseDuration: '1m30s', renewDeadline: '500ms' },
          readinessProbe: { port: 1 },
          webhook: { port: 65535, timeoutSeconds: 30, tls: { certificate: { duration: '2160h30m' } }, service: { type: 'NodePort', nodePort: 30000, ipFamilyPolicy: 'RequireDualStack', ipFamilies: ['IPv6', 'IPv4'] } },
          metrics: { port: 1024, service: { type: 'LoadBalancer', servicemonitor: { interval: '1m', scrapeTimeout: '30s' } } },
          controller: { maxConcurrentWrites: 1, workers: 1 },
          targetNamespaces: ['a', `t${'0'.repeat(61)}z`],
        },
        image: { pullPolicy: 'Always' },
        defaultPackageImage: { pullPolicy: 'Never' },
        revisionHistoryLimit: 0,
      },
    });
    await render({ set: ['app.webhook.timeoutSeconds=1'] });
  });
});

describe('values the schema rejects for the processes are values the processes refuse', () => {
  // Rendered without the schema: the process that gets the value must refuse to start with it.
  const cases: [Record<string, unknown>, 'controller' | 'webhook', RegExp][] = [
    [{ app: { logFormat: 'xml' } }, 'controller', /log-format/],
    [{ app: { logFormat: 'xml' } }, 'webhook', /log-format/],
    [{ app: { logLevel: -1 } }, 'controller', /log-level/],
    [{ app: { minTLSVersion: 'TLS1.3' } }, 'webhook', /TLS1\.3/],
    [{ app: { leaderElection: { leaseDuration: '15' } } }, 'controller', /leader-election-lease-duration/],
    [{ app: { readinessProbe: { path: 'readyz' } } }, 'controller', /readiness-probe-path/],
    [{ app: { readinessProbe: { path: 'readyz' } } }, 'webhook', /readiness-probe-path/],
    [{ app: { controller: { workers: 0 } } }, 'controller', /workers/],
    [{ app: { controller: { maxConcurrentWrites: 0 } } }, 'controller', /max-concurrent-writes/],
  ];
  for (const [values, process, message] of cases) {
    it(`${process}: ${JSON.stringify(values)}`, async () => {
      const objects = await render({ values, extraArgs: ['--skip-schema-validation'] });
      const args = container(process === 'controller' ? controller(objects) : webhook(objects)).args ?? [];
      assert.throws(() => (process === 'controller' ? parseFlags(args) : parseWebhookFlags(args)), message);
    });
  }
});

describe('global values', () => {
  const podSpecs = (objects: Manifest[]): [string, PodSpec][] => [
    ['controller', controller(objects).spec.template.spec],
    ['webhook', webhook(objects).spec.template.spec],
  ];

  it('global.imagePullSecrets reach the ServiceAccount and both pods, before imagePullSecrets, without duplicates', async () => {
    const objects = await render({ values: { global: { imagePullSecrets: [{ name: 'shared' }, { name: 'both' }] }, imagePullSecrets: [{ name: 'both' }, { name: 'own' }] } });
    const want = [{ name: 'shared' }, { name: 'both' }, { name: 'own' }];
    assert.deepEqual(get(objects, 'ServiceAccount', 'trust-manager').imagePullSecrets, want);
    for (const [name, spec] of podSpecs(objects)) assert.deepEqual((spec as PodSpec & { imagePullSecrets?: unknown }).imagePullSecrets, want, name);
  });

  it('image pull secrets also apply with a ServiceAccount the chart does not create', async () => {
    const objects = await render({ values: { serviceAccount: { create: false, name: 'existing' }, imagePullSecrets: [{ name: 'own' }] } });
    assert.equal(all(objects, 'ServiceAccount').length, 0);
    for (const [name, spec] of podSpecs(objects)) assert.deepEqual((spec as PodSpec & { imagePullSecrets?: unknown }).imagePullSecrets, [{ name: 'own' }], name);
  });

  it('none by default', async () => {
    const objects = await render();
    assert.equal(get(objects, 'ServiceAccount', 'trust-manager').imagePullSecrets, undefined);
    for (const [name, spec] of podSpecs(objects)) assert.equal((spec as PodSpec & { imagePullSecrets?: unknown }).imagePullSecrets, undefined, name);
  });

  it('global.commonLabels label every object; commonLabels win for the same key', async () => {
    const objects = await render({ values: { global: { commonLabels: { team: 'platform', cost: 'shared' } }, commonLabels: { team: 'pki' } } });
    assert.ok(objects.length > 10);
    for (const o of objects) {
      assert.equal(o.metadata.labels?.team, 'pki', `${o.kind}/${o.metadata.name}`);
      assert.equal(o.metadata.labels?.cost, 'shared', `${o.kind}/${o.metadata.name}`);
    }
  });

  it('global.priorityClassName applies unless priorityClassName is set', async () => {
    for (const [name, spec] of podSpecs(await render({ set: ['global.priorityClassName=shared'] }))) assert.equal(spec.priorityClassName, 'shared', name);
    for (const [name, spec] of podSpecs(await render({ set: ['global.priorityClassName=shared', 'priorityClassName=own'] }))) assert.equal(spec.priorityClassName, 'own', name);
  });

  it('other charts\' global values are accepted (umbrella charts)', async () => {
    await render({ set: ['global.logLevel=2', 'global.leaderElection.namespace=kube-system'] });
  });
});

describe('PodDisruptionBudgets never block every node drain', () => {
  const pdb = async (name: string, opts: Parameters<typeof render>[0]): Promise<Omit<PDB['spec'], 'selector'>> => {
    const { selector: _selector, ...rest } = get<PDB>(await render(opts), 'PodDisruptionBudget', name).spec;
    return rest;
  };

  it('one webhook replica: maxUnavailable 1 instead of minAvailable 1', async () => {
    assert.deepEqual(await pdb('trust-manager-webhook', { set: ['app.webhook.replicaCount=1'] }), { maxUnavailable: 1 });
    assert.deepEqual(await pdb('trust-manager-webhook', { set: ['app.webhook.replicaCount=2'] }), { minAvailable: 1 });
    assert.deepEqual(await pdb('trust-manager-webhook', { set: ['app.webhook.replicaCount=3'] }), { minAvailable: 1 });
  });

  it('one controller replica (or the Kubernetes default, null) with the controller PDB: maxUnavailable 1', async () => {
    assert.deepEqual(await pdb('trust-manager', { set: ['podDisruptionBudget.enabled=true'] }), { maxUnavailable: 1 });
    assert.deepEqual(await pdb('trust-manager', { set: ['podDisruptionBudget.enabled=true', 'replicaCount=null'] }), { maxUnavailable: 1 });
    // A string is substituted after rendering: the chart cannot know the count and keeps upstream's default.
    assert.deepEqual(await pdb('trust-manager', { set: ['podDisruptionBudget.enabled=true', 'replicaCount=${REPLICAS}'] }), { minAvailable: 1 });
  });

  it('explicit settings that leave no pod to evict fail the install', async () => {
    assert.match(
      await renderError({ values: { app: { webhook: { replicaCount: 1, podDisruptionBudget: { minAvailable: 1 } } } } }),
      /app\.webhook\.podDisruptionBudget\.minAvailable=1 leaves no pod that may be evicted \(1 replica\(s\)\), so it blocks every node drain/,
    );
    assert.match(await renderError({ values: { app: { webhook: { podDisruptionBudget: { minAvailable: 2 } } } } }), /minAvailable=2 leaves no pod/);
    assert.match(await renderError({ values: { app: { webhook: { podDisruptionBudget: { minAvailable: '100%' } } } } }), /minAvailable=100% leaves no pod/);
    assert.match(await renderError({ values: { app: { webhook: { podDisruptionBudget: { maxUnavailable: 0 } } } } }), /maxUnavailable=0 blocks every node drain/);
    assert.match(await renderError({ values: { podDisruptionBudget: { enabled: true, maxUnavailable: '0%' } } }), /podDisruptionBudget\.maxUnavailable=0% blocks every node drain/);
    assert.match(
      await renderError({ values: { app: { webhook: { podDisruptionBudget: { minAvailable: 1, maxUnavailable: 1 } } } } }),
      /set only one of app\.webhook\.podDisruptionBudget\.minAvailable and app\.webhook\.podDisruptionBudget\.maxUnavailable/,
    );
  });

  it('explicit settings that allow an eviction are kept', async () => {
    assert.deepEqual(await pdb('trust-manager-webhook', { values: { app: { webhook: { replicaCount: 3, podDisruptionBudget: { minAvailable: 2 } } } } }), { minAvailable: 2 });
    assert.deepEqual(await pdb('trust-manager-webhook', { values: { app: { webhook: { podDisruptionBudget: { minAvailable: '50%' } } } } }), { minAvailable: '50%' });
    assert.deepEqual(await pdb('trust-manager-webhook', { values: { app: { webhook: { replicaCount: 1, podDisruptionBudget: { maxUnavailable: 1 } } } } }), { maxUnavailable: 1 });
  });
});
