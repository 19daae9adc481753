// clusterTrustBundles.*: the flag on both processes, exactly the RBAC ClusterTrustBundle targets and
// sources need (attest only on the configured signers), and the webhook's discovery-only identity.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { all, container, controller, find, get, render, webhook, type Binding, type Manifest, type PolicyRule, type Role } from './helm.ts';

const CTB_RULE: PolicyRule = {
  apiGroups: ['certificates.k8s.io'],
  resources: ['clustertrustbundles'],
  verbs: ['get', 'list', 'watch', 'create', 'patch', 'delete'],
};

const FLAG = '--cluster-trust-bundles-enabled=true';

/** Every rule of every Role and ClusterRole that mentions the certificates.k8s.io group. */
function certificateRules(objects: Manifest[]): PolicyRule[] {
  return [...all<Role>(objects, 'ClusterRole'), ...all<Role>(objects, 'Role')].flatMap((role) => role.rules.filter((rule) => rule.apiGroups.includes('certificates.k8s.io')));
}

describe('clusterTrustBundles', () => {
  it('is off by default: no flag, no certificates.k8s.io permission, webhook without a token', async () => {
    const objects = await render();
    assert.deepEqual(certificateRules(objects), []);
    assert.ok(!(container(controller(objects)).args ?? []).some((arg) => arg.startsWith('--cluster-trust-bundles')));
    const hook = webhook(objects);
    assert.ok(!(container(hook).args ?? []).some((arg) => arg.startsWith('--cluster-trust-bundles')));
    assert.equal(hook.spec.template.spec.automountServiceAccountToken, false);
    assert.equal(hook.spec.template.spec.serviceAccountName, 'trust-manager');
    assert.equal(find(objects, 'ServiceAccount', 'trust-manager-webhook'), undefined);
  });

  it('enabled: both processes get the flag and the controller exactly the clustertrustbundles rule, no attest without signers', async () => {
    const objects = await render({ set: ['clusterTrustBundles.enabled=true'] });
    assert.ok(container(controller(objects)).args?.includes(FLAG));
    assert.ok(container(webhook(objects)).args?.includes(FLAG));
    assert.deepEqual(certificateRules(objects), [CTB_RULE]);
    const clusterRole = get<Role>(objects, 'ClusterRole', 'trust-manager');
    assert.ok(clusterRole.rules.some((rule) => JSON.stringify(rule) === JSON.stringify(CTB_RULE)), 'granted by the controller ClusterRole');
  });

  it('signerNames: attest on exactly those signers, by resourceNames', async () => {
    const objects = await render({ values: { clusterTrustBundles: { enabled: true, signerNames: ['example.com/a', 'example.org/*'] } } });
    assert.deepEqual(certificateRules(objects), [
      CTB_RULE,
      { apiGroups: ['certificates.k8s.io'], resources: ['signers'], verbs: ['attest'], resourceNames: ['example.com/a', 'example.org/*'] },
    ]);
  });

  it('signerNames without enabled grant nothing', async () => {
    const objects = await render({ values: { clusterTrustBundles: { signerNames: ['example.com/a'] } } });
    assert.deepEqual(certificateRules(objects), []);
  });

  it('the webhook runs as its own ServiceAccount with a token, bound to no role', async () => {
    const objects = await render({ set: ['clusterTrustBundles.enabled=true'] });
    const spec = webhook(objects).spec.template.spec;
    assert.equal(spec.serviceAccountName, 'trust-manager-webhook');
    assert.equal(spec.automountServiceAccountToken, true);
    const account = get(objects, 'ServiceAccount', 'trust-manager-webhook', 'trust');
    assert.equal((account as Manifest & { automountServiceAccountToken?: boolean }).automountServiceAccountToken, false, 'only the webhook pod mounts it');
    const bindings = [...all<Binding>(objects, 'ClusterRoleBinding'), ...all<Binding>(objects, 'RoleBinding')];
    assert.deepEqual(
      bindings.filter((binding) => binding.subjects.some((subject) => subject.name === 'trust-manager-webhook')),
      [],
      'no permission beyond what every authenticated identity has (API discovery)',
    );
    // The controller keeps its own identity.
    assert.equal(controller(objects).spec.template.spec.serviceAccountName, 'trust-manager');
  });

  it('with serviceAccount.create=false no ServiceAccount is created, the webhook still names its own', async () => {
    const objects = await render({ set: ['clusterTrustBundles.enabled=true', 'serviceAccount.create=false'] });
    assert.equal(find(objects, 'ServiceAccount', 'trust-manager-webhook'), undefined);
    assert.equal(webhook(objects).spec.template.spec.serviceAccountName, 'trust-manager-webhook');
  });
});
