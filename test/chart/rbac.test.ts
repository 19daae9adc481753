// RBAC: upstream's rules, least privilege for Secrets (read only in the trust namespace and the
// additional source namespaces), per-namespace Roles with app.targetNamespaces.
// Ports upstream's clusterrole_aggregate_test.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { all, container, controller, find, get, render, type Binding, type Manifest, type PolicyRule, type Role } from './helm.ts';

const CORE_RULES: PolicyRule[] = [
  { apiGroups: ['trust.cert-manager.io'], resources: ['bundles'], verbs: ['get', 'list', 'watch'] },
  { apiGroups: ['trust.cert-manager.io'], resources: ['bundles/finalizers'], verbs: ['update'] },
  { apiGroups: ['trust.cert-manager.io'], resources: ['bundles/status'], verbs: ['patch'] },
  { apiGroups: [''], resources: ['namespaces'], verbs: ['get', 'list', 'watch'] },
];
const TARGET_RULES: PolicyRule[] = [
  { apiGroups: [''], resources: ['configmaps'], verbs: ['get', 'list', 'create', 'patch', 'watch', 'delete'] },
  { apiGroups: [''], resources: ['events'], verbs: ['create', 'patch'] },
  { apiGroups: ['events.k8s.io'], resources: ['events'], verbs: ['create', 'patch'] },
];
const SECRETS_ALL: PolicyRule = { apiGroups: [''], resources: ['secrets'], verbs: ['get', 'list', 'create', 'patch', 'watch', 'delete'] };
const SOURCE_RULES: PolicyRule[] = [{ apiGroups: [''], resources: ['configmaps', 'secrets'], verbs: ['get', 'list', 'watch'] }];

const clusterRole = (objects: Manifest[]) => get<Role>(objects, 'ClusterRole', 'trust-manager');

/** Every rule, in any Role or ClusterRole, that lets the subject read Secrets. */
function secretReads(objects: Manifest[]): { where: string; rule: PolicyRule }[] {
  const roles = [...all<Role>(objects, 'ClusterRole'), ...all<Role>(objects, 'Role')];
  return roles.flatMap((r) =>
    r.rules
      .filter((rule) => rule.resources.includes('secrets') && rule.verbs.some((v) => ['get', 'list', 'watch'].includes(v)))
      .map((rule) => ({ where: `${r.kind}/${r.metadata.namespace ?? ''}/${r.metadata.name}`, rule })),
  );
}

function assertBoundTo(binding: Binding | undefined, roleKind: string, roleName: string, sa = 'trust-manager', ns = 'trust'): void {
  assert.ok(binding, `binding to ${roleName} missing`);
  assert.deepEqual(binding.roleRef, { apiGroup: 'rbac.authorization.k8s.io', kind: roleKind, name: roleName });
  assert.deepEqual(binding.subjects, [{ kind: 'ServiceAccount', name: sa, namespace: ns }]);
}

describe('ClusterRole trust-manager', () => {
  it('grants Bundles, namespaces, ConfigMap targets and events, and no Secrets by default', async () => {
    const objects = await render();
    assert.deepEqual(clusterRole(objects).rules, [...CORE_RULES, ...TARGET_RULES]);
    assertBoundTo(find<Binding>(objects, 'ClusterRoleBinding', 'trust-manager'), 'ClusterRole', 'trust-manager');
  });

  it('grants Secrets cluster-wide only with secretTargets.authorizedSecretsAll', async () => {
    const objects = await render({ set: ['secretTargets.enabled=true', 'secretTargets.authorizedSecretsAll=true'] });
    assert.deepEqual(clusterRole(objects).rules, [...CORE_RULES, ...TARGET_RULES, SECRETS_ALL]);
  });

  it('lets secretTargets.authorizedSecrets write only the named Secrets (reads stay cluster-wide for the target watch, as upstream)', async () => {
    const objects = await render({ values: { secretTargets: { enabled: true, authorizedSecrets: ['bundle-a', 'bundle-b'] } } });
    assert.deepEqual(clusterRole(objects).rules, [
      ...CORE_RULES,
      ...TARGET_RULES,
      { apiGroups: [''], resources: ['secrets'], verbs: ['get', 'list', 'watch'] },
      { apiGroups: [''], resources: ['secrets'], verbs: ['create', 'patch', 'delete'], resourceNames: ['bundle-a', 'bundle-b'] },
    ]);
  });

  it('grants no Secrets when secret targets are disabled, whatever the authorisations say', async () => {
    const objects = await render({ values: { secretTargets: { enabled: false, authorizedSecretsAll: true, authorizedSecrets: ['x'] } } });
    assert.deepEqual(clusterRole(objects).rules, [...CORE_RULES, ...TARGET_RULES]);
  });

  it('keeps only the cluster-scoped rules when app.targetNamespaces is set', async () => {
    const objects = await render({ values: { app: { targetNamespaces: ['team-a'] } } });
    assert.deepEqual(clusterRole(objects).rules, CORE_RULES);
  });
});

describe('Secret reads (least privilege)', () => {
  it('are possible only in the trust namespace by default', async () => {
    const objects = await render();
    assert.deepEqual(secretReads(objects), [{ where: 'Role/cert-manager/trust-manager', rule: SOURCE_RULES[0]! }]);
    assertBoundTo(find<Binding>(objects, 'RoleBinding', 'trust-manager', 'cert-manager'), 'Role', 'trust-manager');
  });

  it('extend to each additional source namespace, once', async () => {
    const objects = await render({ values: { app: { trust: { additionalSourceNamespaces: ['team-a', 'cert-manager', 'team-b', 'team-a'] } } } });
    assert.deepEqual(
      secretReads(objects).map((s) => s.where),
      ['Role/cert-manager/trust-manager', 'Role/team-a/trust-manager', 'Role/team-b/trust-manager'],
    );
    for (const ns of ['cert-manager', 'team-a', 'team-b']) {
      assert.deepEqual(get<Role>(objects, 'Role', 'trust-manager', ns).rules, SOURCE_RULES);
      assertBoundTo(find<Binding>(objects, 'RoleBinding', 'trust-manager', ns), 'Role', 'trust-manager');
    }
  });

  it('follow a custom trust namespace', async () => {
    const objects = await render({ set: ['app.trust.namespace=trusted'] });
    assert.deepEqual(secretReads(objects).map((s) => s.where), ['Role/trusted/trust-manager']);
  });

  it('are cluster-wide only when secret targets are enabled', async () => {
    const objects = await render({ set: ['secretTargets.enabled=true', 'secretTargets.authorizedSecretsAll=true'] });
    assert.deepEqual(secretReads(objects).map((s) => s.where), ['ClusterRole//trust-manager', 'Role/cert-manager/trust-manager']);
    const named = await render({ values: { secretTargets: { enabled: true, authorizedSecrets: ['bundle-a'] } } });
    assert.deepEqual(secretReads(named).map((s) => s.where), ['ClusterRole//trust-manager', 'Role/cert-manager/trust-manager']);
  });
});

describe('leader election and events', () => {
  it('grants Leases in the release namespace', async () => {
    const objects = await render();
    const role = get<Role>(objects, 'Role', 'trust-manager:leaderelection', 'trust');
    assert.deepEqual(role.rules, [{ apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['get', 'create', 'update', 'watch', 'list'] }]);
    assertBoundTo(find<Binding>(objects, 'RoleBinding', 'trust-manager:leaderelection', 'trust'), 'Role', 'trust-manager:leaderelection');
  });

  it('grants events in "default" (where events about Bundles go) when app.targetNamespaces leaves it out', async () => {
    const objects = await render({ values: { app: { targetNamespaces: ['team-a'] } } });
    assert.deepEqual(get<Role>(objects, 'Role', 'trust-manager:events', 'default').rules, TARGET_RULES.slice(1));
    assertBoundTo(find<Binding>(objects, 'RoleBinding', 'trust-manager:events', 'default'), 'Role', 'trust-manager:events');
    const withDefault = await render({ values: { app: { targetNamespaces: ['default'] } } });
    assert.equal(find(withDefault, 'Role', 'trust-manager:events'), undefined);
    assert.equal(find(await render(), 'Role', 'trust-manager:events'), undefined);
  });
});

describe('app.targetNamespaces: per-namespace Roles', () => {
  it('renders a Role and RoleBinding in each target, trust and release namespace, once', async () => {
    const objects = await render({ values: { app: { targetNamespaces: ['team-a', 'team-b', 'trust', 'team-a'] } } });
    const roles = all<Role>(objects, 'Role').filter((r) => r.metadata.name === 'trust-manager-role');
    assert.deepEqual(roles.map((r) => r.metadata.namespace).sort(), ['cert-manager', 'team-a', 'team-b', 'trust']);
    for (const r of roles) {
      assert.deepEqual(r.rules, TARGET_RULES);
      assertBoundTo(find<Binding>(objects, 'RoleBinding', 'trust-manager-role-binding', r.metadata.namespace), 'Role', 'trust-manager-role');
    }
  });

  it('includes the authorised Secrets in each Role', async () => {
    const objects = await render({ values: { app: { targetNamespaces: ['team-a'] }, secretTargets: { enabled: true, authorizedSecrets: ['s'] } } });
    assert.deepEqual(get<Role>(objects, 'Role', 'trust-manager-role', 'team-a').rules, [
      ...TARGET_RULES,
      { apiGroups: [''], resources: ['secrets'], verbs: ['get', 'list', 'watch'] },
      { apiGroups: [''], resources: ['secrets'], verbs: ['create', 'patch', 'delete'], resourceNames: ['s'] },
    ]);
  });

  it('renders none without app.targetNamespaces', async () => {
    const objects = await render();
    assert.equal(all(objects, 'Role').filter((r) => r.metadata.name === 'trust-manager-role').length, 0);
  });
});

describe('aggregate ClusterRole (upstream clusterrole_aggregate_test)', () => {
  it('renders trust-manager-cluster-view aggregated to cluster-reader', async () => {
    const roles = all<Role>(await render(), 'ClusterRole').filter((r) => r.metadata.name === 'trust-manager-cluster-view');
    assert.equal(roles.length, 1);
    assert.equal(roles[0]?.metadata.labels?.['rbac.authorization.k8s.io/aggregate-to-cluster-reader'], 'true');
    assert.deepEqual(roles[0]?.rules, [{ apiGroups: ['trust.cert-manager.io'], resources: ['bundles'], verbs: ['get', 'list', 'watch'] }]);
  });

  it('is not rendered with aggregateClusterRoles=false or rbac.create=false', async () => {
    assert.equal(find(await render({ set: ['global.rbac.aggregateClusterRoles=false'] }), 'ClusterRole', 'trust-manager-cluster-view'), undefined);
    assert.equal(find(await render({ set: ['global.rbac.create=false'] }), 'ClusterRole', 'trust-manager-cluster-view'), undefined);
  });
});

describe('installed into the trust namespace (cert-manager)', () => {
  it('keeps the source Role, the Lease Role and the per-namespace Roles apart', async () => {
    const objects = await render({ namespace: 'cert-manager', values: { app: { targetNamespaces: ['team-a'] } } });
    assert.deepEqual(get<Role>(objects, 'Role', 'trust-manager', 'cert-manager').rules, SOURCE_RULES);
    assert.ok(find(objects, 'Role', 'trust-manager:leaderelection', 'cert-manager'));
    const perNamespace = all<Role>(objects, 'Role').filter((r) => r.metadata.name === 'trust-manager-role');
    assert.deepEqual(perNamespace.map((r) => r.metadata.namespace).sort(), ['cert-manager', 'team-a']);
    for (const b of [...all<Binding>(objects, 'RoleBinding'), ...all<Binding>(objects, 'ClusterRoleBinding')]) {
      assert.deepEqual(b.subjects, [{ kind: 'ServiceAccount', name: 'trust-manager', namespace: 'cert-manager' }]);
    }
  });

  it('app.trust.namespace is a template', async () => {
    const objects = await render({ namespace: 'cert-manager', values: { app: { trust: { namespace: '{{ .Release.Namespace }}' } } } });
    assert.deepEqual(secretReads(objects).map((s) => s.where), ['Role/cert-manager/trust-manager']);
    assert.ok(container(controller(objects)).args?.includes('--trust-namespace=cert-manager'));
  });
});

describe('global.rbac.create=false', () => {
  it('renders no RBAC at all', async () => {
    const objects = await render({ values: { global: { rbac: { create: false } }, app: { targetNamespaces: ['a'] } } });
    for (const kind of ['ClusterRole', 'ClusterRoleBinding', 'Role', 'RoleBinding']) assert.deepEqual(all(objects, kind), [], kind);
  });
});

describe('the webhook', () => {
  it('has no RBAC of its own and no token (see deployment.test.ts)', async () => {
    const objects = await render();
    const subjects = [...all<Binding>(objects, 'ClusterRoleBinding'), ...all<Binding>(objects, 'RoleBinding')].flatMap((b) => b.subjects);
    assert.ok(subjects.every((s) => s.name === 'trust-manager' && s.namespace === 'trust'));
  });
});
