// values.yaml: every upstream value with its upstream default, ours documented, defaults equal to
// the processes' flag defaults, rendered args accepted by the processes' flag parsers, the values
// schema, the generated README/schema in sync, helm lint.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import YAML from 'yaml';
import {
  DEFAULT_METRICS_PORT,
  DEFAULT_READINESS_PROBE_PATH,
  DEFAULT_READINESS_PROBE_PORT,
  DEFAULT_TRUST_NAMESPACE,
  DEFAULT_WEBHOOK_CERT_DIR,
  DEFAULT_WEBHOOK_HOST,
  DEFAULT_WEBHOOK_PORT,
} from '@trust-manager/shared/api/constants.ts';
import { FLAGS, parseFlags } from '@trust-manager/controller/flags.ts';
import { formatGoDuration } from '@trust-manager/shared/cli/duration.ts';
import { WEBHOOK_FLAGS, parseWebhookFlags } from '@trust-manager/webhook/flags.ts';
import { CHART_DIR, KUBE_VERSION, container, controller, helmCommand, render, renderError, webhook } from './helm.ts';
import { parseValues, renderReadme, renderSchema } from '../../scripts/chart-values-docs.ts';

const valuesText = readFileSync(join(CHART_DIR, 'values.yaml'), 'utf8');
const values = YAML.parse(valuesText) as Record<string, unknown>;

function at(path: string): unknown {
  let v: unknown = values;
  for (const p of path.split('.')) {
    if (v === null || typeof v !== 'object' || !Object.hasOwn(v, p)) return undefined;
    v = (v as Record<string, unknown>)[p];
  }
  return v;
}

const RESTRICTED = {
  allowPrivilegeEscalation: false,
  capabilities: { drop: ['ALL'] },
  readOnlyRootFilesystem: true,
  runAsNonRoot: true,
  seccompProfile: { type: 'RuntimeDefault' },
};

/** upstream-compatibility.md 7: every upstream value with its default, value by value. */
const UPSTREAM_DEFAULTS: [string, unknown][] = [
  ['global.rbac.create', true],
  ['global.rbac.aggregateClusterRoles', true],
  ['crds.enabled', true],
  ['crds.keep', true],
  ['replicaCount', 1],
  ['revisionHistoryLimit', 10],
  ['nameOverride', ''],
  ['namespace', ''],
  ['imagePullSecrets', []],
  ['image.repository', ''],
  ['image.name', 'trust-manager'],
  ['image.pullPolicy', 'IfNotPresent'],
  ['defaultPackage.enabled', true],
  ['defaultPackage.resources', {}],
  ['defaultPackage.securityContext', RESTRICTED],
  ['defaultPackageImage.repository', ''],
  ['defaultPackageImage.name', 'trust-pkg-debian-trixie'],
  ['defaultPackageImage.pullPolicy', 'IfNotPresent'],
  ['automountServiceAccountToken', true],
  ['serviceAccount.create', true],
  ['serviceAccount.automountServiceAccountToken', true],
  ['volumes', []],
  ['volumeMounts', []],
  ['resources', {}],
  ['podSecurityContext', {}],
  ['priorityClassName', ''],
  ['nodeSelector', { 'kubernetes.io/os': 'linux' }],
  ['affinity', {}],
  ['tolerations', []],
  ['topologySpreadConstraints', []],
  ['secretTargets.enabled', false],
  ['secretTargets.authorizedSecretsAll', false],
  ['secretTargets.authorizedSecrets', []],
  ['filterExpiredCertificates.enabled', false],
  ['filterNonCACerts.enabled', false],
  ['app.minTLSVersion', ''],
  ['app.cipherSuites', ''],
  ['app.logFormat', 'text'],
  ['app.logLevel', 1],
  ['app.leaderElection.enabled', true],
  ['app.leaderElection.leaseDuration', '15s'],
  ['app.leaderElection.renewDeadline', '10s'],
  ['app.readinessProbe.port', 6060],
  ['app.readinessProbe.path', '/readyz'],
  ['app.trust.namespace', 'cert-manager'],
  ['app.securityContext', RESTRICTED],
  ['app.podLabels', {}],
  ['app.podAnnotations', {}],
  ['app.webhook.host', '0.0.0.0'],
  ['app.webhook.port', 6443],
  ['app.webhook.timeoutSeconds', 5],
  ['app.webhook.hostNetwork', false],
  ['app.webhook.service.type', 'ClusterIP'],
  ['app.webhook.service.ipFamilyPolicy', ''],
  ['app.webhook.service.ipFamilies', []],
  ['app.webhook.tls.helmCert.enabled', false],
  ['app.webhook.tls.approverPolicy.enabled', false],
  ['app.webhook.tls.approverPolicy.certManagerNamespace', 'cert-manager'],
  ['app.webhook.tls.approverPolicy.certManagerServiceAccount', 'cert-manager'],
  ['app.webhook.tls.certificate.duration', ''],
  ['app.webhook.tls.certificate.secretTemplate', {}],
  ['app.metrics.port', 9402],
  ['app.metrics.service.enabled', true],
  ['app.metrics.service.type', 'ClusterIP'],
  ['app.metrics.service.ipFamilyPolicy', ''],
  ['app.metrics.service.ipFamilies', []],
  ['app.metrics.service.servicemonitor.enabled', false],
  ['app.metrics.service.servicemonitor.prometheusInstance', 'default'],
  ['app.metrics.service.servicemonitor.interval', '10s'],
  ['app.metrics.service.servicemonitor.scrapeTimeout', '5s'],
  ['app.metrics.service.servicemonitor.labels', {}],
  ['app.metrics.service.servicemonitor.endpointAdditionalProperties', {}],
  ['podDisruptionBudget.enabled', false],
  ['commonLabels', {}],
  ['commonAnnotations', {}],
  ['extraObjects', []],
  ['enabled', true],
];

/** Upstream values that are unset by default (documented, accepted by the schema). */
const UPSTREAM_UNSET = [
  'image.registry',
  'image.tag',
  'image.digest',
  'defaultPackageImage.registry',
  'defaultPackageImage.tag',
  'defaultPackageImage.digest',
  'serviceAccount.name',
  'app.targetNamespaces',
  'app.webhook.service.nodePort',
  'podDisruptionBudget.minAvailable',
  'podDisruptionBudget.maxUnavailable',
];

/** Upstream values whose default differs on purpose: the chart runs this project's images (upstream: quay.io/jetstack). */
const OUR_IMAGE_DEFAULTS: [string, unknown][] = [
  ['imageRegistry', 'ghcr.io'],
  ['imageNamespace', 'trust-manager-ts'],
];

const OURS: [string, unknown][] = [
  ['app.trust.additionalSourceNamespaces', []],
  ['app.webhook.replicaCount', 2],
  ['app.webhook.podDisruptionBudget.enabled', true],
  ['clusterTrustBundles.enabled', false],
  ['clusterTrustBundles.signerNames', []],
];
const OURS_UNSET = ['global.imagePullSecrets', 'global.commonLabels', 'global.priorityClassName', 'app.controller.maxConcurrentWrites', 'app.controller.workers', 'app.webhook.podDisruptionBudget.minAvailable', 'app.webhook.podDisruptionBudget.maxUnavailable'];

describe('values.yaml', () => {
  const model = parseValues(valuesText);
  const documented = new Map(model.values.map((v) => [v.path.join('.'), v]));
  const parents = new Set(model.parents.map((p) => p.join('.')));

  it('has every upstream value with the upstream default', () => {
    for (const [path, want] of UPSTREAM_DEFAULTS) {
      assert.deepEqual(at(path), want, path);
      assert.ok(documented.get(path)?.hasDefault, `${path} is documented`);
    }
    for (const path of UPSTREAM_UNSET) {
      assert.equal(at(path), undefined, path);
      assert.equal(documented.get(path)?.hasDefault, false, `${path} is documented as unset`);
    }
  });

  it('documents our additions and our image defaults', () => {
    for (const [path, want] of [...OURS, ...OUR_IMAGE_DEFAULTS]) {
      assert.deepEqual(at(path), want, path);
      assert.ok(documented.has(path), path);
    }
    for (const path of OURS_UNSET) assert.equal(documented.get(path)?.hasDefault, false, path);
  });

  it('documents nothing that is not a value, and every leaf value', () => {
    // Objects the model treats as parents are walked into (app.controller: {} has only unset values).
    const leaves = (v: unknown, prefix: string[]): string[] =>
      prefix.length === 0 || parents.has(prefix.join('.'))
        ? Object.entries(v as Record<string, unknown>).flatMap(([k, child]) => leaves(child, [...prefix, k]))
        : [prefix.join('.')];
    for (const leaf of leaves(values, [])) assert.ok(documented.has(leaf), `${leaf} is not documented`);
    for (const parent of parents) {
      const v = at(parent);
      assert.ok(v !== null && typeof v === 'object' && !Array.isArray(v), `${parent} is an object`);
    }
    const known = new Set([...UPSTREAM_DEFAULTS.map(([p]) => p), ...UPSTREAM_UNSET, ...OURS.map(([p]) => p), ...OUR_IMAGE_DEFAULTS.map(([p]) => p), ...OURS_UNSET, 'defaultPackageImage._defaultReference']);
    for (const path of documented.keys()) assert.ok(known.has(path), `${path}: neither upstream nor listed as ours`);
  });
});

describe('chart defaults equal the processes flag defaults', () => {
  it('constants.ts', () => {
    assert.equal(at('app.webhook.port'), DEFAULT_WEBHOOK_PORT);
    assert.equal(at('app.webhook.host'), DEFAULT_WEBHOOK_HOST);
    assert.equal(at('app.readinessProbe.port'), DEFAULT_READINESS_PROBE_PORT);
    assert.equal(at('app.readinessProbe.path'), DEFAULT_READINESS_PROBE_PATH);
    assert.equal(at('app.metrics.port'), DEFAULT_METRICS_PORT);
    assert.equal(at('app.trust.namespace'), DEFAULT_TRUST_NAMESPACE);
  });

  it('the controller flags', () => {
    assert.equal(at('app.leaderElection.enabled'), FLAGS.leaderElect.default);
    assert.equal(at('app.leaderElection.leaseDuration'), formatGoDuration(FLAGS.leaderElectionLeaseDuration.default));
    assert.equal(at('app.leaderElection.renewDeadline'), formatGoDuration(FLAGS.leaderElectionRenewDeadline.default));
    assert.equal(at('app.logFormat'), FLAGS.logFormat.default);
    assert.equal(at('app.logLevel'), FLAGS.logLevel.default);
    assert.equal(at('secretTargets.enabled'), FLAGS.secretTargetsEnabled.default);
    assert.equal(at('filterExpiredCertificates.enabled'), FLAGS.filterExpiredCertificates.default);
    assert.equal(at('filterNonCACerts.enabled'), FLAGS.filterNonCACerts.default);
    assert.equal(at('app.metrics.port'), FLAGS.metricsPort.default);
    assert.equal(at('app.readinessProbe.port'), FLAGS.readinessProbePort.default);
    assert.equal(at('app.readinessProbe.path'), FLAGS.readinessProbePath.default);
    assert.equal(at('app.trust.namespace'), FLAGS.trustNamespace.default);
  });

  it('the webhook flags', () => {
    assert.equal(at('app.webhook.port'), WEBHOOK_FLAGS.webhookPort.default);
    assert.equal(at('app.webhook.host'), WEBHOOK_FLAGS.webhookHost.default);
    assert.equal(at('app.minTLSVersion'), WEBHOOK_FLAGS.tlsMinVersion.default);
    assert.equal(at('app.cipherSuites'), '');
    assert.deepEqual(WEBHOOK_FLAGS.tlsCipherSuites.default, [], 'the chart\'s "" is the flag\'s empty list');
    assert.equal(at('app.logFormat'), WEBHOOK_FLAGS.logFormat.default);
    assert.equal(at('app.logLevel'), WEBHOOK_FLAGS.logLevel.default);
    assert.equal(at('app.metrics.port'), WEBHOOK_FLAGS.metricsPort.default);
    assert.equal(at('app.readinessProbe.port'), WEBHOOK_FLAGS.readinessProbePort.default);
    assert.equal(at('app.readinessProbe.path'), WEBHOOK_FLAGS.readinessProbePath.default);
    assert.equal(at('app.trust.namespace'), WEBHOOK_FLAGS.trustNamespace.default);
    assert.equal(DEFAULT_WEBHOOK_CERT_DIR, '/tls', 'the chart mounts the certificate at /tls');
    assert.equal(WEBHOOK_FLAGS.certificateDir.default, DEFAULT_WEBHOOK_CERT_DIR);
  });
});

describe('rendered args are what the processes accept', () => {
  const everything = {
    app: {
      logFormat: 'json',
      logLevel: 3,
      minTLSVersion: 'VersionTLS12',
      cipherSuites: 'TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256',
      leaderElection: { enabled: false, leaseDuration: '1m30s', renewDeadline: '45s' },
      trust: { namespace: 'trusted', additionalSourceNamespaces: ['team-a', 'team-b'] },
      targetNamespaces: ['team-a', 'team-c'],
      controller: { maxConcurrentWrites: 64, workers: 2 },
      webhook: { host: '127.0.0.1', port: 9443 },
      metrics: { port: 9500 },
      readinessProbe: { port: 6061, path: '/ready' },
    },
    secretTargets: { enabled: true, authorizedSecretsAll: true },
    filterExpiredCertificates: { enabled: true },
    filterNonCACerts: { enabled: true },
  };

  it('controller: defaults and every option', async () => {
    const defaults = parseFlags(container(controller(await render())).args ?? []);
    assert.equal(defaults.kind, 'flags');
    if (defaults.kind !== 'flags') return;
    assert.equal(defaults.flags.defaultPackageLocation, '/packages/cert-manager-package-debian.json');
    assert.equal(defaults.flags.leaderElectionNamespace, 'trust');
    assert.deepEqual(defaults.flags.sourceNamespaces, []);

    const parsed = parseFlags(container(controller(await render({ values: everything }))).args ?? []);
    assert.equal(parsed.kind, 'flags');
    if (parsed.kind !== 'flags') return;
    const f = parsed.flags;
    assert.equal(f.logFormat, 'json');
    assert.equal(f.logLevel, 3);
    assert.equal(f.leaderElect, false);
    assert.equal(f.leaderElectionLeaseDuration, 90_000);
    assert.equal(f.leaderElectionRenewDeadline, 45_000);
    assert.equal(f.trustNamespace, 'trusted');
    assert.deepEqual(f.sourceNamespaces, ['team-a', 'team-b']);
    assert.deepEqual(f.targetNamespaces, ['team-a', 'team-c']);
    assert.equal(f.secretTargetsEnabled, true);
    assert.equal(f.filterExpiredCertificates, true);
    assert.equal(f.filterNonCACerts, true);
    assert.equal(f.maxConcurrentWrites, 64);
    assert.equal(f.workers, 2);
    assert.equal(f.metricsPort, 9500);
    assert.equal(f.readinessProbePort, 6061);
    assert.equal(f.readinessProbePath, '/ready');
  });

  it('webhook: defaults and every option', async () => {
    const defaults = parseWebhookFlags(container(webhook(await render())).args ?? []);
    assert.equal(defaults.kind, 'config', JSON.stringify(defaults));
    if (defaults.kind !== 'config') return;
    assert.equal(defaults.config.certificateDir, '/tls');
    assert.equal(defaults.config.webhookPort, 6443);

    const parsed = parseWebhookFlags(container(webhook(await render({ values: everything }))).args ?? []);
    assert.equal(parsed.kind, 'config', JSON.stringify(parsed));
    if (parsed.kind !== 'config') return;
    const c = parsed.config;
    assert.equal(c.webhookHost, '127.0.0.1');
    assert.equal(c.webhookPort, 9443);
    assert.equal(c.tlsMinVersion, 'VersionTLS12');
    assert.deepEqual(c.tlsCipherSuites, ['TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256', 'TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256']);
    assert.equal(c.logFormat, 'json');
    assert.equal(c.logLevel, 3);
    assert.equal(c.trustNamespace, 'trusted');
    assert.deepEqual(c.sourceNamespaces, ['team-a', 'team-b']);
    assert.equal(c.metricsPort, 9500);
    assert.equal(c.readinessProbePort, 6061);
    assert.equal(c.readinessProbePath, '/ready');
  });
});

describe('values.schema.json', () => {
  it('rejects unknown keys, at the top and nested', async () => {
    assert.match(await renderError({ set: ['foo=bar'] }), /additional properties 'foo' not allowed/);
    assert.match(await renderError({ set: ['app.webhook.foo=1'] }), /at '\/app\/webhook': additional properties 'foo' not allowed/);
    assert.match(await renderError({ set: ['image.tags=v1'] }), /additional properties 'tags' not allowed/);
  });

  it('accepts unknown keys under global and global.rbac (umbrella charts)', async () => {
    await render({ set: ['global.imagePullSecrets[0].name=x', 'global.rbac.other=true'] });
  });

  it('accepts the documented values that are unset by default', async () => {
    await render({
      values: {
        image: { registry: 'r', tag: 't', digest: 'sha256:x' },
        defaultPackageImage: { registry: 'r', tag: 't', digest: 'sha256:x' },
        serviceAccount: { name: 'sa' },
        app: { targetNamespaces: ['a'], webhook: { service: { nodePort: 30000 }, podDisruptionBudget: { minAvailable: '50%' } }, controller: { workers: 1 } },
        podDisruptionBudget: { minAvailable: 1, maxUnavailable: '10%' },
      },
    });
  });

  it('rejects wrong types', async () => {
    assert.match(await renderError({ set: ['replicaCount=true'] }), /replicaCount/);
    assert.match(await renderError({ values: { app: { webhook: { port: 'https' } } } }), /\/app\/webhook\/port/);
    assert.match(await renderError({ values: { secretTargets: { authorizedSecrets: 'a,b' } } }), /authorizedSecrets/);
  });

  it('sets additionalProperties: false on every object but global and global.rbac', () => {
    const schema = JSON.parse(readFileSync(join(CHART_DIR, 'values.schema.json'), 'utf8')) as Record<string, unknown>;
    const objects: [string, Record<string, unknown>][] = [];
    const walk = (node: Record<string, unknown>, path: string): void => {
      if (node.properties !== undefined) {
        objects.push([path, node]);
        for (const [k, child] of Object.entries(node.properties as Record<string, Record<string, unknown>>)) walk(child, path ? `${path}.${k}` : k);
      }
    };
    walk(schema, '');
    assert.ok(objects.length > 20);
    for (const [path, node] of objects) {
      if (path === 'global' || path === 'global.rbac') assert.equal(node.additionalProperties, undefined, path);
      else assert.equal(node.additionalProperties, false, path || '(root)');
    }
  });
});

describe('generated files', () => {
  const model = parseValues(valuesText);

  it('README.md is up to date (node scripts/gen-chart-readme.ts)', () => {
    const readme = readFileSync(join(CHART_DIR, 'README.md'), 'utf8');
    assert.equal(readme, renderReadme(readme, model));
    for (const v of model.values) assert.ok(readme.includes(`#### **${v.path.join('.')}** ~ `), v.path.join('.'));
  });

  it('values.schema.json is up to date (node scripts/gen-chart-readme.ts)', () => {
    assert.equal(readFileSync(join(CHART_DIR, 'values.schema.json'), 'utf8'), renderSchema(model));
  });

  it('the generator rejects an undocumented value', () => {
    assert.throws(() => parseValues(`${valuesText}\nsurprise: 1\n`), /"surprise" has no description comment/);
  });

  it('+docs:schema adds constraints to the schema and the README, and rejects what it cannot mean', () => {
    const model = parseValues('# A port.\n# +docs:type=integer\n# +docs:schema={"minimum": 1, "maximum": 65535}\nport: 80\n');
    const schema = JSON.parse(renderSchema(model)) as { properties: Record<string, unknown> };
    assert.deepEqual(schema.properties.port, { description: 'A port.', type: 'integer', minimum: 1, maximum: 65535, default: 80 });
    assert.match(renderReadme(undefined, model), /Must be from 1 to 65535\./);
    assert.throws(() => parseValues('# A port.\n# +docs:schema={"type": "string"}\nport: 80\n'), /keyword "type" is not one of/);
    assert.throws(() => parseValues('# A port.\n# +docs:schema=minimum 1\nport: 80\n'), /\+docs:schema is not JSON/);
  });
});

describe('helm', () => {
  it('lint passes', async () => {
    const { code, stdout, stderr } = await helmCommand(['lint', CHART_DIR, '--strict', '--kube-version', KUBE_VERSION]);
    assert.equal(code, 0, stdout + stderr);
    assert.match(stdout, /1 chart\(s\) linted, 0 chart\(s\) failed/);
  });

  it('requires Kubernetes >= 1.25 (pre-release versions included, as on EKS)', async () => {
    assert.match(await renderError({ extraArgs: ['--kube-version', '1.24.9'] }), /kubeVersion: >= 1.25.0-0/);
    await render({ extraArgs: ['--kube-version', '1.25.0-eks-1'] });
  });

  it('Chart.yaml names the chart trust-manager', () => {
    const chart = YAML.parse(readFileSync(join(CHART_DIR, 'Chart.yaml'), 'utf8')) as Record<string, string>;
    assert.equal(chart.name, 'trust-manager');
    assert.equal(chart.kubeVersion, '>= 1.25.0-0');
    assert.match(chart.appVersion ?? '', /^v\d+\.\d+\.\d+/);
  });
});
