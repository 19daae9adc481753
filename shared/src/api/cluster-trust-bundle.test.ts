import assert from 'node:assert/strict';
import { test } from 'node:test';

import { clusterTrustBundleName, clusterTrustBundlesUnusable, MAX_SIGNER_NAME_LENGTH, validateSignerName } from './cluster-trust-bundle.ts';
import { aggregateMessage } from './field-error.ts';

const text = (signerName: string): string => aggregateMessage(validateSignerName('p', signerName));

test('object name: the Bundle name, or the signer prefix the API requires', () => {
  assert.equal(clusterTrustBundleName('my-bundle', undefined), 'my-bundle');
  assert.equal(clusterTrustBundleName('my-bundle', ''), 'my-bundle');
  assert.equal(clusterTrustBundleName('my-bundle', 'example.com/my-signer'), 'example.com:my-signer:my-bundle');
});

test('signerName: valid forms pass', () => {
  for (const name of ['example.com/signer', 'a.b.c/x.y', 'kubernetes.io/kube-apiserver-client']) assert.deepEqual(validateSignerName('p', name), [], name);
});

test('signerName: the API server texts (ValidateSignerName)', () => {
  assert.equal(text(''), 'p: Required value');
  assert.equal(text('no-slash'), `p: Invalid value: "no-slash": must be a fully qualified domain and path of the form 'example.com/signer-name'`);
  assert.equal(text('a/b/c'), `p: Invalid value: "a/b/c": must be a fully qualified domain and path of the form 'example.com/signer-name'`);
  assert.equal(text('example/x'), 'p: Invalid value: "example": should be a domain with at least two segments separated by dots');
  assert.match(text('Example.com/x'), /^p: Invalid value: "Example\.com": validating label "Example": a lowercase RFC 1123 label must consist of/);
  assert.match(text('example.com/Bad_Path'), /^p: Invalid value: "Bad_Path": validating label "Bad_Path": a lowercase RFC 1123 subdomain must consist of/);
  const long = `example.com/${'a'.repeat(63)}.${'b'.repeat(250)}.${'c'.repeat(250)}`;
  assert.ok(long.length > MAX_SIGNER_NAME_LENGTH);
  assert.match(text(long), /p: Too long: may not be more than 571 bytes/);
});

test('what to do when the API cannot be used', () => {
  assert.equal(clusterTrustBundlesUnusable('available'), undefined);
  assert.equal(clusterTrustBundlesUnusable(undefined), undefined, 'not known yet: say nothing');
  assert.match(clusterTrustBundlesUnusable('unavailable') ?? '', /^this cluster does not serve the clustertrustbundles\.certificates\.k8s\.io\/v1beta1 API: .*Kubernetes 1\.33/);
  assert.match(clusterTrustBundlesUnusable('disabled') ?? '', /^ClusterTrustBundle support is disabled: start trust-manager with --cluster-trust-bundles-enabled/);
});
