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

test('controller-specific checks', () => {
  assert.throws(() => parseFlags(['--workers=0']), { message: 'invalid argument "0" for "--workers" flag: must be at least 1' });
  assert.throws(() => parseFlags(['--max-concurrent-writes=-1']), { message: 'invalid argument "-1" for "--max-concurrent-writes" flag: must be at least 1' });
  assert.throws(() => parseFlags(['--target-namespaces=a,B']), { message: /^invalid argument "a,B" for "--target-namespaces" flag: namespace "B": / });
  assert.throws(() => parseFlags(['--leader-election-namespace=Le']), { message: /^invalid argument "Le" for "--leader-election-namespace" flag: namespace "Le": / });
  assert.equal(flags(['--leader-election-namespace=']).leaderElectionNamespace, '', 'empty: the pod namespace');
});

test('errors read like pflag; the shared flags validate the same as in the webhook', () => {
  assert.throws(() => parseFlags(['--log-format=yaml']), { message: 'invalid argument "yaml" for "--log-format" flag: must be one of "text" or "json"' });
  assert.throws(() => parseFlags(['--unknown']), { message: 'unknown flag: --unknown' });
  assert.throws(() => parseFlags(['--webhook-port=1']), { message: 'unknown flag: --webhook-port' }, 'webhook flags are not the controller\'s');
  assert.throws(() => parseFlags(['--metrics-port=x']), { message: 'invalid argument "x" for "--metrics-port" flag: strconv.ParseInt: parsing "x": invalid syntax' });
  assert.throws(() => parseFlags(['--metrics-port=70000']), { message: 'invalid argument "70000" for "--metrics-port" flag: must be a port number (0-65535)' });
  assert.throws(() => parseFlags(['--readiness-probe-path=readyz']), { message: 'invalid argument "readyz" for "--readiness-probe-path" flag: must start with "/"' });
  assert.throws(() => parseFlags(['--trust-namespace=']), { message: 'invalid argument "" for "--trust-namespace" flag: must not be empty' });
  assert.throws(() => parseFlags(['--source-namespaces=Not_OK']), { message: /for "--source-namespaces" flag: namespace "Not_OK"/ });
  assert.throws(() => parseFlags(['--leader-elect=yes']), { message: 'invalid argument "yes" for "--leader-elect" flag: strconv.ParseBool: parsing "yes": invalid syntax' });
  assert.throws(() => parseFlags(['--metrics-port']), { message: 'flag needs an argument: --metrics-port' });
  assert.throws(() => parseFlags(['stray']), { message: /unexpected argument "stray"/ });
});

test('--help wins and documents every flag', () => {
  const result = parseFlags(['--trust-namespace=x', '--help'], 'prog');
  assert.equal(result.kind, 'help');
  const text = result.kind === 'help' ? result.text : '';
  assert.equal(text, helpText('prog'));
  assert.match(text, /^trust-manager controller: .*\n\nUsage:\n {2}prog \[flags\]\n/);
  for (const spec of Object.values(FLAGS)) assert.ok(text.includes(`--${spec.name}`), spec.name);
  assert.match(text, /--trust-namespace string +.*\(default "cert-manager"\)/);
  assert.match(text, /--leader-election-renew-deadline duration +.*\(default 10s\)/);
  assert.match(text, /-v, --log-level int +.*\(default 1\)/);
  assert.match(text, /--leader-elect +.*\(default true\)/);
  assert.match(text, /--workers int +.*\(default 4\)/);
});
