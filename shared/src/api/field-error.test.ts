import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  aggregateMessage,
  childPath,
  forbidden,
  formatFieldError,
  goQuote,
  indexPath,
  invalid,
  notSupported,
  required,
  tooLong,
  tooMany,
  typeInvalid,
} from './field-error.ts';

test('formatFieldError reproduces Go field.Error texts', () => {
  const cases: [ReturnType<typeof invalid>, string][] = [
    [
      invalid('spec.sources[0].configMap', "name: ' ', selector: nil", 'must validate one and only one schema (oneOf): [name, selector]. Found none valid'),
      `spec.sources[0].configMap: Invalid value: "name: ' ', selector: nil": must validate one and only one schema (oneOf): [name, selector]. Found none valid`,
    ],
    [forbidden('spec.sources', 'must define at least one source'), 'spec.sources: Forbidden: must define at least one source'],
    [required('spec.sources'), 'spec.sources: Required value'],
    [required('x.values', "must be specified when `operator` is 'In' or 'NotIn'"), "x.values: Required value: must be specified when `operator` is 'In' or 'NotIn'"],
    [tooLong('a.b', 253), 'a.b: Too long: may not be more than 253 bytes'],
    [tooLong('a.b', 1), 'a.b: Too long: may not be more than 1 byte'],
    [tooMany('spec.sources', 101, 100), 'spec.sources: Too many: 101: must have at most 100 items'],
    [notSupported('p', 'Bad', ['LegacyRC2', 'Modern2023']), 'p: Unsupported value: "Bad": supported values: "LegacyRC2", "Modern2023"'],
    [invalid('p', null, 'd'), 'p: Invalid value: null: d'],
    [invalid('p', 3, 'd'), 'p: Invalid value: 3: d'],
    [invalid('p', true, ''), 'p: Invalid value: true'],
    [typeInvalid('p', 'string', 'must be array'), 'p: Invalid value: "string": must be array'],
  ];
  for (const [error, text] of cases) assert.equal(formatFieldError(error), text);
});

test('aggregateMessage: one error is its text, several are bracketed, duplicates dropped', () => {
  const a = forbidden('spec.sources[0]', 'x');
  const b = forbidden('spec.sources', 'y');
  assert.equal(aggregateMessage([a]), 'spec.sources[0]: Forbidden: x');
  assert.equal(aggregateMessage([a, b, { ...a }]), '[spec.sources[0]: Forbidden: x, spec.sources: Forbidden: y]');
  assert.equal(aggregateMessage([]), '');
});

test('goQuote escapes like strconv.Quote', () => {
  assert.equal(goQuote('plain'), '"plain"');
  assert.equal(goQuote('a"b\\c'), '"a\\"b\\\\c"');
  assert.equal(goQuote('\n\t\r\x00\x7f'), '"\\n\\t\\r\\x00\\x7f"');
  assert.equal(goQuote('héllo ✓'), '"héllo ✓"');
  assert.equal(goQuote('\u200b'), '"\\u200b"');
});

test('paths compose like field.Path', () => {
  assert.equal(indexPath(childPath('spec', 'sources'), 2), 'spec.sources[2]');
  assert.equal(childPath('spec.sources[1]', 'configMap', 'bundle', 'key'), 'spec.sources[1].configMap.bundle.key');
});
