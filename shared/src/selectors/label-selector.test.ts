import assert from 'node:assert/strict';
import { test } from 'node:test';

import { aggregateMessage, formatFieldError } from '../api/field-error.ts';
import type { LabelSelector } from '../api/types.ts';
import { formatLabelSelector, matchesLabelSelector, validateLabelSelector } from './label-selector.ts';

const NAME_REGEX_ERROR =
  "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
const VALUE_REGEX_ERROR =
  "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";

test('validateLabelSelector: upstream texts', () => {
  const p = 'spec.target.namespaceSelector';
  const cases: [string, LabelSelector, string[]][] = [
    ['valid', { matchLabels: { 'app.kubernetes.io/name': 'x' }, matchExpressions: [{ key: 'a', operator: 'In', values: ['b'] }] }, []],
    ['empty selector', {}, []],
    ['bad matchLabels key', { matchLabels: { '@@@@': '' } }, [`${p}.matchLabels: Invalid value: "@@@@": ${NAME_REGEX_ERROR}`]],
    ['bad matchLabels value', { matchLabels: { a: '-x' } }, [`${p}.matchLabels: Invalid value: "-x": ${VALUE_REGEX_ERROR}`]],
    ['too long value', { matchLabels: { a: 'v'.repeat(64) } }, [`${p}.matchLabels: Invalid value: "${'v'.repeat(64)}": must be no more than 63 bytes`]],
    ['too long name part', { matchLabels: { ['n'.repeat(64)]: '' } }, [`${p}.matchLabels: Invalid value: "${'n'.repeat(64)}": name part must be no more than 63 bytes`]],
    [
      'In without values',
      { matchExpressions: [{ key: 'a', operator: 'In' }] },
      [`${p}.matchExpressions[0].values: Required value: must be specified when \`operator\` is 'In' or 'NotIn'`],
    ],
    [
      'Exists with values',
      { matchExpressions: [{ key: 'a', operator: 'Exists', values: ['x'] }] },
      [`${p}.matchExpressions[0].values: Forbidden: may not be specified when \`operator\` is 'Exists' or 'DoesNotExist'`],
    ],
    [
      'bad operator, key and value',
      { matchExpressions: [{ key: 'a', operator: 'Exists' }, { key: 'b/c/d', operator: 'Is', values: ['ok', '!'] }] },
      [
        `${p}.matchExpressions[1].operator: Invalid value: "Is": not a valid selector operator`,
        `${p}.matchExpressions[1].key: Invalid value: "b/c/d": a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')`,
        `${p}.matchExpressions[1].values[1]: Invalid value: "!": ${VALUE_REGEX_ERROR}`,
      ],
    ],
    [
      'bad prefix',
      { matchLabels: { 'Example.com/a': 'b', '/a': 'b' } },
      [
        `${p}.matchLabels: Invalid value: "/a": prefix part must be non-empty`,
        `${p}.matchLabels: Invalid value: "Example.com/a": prefix part a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')`,
      ],
    ],
    [
      'empty name part gets both texts',
      { matchLabels: { 'a.io/': 'b' } },
      [`${p}.matchLabels: Invalid value: "a.io/": name part must be non-empty`, `${p}.matchLabels: Invalid value: "a.io/": ${NAME_REGEX_ERROR}`],
    ],
  ];
  for (const [name, selector, expected] of cases) {
    assert.deepEqual(validateLabelSelector(selector, p).map(formatFieldError), expected, name);
  }
  assert.deepEqual(validateLabelSelector(undefined, p), []);
});

test('validateLabelSelector: 63-byte name part counts bytes, prefix up to 253', () => {
  const p = 's';
  assert.deepEqual(validateLabelSelector({ matchLabels: { ['a'.repeat(63)]: 'v' } }, p), []);
  const longPrefix = `${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(61)}`; // 253
  assert.deepEqual(validateLabelSelector({ matchLabels: { [`${longPrefix}/n`]: 'v' } }, p), []);
  const message = aggregateMessage(validateLabelSelector({ matchLabels: { [`${longPrefix}e/n`]: 'v' } }, p));
  assert.match(message, /prefix part must be no more than 253 bytes/);
  // 'é' is two bytes: 32 of them exceed 63 bytes though only 32 characters.
  assert.match(aggregateMessage(validateLabelSelector({ matchLabels: { a: 'é'.repeat(32) } }, p)), /must be no more than 63 bytes/);
});

test('matchesLabelSelector', () => {
  const labels = { env: 'prod', tier: 'web' };
  const cases: [string, LabelSelector | undefined, Record<string, string> | undefined, boolean][] = [
    ['undefined matches all', undefined, labels, true],
    ['{} matches all', {}, undefined, true],
    ['matchLabels hit', { matchLabels: { env: 'prod' } }, labels, true],
    ['matchLabels miss', { matchLabels: { env: 'dev' } }, labels, false],
    ['matchLabels missing key', { matchLabels: { team: 'a' } }, labels, false],
    ['In hit', { matchExpressions: [{ key: 'env', operator: 'In', values: ['dev', 'prod'] }] }, labels, true],
    ['In missing key', { matchExpressions: [{ key: 'x', operator: 'In', values: [''] }] }, labels, false],
    ['NotIn hit', { matchExpressions: [{ key: 'env', operator: 'NotIn', values: ['prod'] }] }, labels, false],
    ['NotIn missing key matches', { matchExpressions: [{ key: 'x', operator: 'NotIn', values: ['a'] }] }, labels, true],
    ['Exists', { matchExpressions: [{ key: 'tier', operator: 'Exists' }] }, labels, true],
    ['DoesNotExist', { matchExpressions: [{ key: 'tier', operator: 'DoesNotExist' }] }, labels, false],
    ['AND of all', { matchLabels: { env: 'prod' }, matchExpressions: [{ key: 'tier', operator: 'In', values: ['db'] }] }, labels, false],
    ['unknown operator selects nothing', { matchExpressions: [{ key: 'env', operator: 'Gt', values: ['1'] }] }, labels, false],
    ['inherited names are not labels', { matchExpressions: [{ key: 'constructor', operator: 'Exists' }] }, {}, false],
  ];
  for (const [name, selector, have, expected] of cases) assert.equal(matchesLabelSelector(selector, have), expected, name);
});

test('formatLabelSelector: sorted by key, values sorted', () => {
  const cases: [LabelSelector, string][] = [
    [{}, ''],
    [{ matchLabels: { b: '2', a: '1' } }, 'a=1,b=2'],
    [
      {
        matchLabels: { zone: 'z1' },
        matchExpressions: [
          { key: 'tier', operator: 'NotIn', values: ['web', 'db'] },
          { key: 'env', operator: 'In', values: ['prod', 'dev'] },
          { key: 'gone', operator: 'DoesNotExist' },
          { key: 'app', operator: 'Exists' },
          { key: 'one', operator: 'In', values: ['x'] },
        ],
      },
      'app,env in (dev,prod),!gone,one in (x),tier notin (db,web),zone=z1',
    ],
  ];
  for (const [selector, text] of cases) assert.equal(formatLabelSelector(selector), text);
});
