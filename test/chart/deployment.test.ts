// The two Deployments: controller "trust-manager" and webhook "trust-manager-webhook".
// Ports upstream's default_package_test, deployment_securitycontext_test and serviceaccount_test.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { all, CHART_DIR, container, controller, find, render, webhook, type Deployment } from './helm.ts';
import { CONTROLLER_NODE_FLAGS, WEBHOOK_NODE_FLAGS } from '@trust-manager/controller/node-flags.ts';
import { chartImages, packageVersionOf, readChartImages, type ChartValues } from '../../images/chart-images.ts';

const RESTRICTED = {
  allowPrivilegeEscalation: false,
  capabilities: { drop: ['ALL'] },
  readOnlyRootFilesystem: true,
  runAsNonRoot: true,
  seccompProfile: { type: 'RuntimeDefault' },
};

const initContainer = (d: Deployment) => {
  const c = d.spec.template.spec.initContainers?.[0];
  assert.ok(c, 'no init container');
  return c;
};

describe('controller Deployment', () => {
  it('runs the controller entrypoint with the upstream args in upstream order', async () => {
    const d = controller(await render());
    assert.equal(d.metadata.namespace, 'trust');
    const c = container(d);
    assert.equal(c.name, 'trust-manager');
    assert.deepEqual(c.command, ['/nodejs/bin/node', ...CONTROLLER_NODE_FLAGS, '/app/controller.js']);
    assert.deepEqual(c.args, [
      '--log-format=text',
      '--log-level=1',
      '--metrics-port=9402',
      '--readiness-probe-port=6060',
      '--readiness-probe-path=/readyz',
      '--leader-elect=true',
      '--leader-election-lease-duration=15s',
      '--leader-election-renew-deadline=10s',
      '--leader-election-namespace=trust',
      '--trust-namespace=cert-manager',
      '--default-package-location=/packages/cert-manager-package-debian.json',
    ]);
    assert.deepEqual(c.ports, [{ containerPort: 9402, name: 'metrics', protocol: 'TCP' }]);
    assert.deepEqual(c.readinessProbe, { httpGet: { port: 6060, path: '/readyz' }, initialDelaySeconds: 3, periodSeconds: 7 });
    assert.equal(c.imagePullPolicy, 'IfNotPresent');
  });

  it('is leader-elected with replicaCount replicas, selected by app: trust-manager', async () => {
    const d = controller(await render());
    assert.equal(d.spec.replicas, 1);
    assert.equal(d.spec.revisionHistoryLimit, 10);
    assert.deepEqual(d.spec.selector.matchLabels, { app: 'trust-manager' });
    assert.equal(d.spec.template.metadata.labels.app, 'trust-manager');
    assert.equal(d.spec.template.metadata.labels['app.kubernetes.io/instance'], 'tm');
    assert.equal(controller(await render({ set: ['replicaCount=3'] })).spec.replicas, 3);
    assert.equal(controller(await render({ values: { replicaCount: null } })).spec.replicas, undefined);
  });

  it('passes every optional controller flag when its value is set', async () => {
    const c = container(
      controller(
        await render({
          values: {
            app: {
              logFormat: 'json',
              logLevel: 4,
              leaderElection: { enabled: false, leaseDuration: '30s', renewDeadline: '20s' },
              trust: { namespace: 'trusted', additionalSourceNamespaces: ['team-a', 'trusted', 'team-b'] },
              targetNamespaces: ['team-a', 'team-c'],
              controller: { maxConcurrentWrites: 8, workers: 3 },
              minTLSVersion: 'VersionTLS12',
            },
            secretTargets: { enabled: true, authorizedSecretsAll: true },
            filterExpiredCertificates: { enabled: true },
            filterNonCACerts: { enabled: true },
          },
        }),
      ),
    );
    assert.deepEqual(c.args, [
      '--log-format=json',
      '--log-level=4',
      '--metrics-port=9402',
      '--readiness-probe-port=6060',
      '--readiness-probe-path=/readyz',
      '--leader-elect=false',
      '--leader-election-lease-duration=30s',
      '--leader-election-renew-deadline=20s',
      '--leader-election-namespace=trust',
      '--trust-namespace=trusted',
      '--source-namespaces=team-a,team-b',
      '--default-package-location=/packages/cert-manager-package-debian.json',
      '--secret-targets-enabled=true',
      '--filter-expired-certificates=true',
      '--filter-non-ca-certs=true',
      '--target-namespaces=team-a,team-c',
      '--max-concurrent-writes=8',
      '--workers=3',
    ]);
  });

  it('has no webhook port, TLS volume or webhook flags', async () => {
    const d = controller(await render());
    assert.ok(!(d.spec.template.spec.volumes ?? []).some((v) => v.name === 'tls'));
    assert.ok(!(container(d).args ?? []).some((a) => a.startsWith('--webhook') || a.startsWith('--tls')));
  });

  it('mounts API credentials per automountServiceAccountToken', async () => {
    assert.equal(controller(await render()).spec.template.spec.automountServiceAccountToken, true);
    assert.equal(controller(await render({ set: ['automountServiceAccountToken=false'] })).spec.template.spec.automountServiceAccountToken, false);
  });
});

describe('webhook Deployment', () => {
  it('runs the webhook entrypoint with its flags, 2 replicas, selected by app: trust-manager-webhook', async () => {
    const d = webhook(await render());
    assert.equal(d.metadata.namespace, 'trust');
    assert.equal(d.spec.replicas, 2);
    assert.deepEqual(d.spec.selector.matchLabels, { app: 'trust-manager-webhook' });
    const c = container(d);
    assert.deepEqual(c.command, ['/nodejs/bin/node', ...WEBHOOK_NODE_FLAGS, '/app/webhook.js']);
    assert.deepEqual(c.args, [
      '--log-format=text',
      '--log-level=1',
      '--metrics-port=9402',
      '--readiness-probe-port=6060',
      '--readiness-probe-path=/readyz',
      '--trust-namespace=cert-manager',
      '--webhook-host=0.0.0.0',
      '--webhook-port=6443',
      '--webhook-certificate-dir=/tls',
    ]);
    assert.deepEqual(c.ports, [
      { containerPort: 6443, name: 'webhook', protocol: 'TCP' },
      { containerPort: 9402, name: 'metrics', protocol: 'TCP' },
    ]);
    assert.deepEqual(c.readinessProbe, { httpGet: { port: 6060, path: '/readyz' }, initialDelaySeconds: 3, periodSeconds: 7 });
    assert.equal(d.spec.template.spec.initContainers, undefined, 'the webhook needs no CA package');
  });

  it('never mounts a ServiceAccount token, whatever automountServiceAccountToken says', async () => {
    for (const v of [true, false]) {
      const spec = webhook(await render({ set: [`automountServiceAccountToken=${v}`] })).spec.template.spec;
      assert.equal(spec.automountServiceAccountToken, false);
      assert.equal(spec.serviceAccountName, 'trust-manager');
    }
  });

  it('mounts the trust-manager-tls Secret read-only at /tls', async () => {
    const d = webhook(await render());
    assert.deepEqual(d.spec.template.spec.volumes, [{ name: 'tls', secret: { defaultMode: 420, secretName: 'trust-manager-tls' } }]);
    assert.deepEqual(container(d).volumeMounts, [{ mountPath: '/tls', name: 'tls', readOnly: true }]);
  });

  it('passes TLS, source namespace and listener flags', async () => {
    const c = container(
      webhook(
        await render({
          values: {
            app: {
              minTLSVersion: 'VersionTLS13',
              cipherSuites: 'TLS_AES_128_GCM_SHA256,TLS_AES_256_GCM_SHA384',
              trust: { additionalSourceNamespaces: ['team-a'] },
              webhook: { host: '127.0.0.1', port: 10250 },
              metrics: { port: 9500 },
              readinessProbe: { port: 6061, path: '/ready' },
            },
          },
        }),
      ),
    );
    assert.deepEqual(c.args, [
      '--tls-min-version=VersionTLS13',
      '--tls-cipher-suites=TLS_AES_128_GCM_SHA256,TLS_AES_256_GCM_SHA384',
      '--log-format=text',
      '--log-level=1',
      '--metrics-port=9500',
      '--readiness-probe-port=6061',
      '--readiness-probe-path=/ready',
      '--trust-namespace=cert-manager',
      '--source-namespaces=team-a',
      '--webhook-host=127.0.0.1',
      '--webhook-port=10250',
      '--webhook-certificate-dir=/tls',
    ]);
    assert.equal(c.ports?.[0]?.containerPort, 10250);
    assert.deepEqual(c.readinessProbe?.httpGet, { port: 6061, path: '/ready' });
  });

  it('rolls its pods on every helmCert render, and only then', async () => {
    const a = webhook(await render({ set: ['app.webhook.tls.helmCert.enabled=true'] })).spec.template.metadata.annotations;
    assert.match(a?.['rollme-due-to-helm-cert'] ?? '', /^[A-Za-z0-9]{5}$/);
    assert.equal(webhook(await render()).spec.template.metadata.annotations, undefined);
    assert.equal(controller(await render({ set: ['app.webhook.tls.helmCert.enabled=true'] })).spec.template.metadata.annotations, undefined);
  });

  it('uses the host network when app.webhook.hostNetwork', async () => {
    const spec = webhook(await render({ set: ['app.webhook.hostNetwork=true'] })).spec.template.spec;
    assert.equal(spec.hostNetwork, true);
    assert.equal(spec.dnsPolicy, 'ClusterFirstWithHostNet');
    assert.equal(controller(await render({ set: ['app.webhook.hostNetwork=true'] })).spec.template.spec.hostNetwork, undefined);
    assert.equal(webhook(await render()).spec.template.spec.hostNetwork, undefined);
  });

  it('honours app.webhook.replicaCount', async () => {
    assert.equal(webhook(await render({ set: ['app.webhook.replicaCount=5'] })).spec.replicas, 5);
  });
});

describe('default package (upstream default_package_test)', () => {
  it('copies the package in an init container and passes its location when enabled', async () => {
    const d = controller(await render());
    const init = initContainer(d);
    assert.equal(init.name, 'cert-manager-package-debian');
    assert.equal(init.image, 'ghcr.io/trust-manager-ts/trust-pkg-debian-trixie:20250419-deb13u1.1');
    assert.deepEqual(init.args, ['/copyandmaybepause', '/debian-package', '/packages']);
    assert.deepEqual(init.volumeMounts, [{ mountPath: '/packages', name: 'packages', readOnly: false }]);
    assert.deepEqual(d.spec.template.spec.volumes?.[0], { name: 'packages', emptyDir: { sizeLimit: '50M' } });
    const c = container(d);
    assert.ok(c.volumeMounts?.some((m) => m.mountPath === '/packages' && m.name === 'packages' && m.readOnly === true));
    assert.ok(c.args?.includes('--default-package-location=/packages/cert-manager-package-debian.json'));
  });

  it('has none of this when disabled', async () => {
    const d = controller(await render({ set: ['defaultPackage.enabled=false'] }));
    assert.equal(d.spec.template.spec.initContainers, undefined);
    assert.equal(d.spec.template.spec.volumes, undefined);
    const c = container(d);
    assert.equal(c.volumeMounts, undefined);
    assert.ok(!c.args?.some((a) => a.startsWith('--default-package-location')));
  });

  it('sets resources and pull policy of the init container', async () => {
    const init = initContainer(
      controller(await render({ values: { defaultPackage: { resources: { limits: { cpu: '100m' } } }, defaultPackageImage: { pullPolicy: 'Always' } } })),
    );
    assert.deepEqual(init.resources, { limits: { cpu: '100m' } });
    assert.equal(init.imagePullPolicy, 'Always');
  });
});

describe('images', () => {
  const imageOf = async (values: Record<string, unknown>) => {
    const objects = await render({ values });
    return { main: container(controller(objects)).image, hook: container(webhook(objects)).image, pkg: initContainer(controller(objects)).image };
  };

  it('defaults to <imageRegistry>/<imageNamespace>/<name>:<appVersion> and the released package tag', async () => {
    const { main, hook, pkg } = await imageOf({});
    assert.equal(main, 'ghcr.io/trust-manager-ts/trust-manager:v0.1.0');
    assert.equal(hook, main, 'both processes run from one image');
    assert.equal(pkg, 'ghcr.io/trust-manager-ts/trust-pkg-debian-trixie:20250419-deb13u1.1');
  });

  it('images/chart-images.ts composes references as the chart does', async () => {
    const defaults = parse(readFileSync(join(CHART_DIR, 'values.yaml'), 'utf8')) as ChartValues;
    const { appVersion } = parse(readFileSync(join(CHART_DIR, 'Chart.yaml'), 'utf8')) as { appVersion: string };
    for (const override of [
      { imageRegistry: 'r.example', imageNamespace: 'mirror/ns' },
      { imageRegistry: '', imageNamespace: '' },
      { image: { repository: 'example.com/tm', registry: 'legacy.io' }, defaultPackageImage: { name: 'trust-pkg-debian-bookworm' } },
      { image: { tag: 'v9.9.9' }, defaultPackageImage: { tag: '20250419.7', registry: 'legacy.io' } },
    ]) {
      const values = {
        ...defaults,
        ...override,
        image: { ...defaults.image, ...override.image },
        defaultPackageImage: { ...defaults.defaultPackageImage, ...override.defaultPackageImage },
      };
      const { main, pkg } = await imageOf(override);
      const images = chartImages(values, appVersion);
      assert.equal(images.operator.ref, main, JSON.stringify(override));
      assert.equal(images.package.ref, pkg, JSON.stringify(override));
    }
  });

  it('are the references the image build tags (images/chart-images.ts reads them from the chart)', async () => {
    const { main, pkg } = await imageOf({});
    const images = readChartImages();
    assert.equal(images.operator.ref, main);
    assert.equal(images.package.ref, pkg);
    assert.equal(images.package.revision, '1');
    assert.equal(images.packageNext.ref, 'ghcr.io/trust-manager-ts/trust-pkg-debian-trixie:20250419-deb13u1.2');
    assert.equal(images.operatorNext.ref, 'ghcr.io/trust-manager-ts/trust-manager:v0.1.0-next');
    // A tag whose Debian version had "+" or "~" (imageTag made them "-") does not pin the version.
    assert.deepEqual(packageVersionOf('20250419-deb13u1.3'), { caCertificatesVersion: '', revision: '3' });
    assert.deepEqual(packageVersionOf('20250419.2'), { caCertificatesVersion: '20250419', revision: '2' });
    assert.throws(() => packageVersionOf('latest'), /not "<ca-certificates version>.<revision>"/);
  });

  it('composes registry, namespace, name, tag and digest as upstream', async () => {
    assert.equal((await imageOf({ imageRegistry: 'registry.example', imageNamespace: 'mirror/jetstack' })).main, 'registry.example/mirror/jetstack/trust-manager:v0.1.0');
    assert.equal((await imageOf({ imageRegistry: '', imageNamespace: '' })).main, 'trust-manager:v0.1.0');
    assert.equal((await imageOf({ image: { tag: 'v9.9.9' } })).main, 'ghcr.io/trust-manager-ts/trust-manager:v9.9.9');
    assert.equal((await imageOf({ image: { digest: 'sha256:abc' } })).main, 'ghcr.io/trust-manager-ts/trust-manager@sha256:abc');
    assert.equal((await imageOf({ image: { tag: 'v1', digest: 'sha256:abc' } })).main, 'ghcr.io/trust-manager-ts/trust-manager:v1@sha256:abc');
    assert.equal((await imageOf({ image: { repository: 'example.com/tm' } })).main, 'example.com/tm:v0.1.0');
    assert.equal((await imageOf({ image: { repository: 'example.com/tm', registry: 'legacy.io' } })).main, 'legacy.io/example.com/tm:v0.1.0');
    assert.equal((await imageOf({ image: { registry: 'legacy.io' } })).main, 'legacy.io/ghcr.io/trust-manager-ts/trust-manager:v0.1.0');
    assert.equal((await imageOf({ image: { name: 'tm-ts' } })).main, 'ghcr.io/trust-manager-ts/tm-ts:v0.1.0');
  });

  it('composes the default package image the same way', async () => {
    assert.equal((await imageOf({ imageRegistry: 'r.example', imageNamespace: 'ns' })).pkg, 'r.example/ns/trust-pkg-debian-trixie:20250419-deb13u1.1');
    assert.equal((await imageOf({ defaultPackageImage: { tag: '20250419.2' } })).pkg, 'ghcr.io/trust-manager-ts/trust-pkg-debian-trixie:20250419.2');
    assert.equal((await imageOf({ defaultPackageImage: { digest: 'sha256:def' } })).pkg, 'ghcr.io/trust-manager-ts/trust-pkg-debian-trixie@sha256:def');
    assert.equal((await imageOf({ defaultPackageImage: { repository: 'example.com/pkg' } })).pkg, 'example.com/pkg:20250419-deb13u1.1');
    assert.equal((await imageOf({ defaultPackageImage: { name: 'trust-pkg-debian-bookworm' } })).pkg, 'ghcr.io/trust-manager-ts/trust-pkg-debian-bookworm:20250419-deb13u1.1');
    assert.equal((await imageOf({ defaultPackageImage: { _defaultReference: '@sha256:0123' } })).pkg, 'ghcr.io/trust-manager-ts/trust-pkg-debian-trixie@sha256:0123');
  });
});

describe('security contexts (upstream deployment_securitycontext_test)', () => {
  it('are restricted by default on every container', async () => {
    const objects = await render();
    assert.deepEqual(container(controller(objects)).securityContext, RESTRICTED);
    assert.deepEqual(container(webhook(objects)).securityContext, RESTRICTED);
    assert.deepEqual(initContainer(controller(objects)).securityContext, RESTRICTED);
    assert.equal(controller(objects).spec.template.spec.securityContext, undefined);
  });

  it('merge overrides: null removes a key, new keys are added', async () => {
    const objects = await render({
      values: {
        app: { securityContext: { seccompProfile: null, appArmorProfile: { type: 'RuntimeDefault' } } },
        defaultPackage: { securityContext: { seccompProfile: null, appArmorProfile: { type: 'RuntimeDefault' } } },
      },
    });
    const want = { ...RESTRICTED, appArmorProfile: { type: 'RuntimeDefault' } } as Record<string, unknown>;
    delete want.seccompProfile;
    assert.deepEqual(container(controller(objects)).securityContext, want);
    assert.deepEqual(container(webhook(objects)).securityContext, want);
    assert.deepEqual(initContainer(controller(objects)).securityContext, want);
  });

  it('securityContext: null removes the block', async () => {
    const objects = await render({ values: { app: { securityContext: null }, defaultPackage: { securityContext: null } } });
    assert.equal(container(controller(objects)).securityContext, undefined);
    assert.equal(container(webhook(objects)).securityContext, undefined);
    assert.equal(initContainer(controller(objects)).securityContext, undefined);
  });

  it('renders podSecurityContext verbatim on both pods', async () => {
    const psc = { runAsUser: 1000, fsGroup: 2000, seccompProfile: { type: 'Localhost', localhostProfile: 'x.json' } };
    const objects = await render({ values: { podSecurityContext: psc } });
    assert.deepEqual(controller(objects).spec.template.spec.securityContext, psc);
    assert.deepEqual(webhook(objects).spec.template.spec.securityContext, psc);
  });
});

describe('ServiceAccount (upstream serviceaccount_test)', () => {
  it('creates trust-manager and both Deployments use it', async () => {
    const objects = await render();
    const sa = all(objects, 'ServiceAccount');
    assert.equal(sa.length, 1);
    assert.equal(sa[0]?.metadata.name, 'trust-manager');
    assert.equal(sa[0]?.metadata.namespace, 'trust');
    assert.equal(sa[0]?.automountServiceAccountToken, true);
    assert.equal(controller(objects).spec.template.spec.serviceAccountName, 'trust-manager');
    assert.equal(webhook(objects).spec.template.spec.serviceAccountName, 'trust-manager');
  });

  it('uses a custom name in the ServiceAccount, both Deployments and every binding', async () => {
    const objects = await render({ set: ['serviceAccount.name=custom-sa'] });
    assert.ok(find(objects, 'ServiceAccount', 'custom-sa', 'trust'));
    assert.equal(controller(objects).spec.template.spec.serviceAccountName, 'custom-sa');
    assert.equal(webhook(objects).spec.template.spec.serviceAccountName, 'custom-sa');
    const bindings = [...all(objects, 'ClusterRoleBinding'), ...all(objects, 'RoleBinding')] as unknown as { subjects: { name: string }[] }[];
    assert.ok(bindings.length >= 3);
    for (const b of bindings) assert.deepEqual(b.subjects.map((s) => s.name), ['custom-sa']);
  });

  it('create=false renders no ServiceAccount and uses serviceAccount.name', async () => {
    const objects = await render({ set: ['serviceAccount.create=false', 'serviceAccount.name=existing'] });
    assert.equal(all(objects, 'ServiceAccount').length, 0);
    assert.equal(controller(objects).spec.template.spec.serviceAccountName, 'existing');
  });

  it('carries imagePullSecrets and the automount flag', async () => {
    const objects = await render({ values: { imagePullSecrets: [{ name: 'pull' }], serviceAccount: { automountServiceAccountToken: false } } });
    const sa = all(objects, 'ServiceAccount')[0];
    assert.deepEqual(sa?.imagePullSecrets, [{ name: 'pull' }]);
    assert.equal(sa?.automountServiceAccountToken, false);
  });
});

describe('pod settings shared by both Deployments', () => {
  it('applies scheduling, resources, labels, annotations, volumes', async () => {
    const values = {
      priorityClassName: 'high',
      nodeSelector: { 'kubernetes.io/os': 'linux', pool: 'infra' },
      affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [] } } },
      tolerations: [{ key: 'k', operator: 'Exists' }],
      topologySpreadConstraints: [{ maxSkew: 1, topologyKey: 'zone', whenUnsatisfiable: 'ScheduleAnyway' }],
      resources: { requests: { cpu: '10m' } },
      revisionHistoryLimit: 3,
      app: { podLabels: { team: 'pki' }, podAnnotations: { note: 'yes' } },
      volumes: [{ name: 'extra', emptyDir: {} }],
      volumeMounts: [{ name: 'extra', mountPath: '/extra' }],
    };
    const objects = await render({ values });
    for (const d of [controller(objects), webhook(objects)]) {
      const spec = d.spec.template.spec;
      assert.equal(spec.priorityClassName, 'high', d.metadata.name);
      assert.deepEqual(spec.nodeSelector, values.nodeSelector);
      assert.deepEqual(spec.affinity, values.affinity);
      assert.deepEqual(spec.tolerations, values.tolerations);
      assert.deepEqual(spec.topologySpreadConstraints, values.topologySpreadConstraints);
      assert.deepEqual(container(d).resources, values.resources);
      assert.equal(d.spec.revisionHistoryLimit, 3);
      assert.equal(d.spec.template.metadata.labels.team, 'pki');
      assert.equal(d.spec.template.metadata.annotations?.note, 'yes');
      assert.deepEqual(spec.volumes?.at(-1), { name: 'extra', emptyDir: {} });
      assert.deepEqual(container(d).volumeMounts?.at(-1), { name: 'extra', mountPath: '/extra' });
    }
  });

  it('defaults: Linux nodes, no resources, no priority class', async () => {
    const objects = await render();
    for (const d of [controller(objects), webhook(objects)]) {
      assert.deepEqual(d.spec.template.spec.nodeSelector, { 'kubernetes.io/os': 'linux' });
      assert.equal(container(d).resources, undefined);
      assert.equal(d.spec.template.spec.priorityClassName, undefined);
    }
  });
});
