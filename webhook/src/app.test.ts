import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';

import { pino } from 'pino';

import { WEBHOOK_PATH } from '@trust-manager/shared/api/constants.ts';

import { buildApp } from './app.ts';
import { createWebhookMetrics } from './metrics.ts';
import { bundle, upstreamCases } from './testing/upstream-cases.ts';
import { admissionReview } from './testing/admission-review.ts';

function memoryLogger(): { logger: ReturnType<typeof pino>; lines: () => Record<string, unknown>[] } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      chunks.push(chunk.toString());
      callback();
    },
  });
  return {
    logger: pino({ level: 'info' }, stream),
    lines: () =>
      chunks
        .join('')
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as Record<string, unknown>),
  };
}

function setup() {
  const log = memoryLogger();
  const metrics = createWebhookMetrics({ processMetrics: false });
  const app = buildApp({ validation: { trustNamespace: 'trust', sourceNamespaces: ['team-a'] }, logger: log.logger, metrics });
  return { app, metrics, log };
}

const review = admissionReview;

interface ReviewResponse {
  apiVersion: string;
  kind: string;
  response: { uid: string; allowed: boolean; status: { code: number; reason?: string; message?: string }; warnings?: string[] };
}

test('every upstream Test_validate case through HTTP: CREATE and UPDATE answer alike', async () => {
  const { app } = setup();
  for (const operation of ['CREATE', 'UPDATE']) {
    for (const [name, object, expected] of upstreamCases) {
      const reply = await app.inject({ method: 'POST', url: WEBHOOK_PATH, payload: review(object, { operation, oldObject: operation === 'UPDATE' ? bundle({}) : null }) });
      assert.equal(reply.statusCode, 200, name);
      const body = reply.json<ReviewResponse>();
      assert.equal(body.apiVersion, 'admission.k8s.io/v1');
      assert.equal(body.kind, 'AdmissionReview');
      assert.equal(body.response.uid, 'a8b1c2d3-0000-4000-8000-000000000001');
      if (expected === '') {
        assert.deepEqual([body.response.allowed, body.response.status], [true, { metadata: {}, code: 200 }], `${operation} ${name}`);
      } else {
        assert.deepEqual(
          [body.response.allowed, body.response.status],
          [false, { metadata: {}, code: 403, reason: 'Forbidden', message: expected }],
          `${operation} ${name}`,
        );
      }
    }
  }
  await app.close();
});

test('DELETE and CONNECT are allowed without looking at the object', async () => {
  const { app } = setup();
  for (const operation of ['DELETE', 'CONNECT']) {
    const reply = await app.inject({ method: 'POST', url: WEBHOOK_PATH, payload: review(null, { operation, oldObject: bundle({}) }) });
    const body = reply.json<ReviewResponse>();
    assert.equal(body.response.allowed, true, operation);
    assert.equal(body.response.status.code, 200);
  }
  await app.close();
});

test('our additions through HTTP: disallowed namespace denied, inLine without certificates denied after upstream rules', async () => {
  const { app } = setup();
  let reply = await app.inject({
    method: 'POST',
    url: WEBHOOK_PATH,
    payload: review(bundle({ sources: [{ secret: { name: 's', key: 'ca.crt', namespace: 'kube-system' } }], target: { configMap: { key: 'ca.crt' } } })),
  });
  let body = reply.json<ReviewResponse>();
  assert.equal(body.response.allowed, false);
  assert.match(body.response.status.message ?? '', /^spec\.sources\[0\]\.secret\.namespace: Forbidden: namespace "kube-system" is not an allowed source namespace; allowed: "trust", "team-a"/);

  reply = await app.inject({ method: 'POST', url: WEBHOOK_PATH, payload: review(bundle({ sources: [{ inLine: 'not pem' }], target: { configMap: { key: 'k' } } })) });
  body = reply.json<ReviewResponse>();
  assert.equal(body.response.allowed, false);
  assert.equal(
    body.response.status.message,
    'spec.sources[0].inLine: Invalid value: no PEM-encoded certificate found; an inLine source must contain at least one -----BEGIN CERTIFICATE----- block',
  );

  // Where upstream's rules deny, the message is upstream's alone.
  reply = await app.inject({ method: 'POST', url: WEBHOOK_PATH, payload: review(bundle({ sources: [{ inLine: 'not pem', useDefaultCAs: true }], target: { configMap: { key: 'k' } } })) });
  body = reply.json<ReviewResponse>();
  assert.equal(body.response.status.message, 'spec.sources[0]: Forbidden: must define exactly one source type for each item but found 2 defined types');
  await app.close();
});

test('envelope problems: clear 400s or upstream denials, and the server keeps serving', async () => {
  const { app, metrics, log } = setup();
  const post = (payload: string | object, headers: Record<string, string> = { 'content-type': 'application/json' }) =>
    app.inject({ method: 'POST', url: WEBHOOK_PATH, payload, headers });

  const badRequests: [string, string | object, RegExp][] = [
    ['malformed JSON', '{"apiVersion": "admission.k8s.io/v1", ', /JSON/i],
    ['empty body', '', /empty/i],
    ['not an object', '[1,2,3]', /expected a JSON admission\.k8s\.io\/v1 AdmissionReview object, got an array/],
    ['wrong kind', { apiVersion: 'admission.k8s.io/v1', kind: 'ConversionReview', request: {} }, /got apiVersion "admission\.k8s\.io\/v1" and kind "ConversionReview"/],
    ['wrong apiVersion', { apiVersion: 'admission.k8s.io/v1beta1', kind: 'AdmissionReview', request: {} }, /got apiVersion "admission\.k8s\.io\/v1beta1"/],
    ['no request', { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview' }, /has no request/],
    ['no uid', { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request: { operation: 'CREATE' } }, /has no uid/],
    ['prototype poisoning', '{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","__proto__":{"x":1}}', /not valid JSON/],
  ];
  for (const [name, payload, message] of badRequests) {
    const reply = await post(payload);
    assert.equal(reply.statusCode, 400, name);
    assert.match(reply.json<{ message: string }>().message, message, name);
  }
  const wrongType = await post('<a/>', { 'content-type': 'application/xml' });
  assert.equal(wrongType.statusCode, 415);

  const denials: [string, Record<string, unknown>, number, RegExp][] = [
    ['other resource kind', review(bundle({}), { requestKind: { group: '', version: 'v1', kind: 'ConfigMap' } }), 403, /^validation request for unrecognised resource type: \/v1 ConfigMap$/],
    ['no kind at all', review(bundle({}), { requestKind: undefined, kind: undefined }), 400, /^no resource kind sent in request$/],
    ['object is not a Bundle', review({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x' } }), 400, /request object is not a trust\.cert-manager\.io\/v1alpha1 Bundle: got apiVersion "v1" kind "ConfigMap"/],
    ['object missing', review(undefined), 400, /is not a trust\.cert-manager\.io\/v1alpha1 Bundle: got nothing/],
    ['unknown operation', review(bundle({}), { operation: 'PATCH' }), 400, /unsupported operation "PATCH"/],
  ];
  for (const [name, payload, code, message] of denials) {
    const reply = await post(payload);
    assert.equal(reply.statusCode, 200, name);
    const body = reply.json<ReviewResponse>();
    assert.equal(body.response.allowed, false, name);
    assert.equal(body.response.status.code, code, name);
    assert.match(body.response.status.message ?? '', message, name);
  }

  // Still serving after all of that.
  const ok = await post(review(bundle({ sources: [{ useDefaultCAs: true }] })));
  assert.equal(ok.json<ReviewResponse>().response.allowed, true);

  const counts = await metrics.admissions.get();
  const count = (operation: string, result: string) =>
    counts.values.find((value) => value.labels.operation === operation && value.labels.result === result)?.value ?? 0;
  assert.equal(count('', 'error'), badRequests.length + 1);
  assert.equal(count('CREATE', 'allowed'), 1);
  assert.equal(count('CREATE', 'denied'), 1);
  assert.ok(log.lines().some((line) => line.msg === 'rejected malformed admission request'));
  await app.close();
});

test('size limits: over-limit body is 413, 10,000 sources are denied by the schema', async () => {
  const { app } = setup();
  const huge = review(bundle({ sources: [{ inLine: 'x'.repeat(5 * 1024 * 1024) }] }));
  const tooBig = await app.inject({ method: 'POST', url: WEBHOOK_PATH, payload: huge });
  assert.equal(tooBig.statusCode, 413);

  const many = review(bundle({ sources: Array.from({ length: 10_000 }, (_, i) => ({ configMap: { name: `cm-${i}`, key: 'ca.crt' } })), target: { configMap: { key: 'out' } } }));
  const reply = await app.inject({ method: 'POST', url: WEBHOOK_PATH, payload: many });
  const body = reply.json<ReviewResponse>();
  assert.equal(body.response.allowed, false);
  assert.equal(body.response.status.message, 'spec.sources: Too many: 10000: must have at most 100 items');

  let deep = '"leaf"';
  for (let i = 0; i < 50_000; i++) deep = `[${deep}]`;
  const nested = `{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u","operation":"CREATE","kind":{"group":"trust.cert-manager.io","version":"v1alpha1","kind":"Bundle"},"object":{"apiVersion":"trust.cert-manager.io/v1alpha1","kind":"Bundle","metadata":{"name":"x"},"spec":{"sources":${deep}}}}}`;
  const deepReply = await app.inject({ method: 'POST', url: WEBHOOK_PATH, payload: nested, headers: { 'content-type': 'application/json' } });
  assert.equal(deepReply.statusCode, 200);
  assert.match(deepReply.json<ReviewResponse>().response.status.message ?? '', /spec\.sources\[0\]: Invalid value: "array": spec\.sources\[0\] in body must be of type object/);
  await app.close();
});

test('log lines carry uid, bundle and result, never the inLine bytes', async () => {
  const { app, log } = setup();
  const secretLooking = '-----BEGIN PRIVATE KEY-----\nTUlJRXZRSUJBREFOQmdrcWhraUc5dzBCQVFFRkFBU0NCS2N3Z2dTakFnRUFBb0lCQVFD\n-----END PRIVATE KEY-----\n';
  await app.inject({ method: 'POST', url: WEBHOOK_PATH, payload: review(bundle({ sources: [{ inLine: secretLooking }] })) });
  const lines = log.lines().filter((line) => line.msg === 'admission decided');
  assert.equal(lines.length, 1);
  const [line] = lines;
  assert.equal(line?.uid, 'a8b1c2d3-0000-4000-8000-000000000001');
  assert.equal(line?.bundle, 'test-bundle');
  assert.equal(line?.result, 'denied');
  assert.match(String(line?.reason), /only CERTIFICATE blocks are permitted but found 'PRIVATE KEY'/);
  assert.doesNotMatch(JSON.stringify(log.lines()), /TUlJRXZRSUJBREFO/);
  await app.close();
});
