import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import { parseWebhookFlags, WEBHOOK_FLAG_DEFAULTS, type FlagsResult, type WebhookConfig } from './flags.ts';
import { opensslCipherList } from './tls-options.ts';

const run = promisify(execFile);
const main = fileURLToPath(new URL('./main.ts', import.meta.url));

function config(result: FlagsResult): WebhookConfig {
  if (result.kind !== 'config') assert.fail(result.kind === 'error' ? result.message : 'expected a config');
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
  });
  assert.equal(WEBHOOK_FLAG_DEFAULTS['webhook-port'], '6443');
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

test('invalid values are errors that name the flag', () => {
  const cases: [string[], RegExp][] = [
    [['--log-format=xml'], /^invalid flags: --log-format: must be one of "text" or "json"$/],
    [['--webhook-port=70000'], /--webhook-port: must be a port number/],
    [['--tls-min-version=TLS1.2'], /--tls-min-version: unknown TLS version "TLS1\.2"/],
    [['--tls-cipher-suites=TLS_NOPE'], /Cipher suite TLS_NOPE not supported or doesn't exist/],
    [['--source-namespaces=ok,Not_OK'], /--source-namespaces: namespace "Not_OK"/],
    [['--readiness-probe-path=ready'], /must start with "\/"/],
    [['--log-level=high'], /--log-level: must be a non-negative integer/],
    [['--leader-elect'], /Unknown option '--leader-elect'/],
  ];
  for (const [argv, message] of cases) {
    const result = parseWebhookFlags(argv);
    assert.equal(result.kind, 'error', argv.join(' '));
    assert.match((result as { message: string }).message, message);
  }
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
  for (const name of Object.keys(WEBHOOK_FLAG_DEFAULTS)) assert.match(help.stdout, new RegExp(`--${name}\\b`));
  await assert.rejects(run(process.execPath, [main, '--log-format=yaml']), (error: { code?: number; stderr?: string }) => {
    assert.equal(error.code, 1);
    assert.equal(error.stderr, 'error: invalid flags: --log-format: must be one of "text" or "json"\n');
    return true;
  });
});
