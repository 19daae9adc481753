import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import { parseWebhookFlags, WEBHOOK_FLAGS, webhookHelp, type FlagsResult, type WebhookConfig } from './flags.ts';
import { opensslCipherList } from './tls-options.ts';

const run = promisify(execFile);
const main = fileURLToPath(new URL('./main.ts', import.meta.url));

function config(result: FlagsResult): WebhookConfig {
  if (result.kind !== 'config') assert.fail('expected a config');
  return result.config;
}

test('defaults are upstream defaults', () => {
  assert.deepEqual(config(parseWebhookFlags([])), {
    webhookHost: '0.0.0.0',
    webhookPort: 6443,
    certificateDir: '/tls',
    tlsMinVersion: '',
    tlsCipherSuites: [],
    logFormat: 'text',
    logLevel: 1,
    trustNamespace: 'cert-manager',
    sourceNamespaces: [],
    readinessProbePort: 6060,
    readinessProbePath: '/readyz',
    metricsPort: 9402,
    clusterTrustBundlesEnabled: false,
    kubeconfig: '',
  });
  assert.equal(WEBHOOK_FLAGS.webhookPort.default, 6443);
});

test('values in both --flag=value and --flag value forms', () => {
  const parsed = config(
    parseWebhookFlags([
      '--webhook-host=127.0.0.1',
      '--webhook-port',
      '8443',
      '--webhook-certificate-dir=/certs',
      '--tls-min-version=VersionTLS13',
      '--tls-cipher-suites=TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384',
      '--log-format=json',
      '-v',
      '3',
      '--trust-namespace=trust',
      '--source-namespaces=team-a,team-b',
      '--readiness-probe-port=7070',
      '--readiness-probe-path=/ready',
      '--metrics-port=0',
    ]),
  );
  assert.equal(parsed.webhookHost, '127.0.0.1');
  assert.equal(parsed.webhookPort, 8443);
  assert.deepEqual(parsed.tlsCipherSuites, ['TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256', 'TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384']);
  assert.equal(parsed.logLevel, 3);
  assert.deepEqual(parsed.sourceNamespaces, ['team-a', 'team-b']);
  assert.equal(parsed.metricsPort, 0);
});

test('invalid values: pflag texts for flag values, upstream\'s "invalid flags:" for TLS options', () => {
  const cases: [string[], string | RegExp][] = [
    [['--log-format=xml'], 'invalid argument "xml" for "--log-format" flag: must be one of "text" or "json"'],
    [['--webhook-port=70000'], 'invalid argument "70000" for "--webhook-port" flag: must be a port number (0-65535)'],
    [['--tls-min-version=TLS1.2'], /^invalid flags: --tls-min-version: unknown TLS version "TLS1\.2"; one of VersionTLS10, /],
    [['--tls-cipher-suites=TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,TLS_NOPE'], "invalid flags: --tls-cipher-suites: Cipher suite TLS_NOPE not supported or doesn't exist"],
    [['--source-namespaces=ok,Not_OK'], /^invalid argument "ok,Not_OK" for "--source-namespaces" flag: namespace "Not_OK": /],
    [['--trust-namespace=a.b'], /^invalid argument "a\.b" for "--trust-namespace" flag: namespace "a\.b": must not contain dots/],
    [['--readiness-probe-path=ready'], 'invalid argument "ready" for "--readiness-probe-path" flag: must start with "/"'],
    [['--log-level=high'], 'invalid argument "high" for "-v, --log-level" flag: strconv.ParseInt: parsing "high": invalid syntax'],
    [['--leader-elect'], 'unknown flag: --leader-elect'],
  ];
  for (const [argv, message] of cases) assert.throws(() => parseWebhookFlags(argv), { message }, argv.join(' '));
});

test('--help documents every flag with its default', () => {
  const result = parseWebhookFlags(['--webhook-port=1', '-h']);
  assert.equal(result.kind, 'help');
  const text = webhookHelp();
  assert.equal(result.kind === 'help' ? result.text : '', text);
  assert.match(text, /^trust-manager webhook: .*\n\nUsage:\n {2}trust-manager-webhook \[flags\]\n/);
  for (const spec of Object.values(WEBHOOK_FLAGS)) assert.ok(text.includes(`--${spec.name}`), spec.name);
  assert.match(text, /--webhook-port int +.*\(default 6443\)/);
  assert.match(text, /--webhook-certificate-dir string +.*\(default "\/tls"\)/);
  assert.match(text, /--tls-cipher-suites strings +/);
});

test('Go cipher names map to OpenSSL names; TLS 1.3 suites stay enabled as in Go', () => {
  assert.equal(opensslCipherList([]), undefined);
  assert.equal(
    opensslCipherList(['TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256', 'TLS_RSA_WITH_AES_256_GCM_SHA384']),
    'TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:ECDHE-RSA-AES128-GCM-SHA256:AES256-GCM-SHA384',
  );
});

test('main: --help prints every flag, a bad value exits 1 with error:', async () => {
  const help = await run(process.execPath, [main, '--help']);
  assert.equal(help.stdout, webhookHelp());
  await assert.rejects(run(process.execPath, [main, '--log-format=yaml']), (error: { code?: number; stderr?: string }) => {
    assert.equal(error.code, 1);
    assert.equal(error.stderr, 'error: invalid argument "yaml" for "--log-format" flag: must be one of "text" or "json"\n');
    return true;
  });
  await assert.rejects(run(process.execPath, [main, '--tls-min-version=TLS9']), (error: { code?: number; stderr?: string }) => {
    assert.equal(error.code, 1);
    assert.match(error.stderr ?? '', /^error: invalid flags: --tls-min-version: unknown TLS version "TLS9"/);
    return true;
  });
});
