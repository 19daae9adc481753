// Metrics Services and ServiceMonitor (upstream metrics_servicemonitor_test), PodDisruptionBudgets,
// common labels/annotations, extraObjects, CRD toggles, NOTES.txt.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CHART_DIR, all, controller, find, get, render, type Manifest, type Service } from './helm.ts';
import { parseValues } from '../../scripts/chart-values-docs.ts';

interface ServiceMonitor extends Manifest {
  spec: {
    jobLabel: string;
    selector: { matchLabels: Record<string, string> };
    namespaceSelector: { matchNames: string[] };
    endpoints: Record<string, unknown>[];
  };
}

interface PDB extends Manifest {
  spec: { selector: { matchLabels: Record<string, string> }; minAvailable?: number | string; maxUnavailable?: number | string };
}

describe('metrics Services', () => {
  it('expose the metrics port of the controller and of the webhook pods', async () => {
    const objects = await render();
    const ctl = get<Service>(objects, 'Service', 'trust-manager-metrics', 'trust');
    const hook = get<Service>(objects, 'Service', 'trust-manager-webhook-metrics', 'trust');
    for (const svc of [ctl, hook]) {
      assert.equal(svc.metadata.labels?.app, 'trust-manager');
      assert.equal(svc.metadata.labels?.['app.kubernetes.io/component'], 'metrics');
      assert.equal(svc.spec.type, 'ClusterIP');
      assert.deepEqual(svc.spec.ports, [{ port: 9402, targetPort: 9402, protocol: 'TCP', name: 'metrics' }]);
    }
    assert.deepEqual(ctl.spec.selector, { app: 'trust-manager' });
    assert.deepEqual(hook.spec.selector, { app: 'trust-manager-webhook' });
  });

  it('follow port, type and dual-stack values, and can be disabled', async () => {
    const svc = get<Service>(
      await render({ values: { app: { metrics: { port: 9999, service: { type: 'NodePort', ipFamilyPolicy: 'SingleStack', ipFamilies: ['IPv4'] } } } } }),
      'Service',
      'trust-manager-metrics',
    );
    assert.equal(svc.spec.type, 'NodePort');
    assert.equal(svc.spec.ipFamilyPolicy, 'SingleStack');
    assert.deepEqual(svc.spec.ipFamilies, ['IPv4']);
    assert.equal(svc.spec.ports[0]?.port, 9999);
    const none = await render({ set: ['app.metrics.service.enabled=false', 'app.metrics.service.servicemonitor.enabled=true'] });
    assert.equal(all(none, 'Service').filter((s) => s.metadata.name.endsWith('-metrics')).length, 0);
    assert.equal(all(none, 'ServiceMonitor').length, 0);
  });
});

describe('ServiceMonitor (upstream metrics_servicemonitor_test)', () => {
  it('is not rendered by default', async () => {
    assert.equal(all(await render(), 'ServiceMonitor').length, 0);
  });

  it('selects both metrics Services, with labels app and prometheus', async () => {
    const objects = await render({ set: ['app.metrics.service.servicemonitor.enabled=true'] });
    const sm = get<ServiceMonitor>(objects, 'ServiceMonitor', 'trust-manager', 'trust');
    assert.equal(sm.metadata.labels?.app, 'trust-manager');
    assert.equal(sm.metadata.labels?.prometheus, 'default');
    assert.equal(sm.spec.jobLabel, 'trust-manager');
    assert.deepEqual(sm.spec.namespaceSelector, { matchNames: ['trust'] });
    assert.deepEqual(sm.spec.endpoints, [{ targetPort: 9402, path: '/metrics', interval: '10s', scrapeTimeout: '5s' }]);
    const selected = all<Service>(objects, 'Service').filter((s) =>
      Object.entries(sm.spec.selector.matchLabels).every(([k, v]) => s.metadata.labels?.[k] === v),
    );
    assert.deepEqual(selected.map((s) => s.metadata.name).sort(), ['trust-manager-metrics', 'trust-manager-webhook-metrics']);
  });

  it('puts extra labels only under metadata.labels and commonAnnotations only under annotations', async () => {
    const sm = get<ServiceMonitor>(
      await render({
        values: {
          app: {
            metrics: {
              service: {
                servicemonitor: {
                  enabled: true,
                  prometheusInstance: 'infra',
                  interval: '30s',
                  scrapeTimeout: '9s',
                  labels: { team: 'pki' },
                  endpointAdditionalProperties: { honorLabels: true },
                },
              },
            },
          },
          commonAnnotations: { owner: 'pki' },
        },
      }),
      'ServiceMonitor',
      'trust-manager',
    );
    assert.equal(sm.metadata.labels?.team, 'pki');
    assert.equal(sm.metadata.labels?.prometheus, 'infra');
    assert.deepEqual(sm.metadata.annotations, { owner: 'pki' });
    assert.deepEqual(sm.spec.selector.matchLabels, { app: 'trust-manager', 'app.kubernetes.io/component': 'metrics' });
    assert.deepEqual(sm.spec.endpoints, [{ targetPort: 9402, path: '/metrics', interval: '30s', scrapeTimeout: '9s', honorLabels: true }]);
    assert.ok(!JSON.stringify(sm.spec).includes('owner'));
  });
});

describe('PodDisruptionBudgets', () => {
  it('webhook: one by default (minAvailable 1); controller: none by default', async () => {
    const objects = await render();
    const pdbs = all<PDB>(objects, 'PodDisruptionBudget');
    assert.equal(pdbs.length, 1);
    assert.equal(pdbs[0]?.metadata.name, 'trust-manager-webhook');
    assert.deepEqual(pdbs[0]?.spec, { selector: { matchLabels: { app: 'trust-manager-webhook' } }, minAvailable: 1 });
  });

  it('controller: minAvailable 1 (maxUnavailable 1 with one replica) unless minAvailable/maxUnavailable are set', async () => {
    const pdb = (objects: Manifest[]) => get<PDB>(objects, 'PodDisruptionBudget', 'trust-manager', 'trust').spec;
    assert.deepEqual(pdb(await render({ set: ['podDisruptionBudget.enabled=true', 'replicaCount=2'] })), { selector: { matchLabels: { app: 'trust-manager' } }, minAvailable: 1 });
    assert.deepEqual(pdb(await render({ set: ['podDisruptionBudget.enabled=true'] })), { selector: { matchLabels: { app: 'trust-manager' } }, maxUnavailable: 1 });
    assert.deepEqual(pdb(await render({ values: { podDisruptionBudget: { enabled: true, maxUnavailable: '25%' } } })), {
      selector: { matchLabels: { app: 'trust-manager' } },
      maxUnavailable: '25%',
    });
    assert.deepEqual(pdb(await render({ values: { replicaCount: 3, podDisruptionBudget: { enabled: true, minAvailable: 2 } } })), {
      selector: { matchLabels: { app: 'trust-manager' } },
      minAvailable: 2,
    });
  });

  it('webhook: configurable and can be disabled', async () => {
    const objects = await render({ values: { app: { webhook: { podDisruptionBudget: { maxUnavailable: 1 } } } } });
    assert.deepEqual(get<PDB>(objects, 'PodDisruptionBudget', 'trust-manager-webhook').spec, {
      selector: { matchLabels: { app: 'trust-manager-webhook' } },
      maxUnavailable: 1,
    });
    assert.equal(all(await render({ set: ['app.webhook.podDisruptionBudget.enabled=false'] }), 'PodDisruptionBudget').length, 0);
  });
});

describe('labels and annotations', () => {
  it('every object carries the common labels; commonLabels/commonAnnotations reach every object but the CRD annotations', async () => {
    const objects = await render({
      values: {
        commonLabels: { 'example.com/team': 'pki' },
        commonAnnotations: { 'example.com/owner': 'pki' },
        podDisruptionBudget: { enabled: true },
        app: { metrics: { service: { servicemonitor: { enabled: true } } }, webhook: { tls: { approverPolicy: { enabled: true } } }, targetNamespaces: ['a'] },
      },
    });
    assert.ok(objects.length > 20);
    for (const o of objects) {
      const id = `${o.kind}/${o.metadata.name}`;
      assert.equal(o.metadata.labels?.['app.kubernetes.io/name'], 'trust-manager', id);
      assert.equal(o.metadata.labels?.['app.kubernetes.io/instance'], 'tm', id);
      assert.equal(o.metadata.labels?.['app.kubernetes.io/managed-by'], 'Helm', id);
      assert.equal(o.metadata.labels?.['app.kubernetes.io/version'], 'v0.1.0', id);
      assert.equal(o.metadata.labels?.['helm.sh/chart'], 'trust-manager-0.1.0', id);
      assert.equal(o.metadata.labels?.['example.com/team'], 'pki', id);
      if (o.kind === 'CustomResourceDefinition') assert.equal(o.metadata.annotations?.['example.com/owner'], undefined, id);
      else assert.equal(o.metadata.annotations?.['example.com/owner'], 'pki', id);
    }
  });

  it('nameOverride renames the objects', async () => {
    const objects = await render({ set: ['nameOverride=tm-ts'] });
    assert.ok(find(objects, 'Deployment', 'tm-ts', 'trust'));
    assert.ok(find(objects, 'Deployment', 'tm-ts-webhook', 'trust'));
    assert.ok(find(objects, 'Service', 'tm-ts', 'trust'));
    assert.ok(find(objects, 'ValidatingWebhookConfiguration', 'tm-ts'));
    assert.equal(find(objects, 'Deployment', 'trust-manager'), undefined);
  });
});

describe('CRD toggles', () => {
  it('renders the Bundle CRD with the keep annotation by default', async () => {
    const crd = get(await render(), 'CustomResourceDefinition', 'bundles.trust.cert-manager.io');
    assert.equal(crd.metadata.annotations?.['helm.sh/resource-policy'], 'keep');
  });

  it('crds.keep=false drops the annotation; crds.enabled=false drops the CRD', async () => {
    const crd = get(await render({ set: ['crds.keep=false'] }), 'CustomResourceDefinition', 'bundles.trust.cert-manager.io');
    assert.equal(crd.metadata.annotations?.['helm.sh/resource-policy'], undefined);
    assert.equal(all(await render({ set: ['crds.enabled=false'] }), 'CustomResourceDefinition').length, 0);
  });
});

describe('extraObjects', () => {
  it('renders string and object items through tpl', async () => {
    const objects = await render({
      values: {
        extraObjects: [
          'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: \'{{ template "trust-manager.name" . }}-extra\'\n  namespace: {{ .Release.Namespace }}\n',
          { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: '{{ .Release.Name }}-obj' } },
        ],
      },
    });
    assert.ok(find(objects, 'ConfigMap', 'trust-manager-extra', 'trust'));
    assert.ok(find(objects, 'ConfigMap', 'tm-obj'));
  });
});

describe('NOTES.txt', () => {
  // helm template does not render NOTES.txt: render it from a copy of the chart as a ConfigMap.
  async function notes(set: string[] = []): Promise<string> {
    const dir = mkdtempSync(join(tmpdir(), 'tm-notes-'));
    try {
      cpSync(CHART_DIR, dir, { recursive: true });
      cpSync(join(CHART_DIR, 'templates', 'NOTES.txt'), join(dir, 'notes-src.txt'));
      writeFileSync(
        join(dir, 'templates', 'zz-notes.yaml'),
        'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: notes\ndata:\n  notes: {{ tpl (.Files.Get "notes-src.txt") . | toJson }}\n',
      );
      const cm = get<Manifest & { data: { notes: string } }>(await render({ chartDir: dir, set }), 'ConfigMap', 'notes');
      return cm.data.notes.trim();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  const TAIL = `To find out more about securely running trust-manager and to get started
with creating your first bundle, check out the documentation on the
cert-manager website:

https://cert-manager.io/docs/projects/trust-manager/`;

  it('prints the upstream texts by default, with the package image actually deployed', async () => {
    const packageImage = controller(await render()).spec.template.spec.initContainers?.[0]?.image ?? '';
    assert.match(packageImage, /^[^:@]+[:@].+/, 'a full image reference');
    assert.equal(
      await notes(),
      `⚠️  WARNING: Consider increasing the Helm value \`replicaCount\` to 2 if you require high availability.
⚠️  WARNING: Consider setting the Helm value \`podDisruptionBudget.enabled\` to true if you require high availability.

trust-manager v0.1.0 has been deployed successfully!
Your installation includes a default CA package, using the following
default CA package image:

${packageImage}

It's imperative that you keep the default CA package image up to date.
${TAIL}`,
    );
  });

  it('drops the warnings with 2 replicas and a PodDisruptionBudget, and prints the package image the init container runs', async () => {
    const set = ['replicaCount=2', 'podDisruptionBudget.enabled=true', 'defaultPackageImage.repository=example.com/pkg', 'defaultPackageImage.tag=1.2'];
    assert.equal(controller(await render({ set })).spec.template.spec.initContainers?.[0]?.image, 'example.com/pkg:1.2');
    assert.equal(
      await notes(set),
      `trust-manager v0.1.0 has been deployed successfully!
Your installation includes a default CA package, using the following
default CA package image:

example.com/pkg:1.2

It's imperative that you keep the default CA package image up to date.
${TAIL}`,
    );
  });

  it('prints a digest reference, and nothing about the package without the default package', async () => {
    const digest = `sha256:${'a'.repeat(64)}`;
    const text = await notes([`defaultPackageImage.digest=${digest}`, 'defaultPackageImage.repository=example.com/pkg']);
    assert.match(text, new RegExp(`^example\\.com/pkg@${digest}$`, 'm'));
    const without = await notes(['defaultPackage.enabled=false']);
    assert.doesNotMatch(without, /package image/);
  });

  it('names the global values trust-manager does not use, and none it documents', async () => {
    const documented = parseValues(readFileSync(join(CHART_DIR, 'values.yaml'), 'utf8')).values.filter((v) => v.path[0] === 'global');
    assert.ok(documented.length >= 5);
    const sample: Record<string, string> = { array: '[0].name=x', object: '.a=b', string: '=x', bool: '=true' };
    const setDocumented = documented.map((v) => `${v.path.join('.')}${sample[v.types?.[0] ?? 'string']}`);
    const text = await notes(['global.logLevel=2', 'global.leaderElection.namespace=x', ...setDocumented]);
    const named = [...text.matchAll(/^NOTE: trust-manager does not use the Helm value `(global\.[^`]+)`/gm)].map((m) => m[1]);
    assert.deepEqual(named.sort(), ['global.leaderElection', 'global.logLevel']);
    assert.doesNotMatch(await notes(), /does not use/);
  });
});
