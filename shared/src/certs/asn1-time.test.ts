import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseGeneralizedTime, parseUtcTime } from './asn1-time.ts';

const utc = (s: string) => parseUtcTime(Buffer.from(s))?.toISOString();
const generalized = (s: string) => parseGeneralizedTime(Buffer.from(s))?.toISOString();

test('UTCTime: century split at 50, minute precision, offsets, canonical forms only', () => {
  assert.equal(utc('491231235959Z'), '2049-12-31T23:59:59.000Z');
  assert.equal(utc('500101000000Z'), '1950-01-01T00:00:00.000Z');
  assert.equal(utc('2401021504Z'), '2024-01-02T15:04:00.000Z');
  assert.equal(utc('240102150405+0130'), '2024-01-02T13:34:05.000Z');
  assert.equal(utc('240102150405-0100'), '2024-01-02T16:04:05.000Z');
  for (const bad of ['240102150405', '240102150405+0000', '241301000000Z', '240230000000Z', '240102246000Z', '24010215040Z', '']) {
    assert.equal(utc(bad), undefined, bad);
  }
});

test('GeneralizedTime: fractions without trailing zeros, four-digit years', () => {
  assert.equal(generalized('20500101000000Z'), '2050-01-01T00:00:00.000Z');
  assert.equal(generalized('99991231235959Z'), '9999-12-31T23:59:59.000Z');
  assert.equal(generalized('20240102150405.5Z'), '2024-01-02T15:04:05.500Z');
  for (const bad of ['20240102150405.50Z', '20240102150405.Z', '202401021504Z', '20240229000000']) {
    assert.equal(generalized(bad), undefined, bad);
  }
  assert.equal(generalized('20240229000000Z'), '2024-02-29T00:00:00.000Z');
});
