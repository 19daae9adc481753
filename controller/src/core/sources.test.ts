// Port of upstream pkg/bundle/internal/source/source_test.go (every source type, binaryData fallback and
// precedence, includeAllKeys, selectors, TLS Secrets, filters, dedup) and the source texts of
// Test_Reconcile, plus our allowed-source-namespaces extension.

import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';

import type { V1ConfigMap, V1Secret } from '@kubernetes/client-node';
import type { Bundle, BundleSource, LabelSelector } from '@trust-manager/shared/api/types.ts';
import { parsePemCertificates } from '@trust-manager/shared/certs/scan.ts';
import { type TestCertificate, makeCA } from '@trust-manager/shared/certs/testing/fixtures.ts';
import type { DefaultPackage } from '../package/package.ts';
import { packageStringID } from '../package/package.ts';
import { matchesLabelSelector } from '@trust-manager/shared/selectors/label-selector.ts';
import type { ClusterTrustBundleObject } from './cluster-trust-bundles.ts';
import type { ReconcileOptions } from './options.ts';
import { type SourceReader, type SourcesResult, buildBundleSources } from './sources.ts';

const TRUST_NAMESPACE = 'trust-namespace';
const NOW = new Date('2025-06-01T00:00:00Z');

const OPTIONS: ReconcileOptions = {
  trustNamespace: TRUST_NAMESPACE,
  sourceNamespaces: [],
  secretTargetsEnabled: true,
  filterExpiredCertificates: false,
  filterNonCACerts: false,
  targetNamespaces: [],
};

let cert1: TestCertificate;
let cert2: TestCertificate;
let cert3: TestCertificate;
let cert4: TestCertificate;
let expired: TestCertificate;
let leaf: TestCertificate;

before(async () => {
  [cert1, cert2, cert3, cert4] = await Promise.all([makeCA({ cn: 'source-1' }), makeCA({ cn: 'source-2' }), makeCA({ cn: 'source-3' }), makeCA({ cn: 'source-4' })]);
  expired = await makeCA({ cn: 'expired', notBefore: new Date('2020-01-01T00:00:00Z'), notAfter: new Date('2021-01-01T00:00:00Z') });
  leaf = await makeCA({ cn: 'leaf', isCA: false, issuer: cert1 });
});

const base64 = (text: string): string => Buffer.from(text).toString('base64');

function configMap(name: string, data: Record<string, string> = {}, binaryData: Record<string, string> = {}, labels: Record<string, string> = {}, namespace = TRUST_NAMESPACE): V1ConfigMap {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace, labels }, data, binaryData };
}

/** `data` given as plain text; stored base64 like the API server serves it. */
function secret(name: string, data: Record<string, string> = {}, options: { type?: string; labels?: Record<string, string>; namespace?: string } = {}): V1Secret {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name, namespace: options.namespace ?? TRUST_NAMESPACE, labels: options.labels ?? {} },
    type: options.type ?? 'Opaque',
    data: Object.fromEntries(Object.entries(data).map(([key, value]) => [key, base64(value)])),
  };
}

/** In-memory SourceReader over fixed objects; records the namespaces it was asked about. */
class FakeReader implements SourceReader {
  readonly namespacesRead: string[] = [];
  readonly configMaps: V1ConfigMap[];
  readonly secrets: V1Secret[];

  constructor(objects: { configMaps?: V1ConfigMap[]; secrets?: V1Secret[] } = {}) {
    this.configMaps = objects.configMaps ?? [];
    this.secrets = objects.secrets ?? [];
  }

  getConfigMap(namespace: string, name: string): V1ConfigMap | undefined {
    this.namespacesRead.push(namespace);
    return this.configMaps.find((o) => o.metadata?.namespace === namespace && o.metadata.name === name);
  }

  listConfigMaps(namespace: string, selector: LabelSelector): V1ConfigMap[] {
    this.namespacesRead.push(namespace);
    return this.configMaps.filter((o) => o.metadata?.namespace === namespace && matchesLabelSelector(selector, o.metadata.labels));
  }

  getSecret(namespace: string, name: string): V1Secret | undefined {
    this.namespacesRead.push(namespace);
    return this.secrets.find((o) => o.metadata?.namespace === namespace && o.metadata.name === name);
  }

  listSecrets(namespace: string, selector: LabelSelector): V1Secret[] {
    this.namespacesRead.push(namespace);
    return this.secrets.filter((o) => o.metadata?.namespace === namespace && matchesLabelSelector(selector, o.metadata.labels));
  }
}

function bundle(sources: BundleSource[]): Bundle {
  return { apiVersion: 'trust.cert-manager.io/v1alpha1', kind: 'Bundle', metadata: { name: 'test-bundle' }, spec: { sources } };
}

function build(sources: BundleSource[], reader: SourceReader = new FakeReader(), options: ReconcileOptions = OPTIONS): SourcesResult {
  return buildBundleSources(bundle(sources), reader, options, NOW);
}

/** The certificates of a successful build, as DER fingerprints, compared with the expected test certificates. */
function assertCertificates(result: SourcesResult, expected: TestCertificate[]): void {
  assert.ok(result.ok, result.ok ? '' : result.message);
  const fingerprints = (certs: { fingerprint: string }[]): string[] => certs.map((c) => c.fingerprint).sort();
  const expectedParsed = expected.flatMap((c) => parsePemCertificates(c.pem));
  assert.deepEqual(fingerprints(result.certificates), fingerprints(expectedParsed));
  // The PEM carries exactly the same certificates, in the same (sorted) order, without trailing newline.
  assert.deepEqual(parsePemCertificates(result.pem).map((c) => c.fingerprint), result.certificates.map((c) => c.fingerprint));
  assert.equal(result.pem.endsWith('\n'), false);
}

function assertFailure(result: SourcesResult, reason: string, message: string, retry: boolean): void {
  assert.deepEqual(result, { ok: false, reason, message, retry });
}

describe('configMap sources', () => {
  test('by name and key', () => {
    const reader = new FakeReader({ configMaps: [configMap('source-configmap', { 'configmap-key': cert1.pem })] });
    assertCertificates(build([{ configMap: { name: 'source-configmap', key: 'configmap-key' } }], reader), [cert1]);
  });

  test('missing object: not found, no retry', () => {
    assertFailure(
      build([{ configMap: { name: 'source-configmap', key: 'configmap-key' } }]),
      'SourceNotFound',
      'Bundle source was not found: failed to get ConfigMap trust-namespace/source-configmap: configmaps "source-configmap" not found',
      false,
    );
  });

  test('missing key: not found', () => {
    const reader = new FakeReader({ configMaps: [configMap('source-configmap', { other: cert1.pem })] });
    assertFailure(
      build([{ configMap: { name: 'source-configmap', key: 'configmap-key' } }], reader),
      'SourceNotFound',
      'Bundle source was not found: no data found in ConfigMap trust-namespace/source-configmap at key "configmap-key"',
      false,
    );
  });

  test('key only in binaryData: base64-decoded fallback', () => {
    const reader = new FakeReader({ configMaps: [configMap('cm', {}, { 'ca.crt': base64(cert2.pem) })] });
    assertCertificates(build([{ configMap: { name: 'cm', key: 'ca.crt' } }], reader), [cert2]);
  });

  test('key in data and binaryData: data wins', () => {
    const reader = new FakeReader({ configMaps: [configMap('cm', { 'ca.crt': cert1.pem }, { 'ca.crt': base64(cert2.pem) })] });
    assertCertificates(build([{ configMap: { name: 'cm', key: 'ca.crt' } }], reader), [cert1]);
  });

  test('includeAllKeys reads data and binaryData', () => {
    const reader = new FakeReader({ configMaps: [configMap('cm', { a: cert1.pem, b: cert2.pem }, { c: base64(cert3.pem) })] });
    assertCertificates(build([{ configMap: { name: 'cm', includeAllKeys: true } }], reader), [cert1, cert2, cert3]);
  });

  test('selector: every match contributes', () => {
    const reader = new FakeReader({
      configMaps: [
        configMap('one', { k: cert1.pem }, {}, { trust: 'yes' }),
        configMap('two', { k: cert2.pem }, {}, { trust: 'yes' }),
        configMap('three', { k: cert3.pem }, {}, { trust: 'no' }),
        configMap('elsewhere', { k: cert4.pem }, {}, { trust: 'yes' }, 'other-namespace'),
      ],
    });
    assertCertificates(build([{ configMap: { selector: { matchLabels: { trust: 'yes' } }, key: 'k' } }], reader), [cert1, cert2]);
  });

  test('selector matching nothing adds nothing; alone it is "not found"', () => {
    const reader = new FakeReader({ configMaps: [configMap('one', { k: cert1.pem }, {}, { trust: 'no' })] });
    assertCertificates(build([{ configMap: { selector: { matchLabels: { trust: 'yes' } }, key: 'k' } }, { inLine: cert2.pem }], reader), [cert2]);
    assertFailure(
      build([{ configMap: { selector: { matchLabels: { trust: 'yes' } }, key: 'k' } }], reader),
      'SourceNotFound',
      "Bundle source was not found: couldn't find any valid certificates in bundle",
      false,
    );
  });

  test('selector match without the key: not found naming that object', () => {
    const reader = new FakeReader({ configMaps: [configMap('with', { k: cert1.pem }, {}, { t: 'y' }), configMap('without', {}, {}, { t: 'y' })] });
    assertFailure(
      build([{ configMap: { selector: { matchLabels: { t: 'y' } }, key: 'k' } }], reader),
      'SourceNotFound',
      'Bundle source was not found: no data found in ConfigMap trust-namespace/without at key "k"',
      false,
    );
  });

  test('invalid PEM: build error, retried', () => {
    const reader = new FakeReader({ configMaps: [configMap('cm', { k: '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n' })] });
    assertFailure(
      build([{ configMap: { name: 'cm', key: 'k' } }], reader),
      'SourceBuildError',
      "Failed to build bundle sources: invalid PEM data in ConfigMap trust-namespace/cm at key \"k\": invalid PEM block in bundle: only CERTIFICATE blocks are permitted but found 'PRIVATE KEY'",
      true,
    );
  });

  test('invalid PEM under includeAllKeys names the key', () => {
    const reader = new FakeReader({ configMaps: [configMap('cm', { good: cert1.pem }, { bad: base64('-----BEGIN X509 CRL-----\nAAAA\n-----END X509 CRL-----\n') })] });
    assertFailure(
      build([{ configMap: { name: 'cm', includeAllKeys: true } }], reader),
      'SourceBuildError',
      "Failed to build bundle sources: invalid PEM data in ConfigMap trust-namespace/cm at key \"bad\": invalid PEM block in bundle: only CERTIFICATE blocks are permitted but found 'X509 CRL'",
      true,
    );
  });

  test('a key holding no PEM at all is fine (text without blocks is ignored)', () => {
    const reader = new FakeReader({ configMaps: [configMap('cm', { notes: 'just a comment', k: cert1.pem })] });
    assertCertificates(build([{ configMap: { name: 'cm', includeAllKeys: true } }], reader), [cert1]);
  });
});

describe('secret sources', () => {
  test('by name and key (base64 decoded)', () => {
    const reader = new FakeReader({ secrets: [secret('source-secret', { 'secret-key': cert2.pem })] });
    assertCertificates(build([{ secret: { name: 'source-secret', key: 'secret-key' } }], reader), [cert2]);
  });

  test('missing object: not found', () => {
    assertFailure(
      build([{ secret: { name: 'source-secret', key: 'secret-key' } }]),
      'SourceNotFound',
      'Bundle source was not found: failed to get Secret trust-namespace/source-secret: secrets "source-secret" not found',
      false,
    );
  });

  test('missing key: not found', () => {
    const reader = new FakeReader({ secrets: [secret('source-secret')] });
    assertFailure(
      build([{ secret: { name: 'source-secret', key: 'secret-key' } }], reader),
      'SourceNotFound',
      'Bundle source was not found: no data found in Secret trust-namespace/source-secret at key "secret-key"',
      false,
    );
  });

  test('includeAllKeys reads every key', () => {
    const reader = new FakeReader({ secrets: [secret('s', { a: cert1.pem, b: cert3.pem })] });
    assertCertificates(build([{ secret: { name: 's', includeAllKeys: true } }], reader), [cert1, cert3]);
  });

  test('includeAllKeys on a TLS Secret is refused (it would include the private key)', () => {
    const reader = new FakeReader({ secrets: [secret('tls', { 'tls.crt': cert1.pem, 'tls.key': 'key' }, { type: 'kubernetes.io/tls' })] });
    assertFailure(
      build([{ secret: { name: 'tls', includeAllKeys: true } }], reader),
      'SourceBuildError',
      'Failed to build bundle sources: includeAllKeys is not supported for TLS Secrets such as trust-namespace/tls',
      true,
    );
    // A single key of a TLS Secret is fine.
    assertCertificates(build([{ secret: { name: 'tls', key: 'tls.crt' } }], reader), [cert1]);
  });

  test('selector', () => {
    const reader = new FakeReader({ secrets: [secret('a', { k: cert1.pem }, { labels: { s: '1' } }), secret('b', { k: cert2.pem }, { labels: { s: '2' } })] });
    assertCertificates(build([{ secret: { selector: { matchExpressions: [{ key: 's', operator: 'In', values: ['2'] }] }, key: 'k' } }], reader), [cert2]);
  });

  test('invalid PEM', () => {
    const reader = new FakeReader({ secrets: [secret('s', { k: '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n' })] });
    const result = build([{ secret: { name: 's', key: 'k' } }], reader);
    assert.ok(!result.ok);
    assert.equal(result.reason, 'SourceBuildError');
    assert.match(result.message, /^Failed to build bundle sources: invalid PEM data in Secret trust-namespace\/s at key "k": invalid PEM block in bundle; invalid PEM certificate: /);
  });
});

describe('inLine and default CAs', () => {
  test('inLine', () => {
    assertCertificates(build([{ inLine: `# comment\n${cert1.pem}\n${cert2.pem}` }]), [cert1, cert2]);
  });

  test('inLine with a private key: build error', () => {
    assertFailure(
      build([{ inLine: '-----BEGIN EC PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----\n' }]),
      'SourceBuildError',
      "Failed to build bundle sources: inline source contains invalid PEM data: invalid PEM block in bundle: only CERTIFICATE blocks are permitted but found 'EC PRIVATE KEY'",
      true,
    );
  });

  test('inLine without any certificate: not found', () => {
    assertFailure(build([{ inLine: 'no pem here' }]), 'SourceNotFound', "Bundle source was not found: couldn't find any valid certificates in bundle", false);
  });

  test('useDefaultCAs without a package: not found', () => {
    assertFailure(
      build([{ inLine: cert1.pem }, { useDefaultCAs: true }]),
      'SourceNotFound',
      'Bundle source was not found: no default package was specified when trust-manager was started; default CAs not available',
      false,
    );
  });

  test('useDefaultCAs with a package: its certificates and its StringID', () => {
    const pkg: DefaultPackage = { name: 'testpkg', version: '123', bundle: cert4.pem };
    const result = build([{ inLine: cert1.pem }, { useDefaultCAs: true }], new FakeReader(), { ...OPTIONS, defaultPackage: pkg });
    assertCertificates(result, [cert1, cert4]);
    assert.ok(result.ok);
    assert.equal(result.defaultCAVersion, packageStringID(pkg));
  });

  test('useDefaultCAs: false is not a source and records no version', () => {
    const pkg: DefaultPackage = { name: 'testpkg', version: '123', bundle: cert4.pem };
    const result = build([{ inLine: cert1.pem }, { useDefaultCAs: false }], new FakeReader(), { ...OPTIONS, defaultPackage: pkg });
    assertCertificates(result, [cert1]);
    assert.ok(result.ok);
    assert.equal('defaultCAVersion' in result, false);
  });

  test('a default package with invalid PEM: build error', () => {
    const pkg: DefaultPackage = { name: 'testpkg', version: '123', bundle: '-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----' };
    assertFailure(
      build([{ useDefaultCAs: true }], new FakeReader(), { ...OPTIONS, defaultPackage: pkg }),
      'SourceBuildError',
      "Failed to build bundle sources: default package contains invalid PEM data: invalid PEM block in bundle: only CERTIFICATE blocks are permitted but found 'RSA PRIVATE KEY'",
      true,
    );
  });
});

describe('pool rules across sources', () => {
  test('every source type together, duplicates removed, sorted by fingerprint', () => {
    const reader = new FakeReader({
      configMaps: [configMap('source-configmap', { 'configmap-key': cert1.pem })],
      secrets: [secret('source-secret', { 'secret-key': `${cert2.pem}\n${cert1.pem}` })],
    });
    const result = build(
      [{ configMap: { name: 'source-configmap', key: 'configmap-key' } }, { secret: { name: 'source-secret', key: 'secret-key' } }, { inLine: `${cert3.pem}${cert1.pem}` }],
      reader,
    );
    assertCertificates(result, [cert1, cert2, cert3]);
    assert.ok(result.ok);
    const fingerprints = result.certificates.map((c) => c.fingerprint);
    assert.deepEqual(fingerprints, [...fingerprints].sort());
  });

  test('expired certificates are dropped only with the filter; expired-only is "not found"', () => {
    assertCertificates(build([{ inLine: `${expired.pem}${cert1.pem}` }]), [expired, cert1]);
    const filtered = { ...OPTIONS, filterExpiredCertificates: true };
    assertCertificates(build([{ inLine: `${expired.pem}${cert1.pem}` }], new FakeReader(), filtered), [cert1]);
    assertFailure(build([{ inLine: expired.pem }], new FakeReader(), filtered), 'SourceNotFound', "Bundle source was not found: couldn't find any valid certificates in bundle", false);
  });

  test('non-CA certificates are dropped only with the filter', () => {
    assertCertificates(build([{ inLine: `${leaf.pem}${cert1.pem}` }]), [leaf, cert1]);
    assertCertificates(build([{ inLine: `${leaf.pem}${cert1.pem}` }], new FakeReader(), { ...OPTIONS, filterNonCACerts: true }), [cert1]);
  });

  test('all-or-nothing: a later failing source fails the build; the first failure in spec order wins', () => {
    const reader = new FakeReader({ configMaps: [configMap('good', { k: cert1.pem })] });
    const result = build([{ configMap: { name: 'good', key: 'k' } }, { secret: { name: 'missing', key: 'k' } }, { inLine: '-----BEGIN PRIVATE KEY-----\nAA==\n-----END PRIVATE KEY-----\n' }], reader);
    assertFailure(result, 'SourceNotFound', 'Bundle source was not found: failed to get Secret trust-namespace/missing: secrets "missing" not found', false);
  });

  test('reader errors are build errors (retried)', () => {
    const failing: SourceReader = {
      getConfigMap: () => {
        throw new Error('cache not synced');
      },
      listConfigMaps: () => {
        throw new Error('cache not synced');
      },
      getSecret: () => undefined,
      listSecrets: () => [],
    };
    assertFailure(build([{ configMap: { name: 'cm', key: 'k' } }], failing), 'SourceBuildError', 'Failed to build bundle sources: failed to get ConfigMap trust-namespace/cm: cache not synced', true);
    assertFailure(build([{ configMap: { selector: {}, key: 'k' } }], failing), 'SourceBuildError', 'Failed to build bundle sources: failed to get ConfigMapList: cache not synced', true);
  });
});

describe('allowed source namespaces (our extension)', () => {
  const extended = { ...OPTIONS, sourceNamespaces: ['team-a'] };

  test('an allowed namespace is read; sources without namespace stay in the trust namespace', () => {
    const reader = new FakeReader({
      configMaps: [configMap('ca', { k: cert1.pem }, {}, {}, 'team-a'), configMap('ca', { k: cert2.pem })],
      secrets: [secret('ca', { k: cert3.pem }, { namespace: 'team-a' })],
    });
    const result = build([{ configMap: { name: 'ca', key: 'k', namespace: 'team-a' } }, { configMap: { name: 'ca', key: 'k' } }, { secret: { name: 'ca', key: 'k', namespace: 'team-a' } }], reader, extended);
    assertCertificates(result, [cert1, cert2, cert3]);
    assert.deepEqual([...new Set(reader.namespacesRead)].sort(), ['team-a', TRUST_NAMESPACE]);
  });

  test('naming the trust namespace explicitly is always allowed', () => {
    const reader = new FakeReader({ configMaps: [configMap('ca', { k: cert1.pem })] });
    assertCertificates(build([{ configMap: { name: 'ca', key: 'k', namespace: TRUST_NAMESPACE } }], reader), [cert1]);
  });

  test('a namespace outside the allowed ones: refused before anything is read, not retried', () => {
    const reader = new FakeReader({ configMaps: [configMap('ca', { k: cert1.pem })] });
    const result = build([{ configMap: { name: 'ca', key: 'k' } }, { secret: { name: 'ca', key: 'k', namespace: 'kube-system' } }], reader, extended);
    assertFailure(
      result,
      'SourceNamespaceNotAllowed',
      'Bundle source namespace is not allowed: spec.sources[1].secret.namespace "kube-system" is not an allowed source namespace ' +
        '(allowed: "trust-namespace", "team-a"); an administrator can allow more namespaces with --source-namespaces',
      false,
    );
    assert.deepEqual(reader.namespacesRead, []);
  });
});

describe('clusterTrustBundle sources (our extension)', () => {
  const available: ReconcileOptions = { ...OPTIONS, clusterTrustBundles: 'available' };
  const object = (name: string, certs: TestCertificate[], signerName?: string, labels: Record<string, string> = {}): ClusterTrustBundleObject => ({
    metadata: { name, labels },
    spec: { ...(signerName ? { signerName } : {}), trustBundle: certs.map((c) => c.pem).join('') },
  });
  const reader = (objects: ClusterTrustBundleObject[]): SourceReader => {
    const base = new FakeReader();
    return Object.assign(base, {
      clusterTrustBundles: { getClusterTrustBundle: (name: string) => objects.find((o) => o.metadata.name === name), listClusterTrustBundles: () => objects },
    });
  };
  // Built per test: the certificates exist only once `before` has run.
  const objects = (): ClusterTrustBundleObject[] => [
    object('plain', [cert1]),
    object('example.com:s:one', [cert2], 'example.com/s', { group: 'x' }),
    object('example.com:s:two', [cert3], 'example.com/s', { group: 'y' }),
    object('example.org:t:one', [cert4], 'example.org/t', { group: 'x' }),
  ];

  test('by name', () => {
    assertCertificates(buildBundleSources(bundle([{ clusterTrustBundle: { name: 'plain' } }]), reader(objects()), available, NOW), [cert1]);
  });

  test('by name, missing: SourceNotFound with the API server wording, no retry', () => {
    assertFailure(
      buildBundleSources(bundle([{ clusterTrustBundle: { name: 'gone' } }]), reader(objects()), available, NOW),
      'SourceNotFound',
      'Bundle source was not found: failed to get ClusterTrustBundle gone: clustertrustbundles.certificates.k8s.io "gone" not found',
      false,
    );
  });

  test('by signer and selector: only that signer, only matching labels; {} selects every object of the signer', () => {
    const selected = (labelSelector?: LabelSelector): SourcesResult =>
      buildBundleSources(bundle([{ inLine: cert4.pem }, { clusterTrustBundle: { signerName: 'example.com/s', ...(labelSelector ? { labelSelector } : {}) } }]), reader(objects()), available, NOW);
    assertCertificates(selected({ matchLabels: { group: 'x' } }), [cert2, cert4]);
    assertCertificates(selected({}), [cert2, cert3, cert4]);
    assertCertificates(selected(undefined), [cert4]);
  });

  test('invalid PEM in an object: SourceBuildError naming it', () => {
    const broken = { metadata: { name: 'broken' }, spec: { trustBundle: '-----BEGIN CERTIFICATE-----\nMAMCAQA=\n-----END CERTIFICATE-----\n' } };
    const result = buildBundleSources(bundle([{ clusterTrustBundle: { name: 'broken' } }]), reader([broken]), available, NOW);
    assert.ok(!result.ok);
    assert.equal(result.reason, 'SourceBuildError');
    assert.match(result.message, /^Failed to build bundle sources: invalid PEM data in ClusterTrustBundle broken: /);
  });

  test('disabled or not served: a condition saying how to enable it, nothing read', () => {
    for (const [clusterTrustBundles, reason] of [
      [undefined, 'ClusterTrustBundlesDisabled'],
      ['disabled', 'ClusterTrustBundlesDisabled'],
      ['unavailable', 'ClusterTrustBundleAPIUnavailable'],
    ] as const) {
      const result = buildBundleSources(bundle([{ inLine: cert1.pem }, { clusterTrustBundle: { name: 'plain' } }]), reader(objects()), { ...OPTIONS, ...(clusterTrustBundles ? { clusterTrustBundles } : {}) }, NOW);
      assert.ok(!result.ok);
      assert.equal(result.reason, reason);
      assert.equal(result.retry, false);
      assert.match(result.message, /^Bundle uses ClusterTrustBundles \(spec\.sources\[1\]\.clusterTrustBundle\) but /);
    }
  });
});

describe('keepHistory sources (our extension)', () => {
  const fingerprints = (certs: readonly { fingerprint: string }[]): string[] => certs.map((c) => c.fingerprint).sort();
  const of = (...certs: TestCertificate[]): string[] => fingerprints(certs.flatMap((c) => parsePemCertificates(c.pem)));

  test('each keepHistory source reports what it holds on its own, after the filters; the bundle is unchanged', () => {
    const reader = new FakeReader({
      secrets: [secret('root-ca', { 'ca.crt': cert1.pem + expired.pem }, { type: 'kubernetes.io/tls' })],
      configMaps: [configMap('other', { 'ca.crt': cert2.pem })],
    });
    const sources: BundleSource[] = [
      { secret: { name: 'root-ca', key: 'ca.crt', keepHistory: { limit: 2 } } },
      { configMap: { name: 'other', key: 'ca.crt' } },
      { inLine: cert3.pem },
    ];
    const result = build(sources, reader, { ...OPTIONS, filterExpiredCertificates: true });
    assertCertificates(result, [cert1, cert2, cert3]);
    assert.ok(result.ok);
    assert.deepEqual(
      result.historySources?.map((source) => [source.source, source.keepHistory, fingerprints(source.certificates)]),
      [['Secret trust-namespace/root-ca, key ca.crt', { limit: 2 }, of(cert1)]],
    );
  });

  test('no keepHistory source: no historySources field, the result is exactly as before', () => {
    const reader = new FakeReader({ configMaps: [configMap('other', { 'ca.crt': cert2.pem })] });
    const result = build([{ configMap: { name: 'other', key: 'ca.crt' } }], reader);
    assert.ok(result.ok);
    assert.equal('historySources' in result, false);
  });

  test('a selector source with keepHistory reports every selected object together', () => {
    const reader = new FakeReader({
      configMaps: [configMap('a', { 'ca.crt': cert1.pem }, {}, { ca: 'yes' }), configMap('b', { 'ca.crt': cert4.pem }, {}, { ca: 'yes' })],
    });
    const result = build([{ configMap: { selector: { matchLabels: { ca: 'yes' } }, key: 'ca.crt', keepHistory: {} } }], reader);
    assert.ok(result.ok);
    assert.deepEqual(result.historySources?.map((source) => [source.source, fingerprints(source.certificates)]), [
      ['ConfigMap trust-namespace selected by {ca=yes}, key ca.crt', of(cert1, cert4)],
    ]);
  });
});
