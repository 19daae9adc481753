import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isAlreadyExists, isConflict, isGone, isNotFound, KubeApiError, RawBody, retryAfterMs } from './client.ts';

test('Retry-After is honoured in seconds, capped, with a default', () => {
  assert.equal(retryAfterMs('3'), 3000);
  assert.equal(retryAfterMs(['2']), 2000);
  assert.equal(retryAfterMs('3600'), 10_000);
  assert.equal(retryAfterMs(undefined), 1000);
  assert.equal(retryAfterMs('soon'), 1000);
});

test('API errors are classified by status code and reason, with the server message', () => {
  const exists = new KubeApiError(409, { reason: 'AlreadyExists', message: 'configmaps "x" already exists' }, 'HTTP 409');
  assert.equal(exists.message, 'configmaps "x" already exists');
  assert.ok(isConflict(exists) && isAlreadyExists(exists));
  assert.ok(!isAlreadyExists(new KubeApiError(409, { reason: 'Conflict' }, 'x')));
  assert.ok(isNotFound(new KubeApiError(404, undefined, 'HTTP 404')));
  assert.ok(isGone(new KubeApiError(410, undefined, 'HTTP 410')));
  assert.ok(!isNotFound(new Error('404')));
  assert.equal(new KubeApiError(500, undefined, 'HTTP 500').message, 'HTTP 500');
});

test('a RawBody is cut into views of the shared chunks, never copied', () => {
  const big = Buffer.alloc(150_000, 1);
  const body = new RawBody([Buffer.from('{"a":'), big, Buffer.from('}')]);
  assert.equal(body.byteLength, 150_006);
  const pieces = body.pieces(64 * 1024);
  assert.deepEqual(pieces.map((p) => p.byteLength), [5, 65_536, 65_536, 18_928, 1]);
  assert.equal(pieces[1]!.buffer, big.buffer); // a view, not a copy
  assert.deepEqual(Buffer.concat(pieces), Buffer.concat(body.chunks));
});
