import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { createLogger, isLogFormat, levelForVerbosity } from './logging.ts';

function capture(): { stream: Writable; text: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(chunk.toString());
      done();
    },
  });
  return { stream, text: () => chunks.join('') };
}

test('verbosity 1 is info, 2 and above debug', () => {
  assert.equal(levelForVerbosity(1), 'info');
  assert.equal(levelForVerbosity(2), 'debug');
  assert.equal(levelForVerbosity(5), 'debug');
  assert.ok(isLogFormat('json') && isLogFormat('text') && !isLogFormat('xml'));
});

test('json lines carry the level name and fields; debug lines only from verbosity 2', () => {
  const out = capture();
  const log = createLogger({ format: 'json', verbosity: 1, destination: out.stream });
  log.info({ bundle: 'b' }, 'hello');
  log.debug('hidden');
  const lines = out.text().trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
  assert.equal(lines.length, 1);
  assert.equal(lines[0]?.level, 'info');
  assert.equal(lines[0]?.bundle, 'b');
  assert.equal(lines[0]?.msg, 'hello');
});

test('text format keeps an error on its line', () => {
  const out = capture();
  const log = createLogger({ format: 'text', verbosity: 1, destination: out.stream });
  log.warn({ err: 'forbidden', lease: 'ns/l' }, 'failed to release the lease');
  log.error({ err: new Error('boom') }, 'failed');
  const lines = out.text().trim().split('\n');
  assert.equal(lines.length, 2, out.text());
  assert.match(lines[0]!, /WARN: failed to release the lease \{"err":"forbidden","lease":"ns\/l"\}$/);
  assert.match(lines[1]!, /ERROR: failed \{"err":\{"type":"Error","message":"boom","stack":"Error: boom\\n/);
});

test('text format prints readable single lines', () => {
  const out = capture();
  const log = createLogger({ format: 'text', verbosity: 2, destination: out.stream });
  log.debug({ namespace: 'ns' }, 'wrote target');
  assert.match(out.text(), /DEBUG: wrote target \{"namespace":"ns"\}\n$/);
});
