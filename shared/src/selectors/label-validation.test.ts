import assert from 'node:assert/strict';
import { test } from 'node:test';

import { formatFieldError } from '../api/field-error.ts';
import { isDNS1123Label, isQualifiedName, validateAnnotations, validateLabels } from './label-validation.ts';

test('validateLabels: key and value texts at the map path', () => {
  const p = 'spec.target.configMap.metadata.labels';
  assert.deepEqual(validateLabels({ 'app.kubernetes.io/part-of': 'service-a' }, p), []);
  assert.deepEqual(validateLabels({ 'a b': 'ok' }, p).map(formatFieldError), [
    `${p}: Invalid value: "a b": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')`,
  ]);
  assert.deepEqual(validateLabels({ ok: 'x'.repeat(64) }, p).map(formatFieldError), [`${p}: Invalid value: "${'x'.repeat(64)}": must be no more than 63 bytes`]);
});

test('validateAnnotations: keys checked lower-cased, values free, total size limited', () => {
  const p = 'spec.target.secret.metadata.annotations';
  // Upper-case prefixes are fine for annotations (not for labels).
  assert.deepEqual(validateAnnotations({ 'Example.COM/Key': 'any value at all: !@#' }, p), []);
  assert.equal(validateLabels({ 'Example.COM/Key': 'v' }, p).length, 1);
  assert.deepEqual(validateAnnotations({ 'bad key': '' }, p).map(formatFieldError), [
    `${p}: Invalid value: "bad key": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')`,
  ]);
  assert.deepEqual(validateAnnotations({ a: 'x'.repeat(262144 - 1) }, p), []);
  assert.deepEqual(validateAnnotations({ a: 'x'.repeat(262144) }, p).map(formatFieldError), [`${p}: Too long: may not be more than 262144 bytes`]);
});

test('isQualifiedName and isDNS1123Label edge cases', () => {
  assert.deepEqual(isQualifiedName('example.com/name'), []);
  assert.equal(isQualifiedName('').length, 2);
  assert.deepEqual(isDNS1123Label('team-a'), []);
  assert.deepEqual(isDNS1123Label('a.b'), ['must not contain dots']);
  assert.deepEqual(isDNS1123Label('x'.repeat(64)), ['must be no more than 63 bytes']);
  assert.deepEqual(isDNS1123Label('Team'), [
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')",
  ]);
});
