import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildConfig } from './config.ts';
import { parseFlags, type ControllerFlags } from './flags.ts';

function flags(args: string[]): ControllerFlags {
  const result = parseFlags(args);
  if (result.kind !== 'flags') throw new Error('help');
  return result.flags;
}

test('leader election namespace: the flag, else the pod namespace, else the trust namespace', () => {
  assert.equal(buildConfig(flags(['--leader-election-namespace=le']), () => 'pod-ns').leaderElection.namespace, 'le');
  assert.equal(buildConfig(flags([]), () => 'pod-ns').leaderElection.namespace, 'pod-ns');
  assert.equal(buildConfig(flags(['--trust-namespace=t']), () => undefined).leaderElection.namespace, 't');
});

test('reconcile options come from the flags; source namespaces never repeat the trust namespace', () => {
  const config = buildConfig(flags(['--trust-namespace=t', '--source-namespaces=t,a,a,b', '--target-namespaces=x,x', '--secret-targets-enabled']), () => undefined);
  assert.deepEqual(config.reconcile, {
    trustNamespace: 't',
    sourceNamespaces: ['a', 'b'],
    secretTargetsEnabled: true,
    filterExpiredCertificates: false,
    filterNonCACerts: false,
    targetNamespaces: ['x'],
  });
});

test('checks that span flags', () => {
  const build = (args: string[]) => () => buildConfig(flags(args), () => undefined);
  assert.throws(build(['--leader-election-lease-duration=10s']), { message: '--leader-election-lease-duration must be greater than --leader-election-renew-deadline' });
  assert.throws(build(['--leader-election-retry-period=10s', '--leader-election-lease-duration=20s']), { message: '--leader-election-renew-deadline must be greater than --leader-election-retry-period' });
  assert.doesNotThrow(build(['--leader-elect=false', '--leader-election-lease-duration=1s']), 'durations do not matter without leader election');
});
