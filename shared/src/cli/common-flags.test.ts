import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  DEFAULT_METRICS_PORT,
  DEFAULT_READINESS_PROBE_PATH,
  DEFAULT_READINESS_PROBE_PORT,
  DEFAULT_TRUST_NAMESPACE,
} from '../api/constants.ts';
import { COMMON_FLAGS, namespaceListProblem, namespaceProblem } from './common-flags.ts';
import { parseArgv, type FlagValues } from './flags.ts';

function parse(argv: string[]): FlagValues<typeof COMMON_FLAGS> {
  const result = parseArgv(COMMON_FLAGS, argv);
  if (result.kind !== 'flags') assert.fail('expected flags');
  return result.flags;
}

test('shared flags: upstream names and defaults', () => {
  assert.deepEqual(
    Object.values(COMMON_FLAGS).map((spec) => spec.name),
    ['log-format', 'log-level', 'readiness-probe-port', 'readiness-probe-path', 'metrics-port', 'trust-namespace', 'source-namespaces', 'cluster-trust-bundles-enabled', 'kubeconfig'],
  );
  assert.deepEqual(parse([]), {
    logFormat: 'text',
    logLevel: 1,
    readinessProbePort: DEFAULT_READINESS_PROBE_PORT,
    readinessProbePath: DEFAULT_READINESS_PROBE_PATH,
    metricsPort: DEFAULT_METRICS_PORT,
    trustNamespace: DEFAULT_TRUST_NAMESPACE,
    sourceNamespaces: [],
    clusterTrustBundlesEnabled: false,
    kubeconfig: '',
  });
  assert.equal(COMMON_FLAGS.logLevel.short, 'v');
});

test('shared flags: values', () => {
  assert.deepEqual(
    parse(['--log-format=json', '-v=3', '--readiness-probe-port=0', '--readiness-probe-path=/ready', '--metrics-port', '9500', '--trust-namespace=trust', '--source-namespaces=team-a, team-b', '--cluster-trust-bundles-enabled', '--kubeconfig=/k']),
    {
      logFormat: 'json',
      logLevel: 3,
      readinessProbePort: 0,
      readinessProbePath: '/ready',
      metricsPort: 9500,
      trustNamespace: 'trust',
      sourceNamespaces: ['team-a', 'team-b'],
      clusterTrustBundlesEnabled: true,
      kubeconfig: '/k',
    },
  );
});

test('shared flags: validation', () => {
  const cases: Array<[string, string]> = [
    ['--log-format=xml', 'invalid argument "xml" for "--log-format" flag: must be one of "text" or "json"'],
    ['--log-level=-1', 'invalid argument "-1" for "-v, --log-level" flag: must be a non-negative integer'],
    ['--log-level=high', 'invalid argument "high" for "-v, --log-level" flag: strconv.ParseInt: parsing "high": invalid syntax'],
    ['--metrics-port=70000', 'invalid argument "70000" for "--metrics-port" flag: must be a port number (0-65535)'],
    ['--readiness-probe-port=-1', 'invalid argument "-1" for "--readiness-probe-port" flag: must be a port number (0-65535)'],
    ['--readiness-probe-path=readyz', 'invalid argument "readyz" for "--readiness-probe-path" flag: must start with "/"'],
    ['--trust-namespace=', 'invalid argument "" for "--trust-namespace" flag: must not be empty'],
  ];
  for (const [arg, message] of cases) assert.throws(() => parse([arg]), { message }, arg);
  assert.throws(() => parse(['--trust-namespace=Not_OK']), { message: /^invalid argument "Not_OK" for "--trust-namespace" flag: namespace "Not_OK": a lowercase RFC 1123 label/ });
  assert.throws(() => parse(['--source-namespaces=ok,Not_OK']), { message: /^invalid argument "ok,Not_OK" for "--source-namespaces" flag: namespace "Not_OK": / });
  assert.throws(() => parse(['--source-namespaces=a.b']), { message: /namespace "a\.b": must not contain dots/ });
});

test('namespace checks', () => {
  assert.equal(namespaceProblem('cert-manager'), undefined);
  assert.equal(namespaceProblem(''), 'must not be empty');
  assert.match(namespaceProblem('x'.repeat(64)) ?? '', /must be no more than 63/);
  assert.equal(namespaceListProblem([]), undefined);
  assert.equal(namespaceListProblem(['a', 'b']), undefined);
  assert.match(namespaceListProblem(['a', 'B', 'C']) ?? '', /^namespace "B"/);
});
