import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FLAGS, helpText, parseFlags, type ControllerFlags } from './flags.ts';

function flags(args: string[]): ControllerFlags {
  const result = parseFlags(args);
  assert.equal(result.kind, 'flags');
  return result.kind === 'flags' ? result.flags : (undefined as never);
}

test('defaults are upstream defaults plus ours', () => {
  const parsed = flags([]);
  assert.equal(parsed.readinessProbePort, 6060);
  assert.equal(parsed.readinessProbePath, '/readyz');
  assert.equal(parsed.leaderElect, true);
  assert.equal(parsed.leaderElectionLeaseDuration, 15_000);
  assert.equal(parsed.leaderElectionRenewDeadline, 10_000);
  assert.equal(parsed.leaderElectionRetryPeriod, 2_000);
  assert.equal(parsed.metricsPort, 9402);
  assert.equal(parsed.trustNamespace, 'cert-manager');
  assert.equal(parsed.defaultPackageLocation, '');
  assert.equal(parsed.secretTargetsEnabled, false);
  assert.equal(parsed.filterExpiredCertificates, false);
  assert.equal(parsed.filterNonCACerts, false);
  assert.deepEqual(parsed.targetNamespaces, []);
  assert.equal(parsed.logFormat, 'text');
  assert.equal(parsed.logLevel, 1);
  assert.deepEqual(parsed.sourceNamespaces, []);
  assert.equal(parsed.maxConcurrentWrites, 32);
  assert.equal(parsed.workers, 4);
});

test('pflag forms: --flag=value, --flag value, bare booleans, -v, repeated comma lists', () => {
  const parsed = flags([
    '--leader-elect=false',
    '--secret-targets-enabled',
    '--filter-non-ca-certs=T',
    '--trust-namespace',
    'trust',
    '-v=3',
    '--target-namespaces=a,b',
    '--target-namespaces',
    'c',
    '--source-namespaces=x, y,',
    '--leader-election-lease-duration=1m',
    '--log-format=json',
  ]);
  assert.equal(parsed.leaderElect, false);
  assert.equal(parsed.secretTargetsEnabled, true);
  assert.equal(parsed.filterNonCACerts, true);
  assert.equal(parsed.trustNamespace, 'trust');
  assert.equal(parsed.logLevel, 3);
  assert.deepEqual(parsed.targetNamespaces, ['a', 'b', 'c']);
  assert.deepEqual(parsed.sourceNamespaces, ['x', 'y']);
  assert.equal(parsed.leaderElectionLeaseDuration, 60_000);
  assert.equal(parsed.logFormat, 'json');
  assert.equal(flags(['-v', '4']).logLevel, 4);
  assert.equal(flags(['--log-level=2', '--log-level=5']).logLevel, 5, 'the last occurrence wins');
});

test('errors read like pflag', () => {
  assert.throws(() => parseFlags(['--log-format=yaml']), { message: 'invalid argument "yaml" for "--log-format" flag: must be one of "text" or "json"' });
  assert.throws(() => parseFlags(['--unknown']), { message: 'unknown flag: --unknown' });
  assert.throws(() => parseFlags(['--metrics-port=x']), { message: 'invalid argument "x" for "--metrics-port" flag: strconv.ParseInt: parsing "x": invalid syntax' });
  assert.throws(() => parseFlags(['--leader-elect=yes']), { message: 'invalid argument "yes" for "--leader-elect" flag: strconv.ParseBool: parsing "yes": invalid syntax' });
  assert.throws(() => parseFlags(['--metrics-port']), { message: 'flag needs an argument: --metrics-port' });
  assert.throws(() => parseFlags(['stray']), /unexpected argument "stray"/);
});

test('--help wins and documents every flag', () => {
  const result = parseFlags(['--trust-namespace=x', '--help']);
  assert.equal(result.kind, 'help');
  const text = helpText('prog');
  for (const spec of Object.values(FLAGS)) assert.ok(text.includes(`--${spec.name}`), spec.name);
  assert.match(text, /--trust-namespace string +.*\(default "cert-manager"\)/);
  assert.match(text, /--leader-election-renew-deadline duration +.*\(default 10s\)/);
});
