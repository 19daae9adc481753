// admission.k8s.io/v1 AdmissionReview in and out: pure decoding of the request, pure decision, pure
// encoding of the response. Response shapes follow controller-runtime (what upstream runs): allowed =>
// status.code 200; denied => code 403, reason Forbidden, message = aggregate error text.

import { API_VERSION, GROUP, KIND, VERSION } from '@trust-manager/shared/api/constants.ts';

import { denialMessage, validateBundle, type ValidationOptions } from './validate.ts';

export const ADMISSION_API_VERSION = 'admission.k8s.io/v1';
export const ADMISSION_REVIEW_KIND = 'AdmissionReview';

export type Operation = 'CREATE' | 'UPDATE' | 'DELETE' | 'CONNECT';
const OPERATIONS: readonly string[] = ['CREATE', 'UPDATE', 'DELETE', 'CONNECT'];

export interface AdmissionStatus {
  metadata: Record<string, never>;
  code: number;
  reason?: string;
  message?: string;
}

export interface AdmissionResponse {
  uid: string;
  allowed: boolean;
  status: AdmissionStatus;
  warnings?: string[];
}

export interface AdmissionReviewResponse {
  apiVersion: typeof ADMISSION_API_VERSION;
  kind: typeof ADMISSION_REVIEW_KIND;
  response: AdmissionResponse;
}

/** What the log line and the metrics need to know about one admission. */
export interface AdmissionOutcome {
  review: AdmissionReviewResponse;
  operation: string;
  bundleName: string;
  result: 'allowed' | 'denied' | 'error';
}

/** The request is not an AdmissionReview we can answer (no uid to echo): HTTP 400. */
export class BadAdmissionReview extends Error {
  override name = 'BadAdmissionReview';
  readonly statusCode = 400;
}

interface GroupVersionKind {
  group?: unknown;
  version?: unknown;
  kind?: unknown;
}

/** Decide one AdmissionReview body. Throws BadAdmissionReview when there is no request to answer. */
export function admit(body: unknown, options: ValidationOptions): AdmissionOutcome {
  if (!isObject(body)) throw new BadAdmissionReview(`expected a JSON ${ADMISSION_API_VERSION} ${ADMISSION_REVIEW_KIND} object, got ${describe(body)}`);
  if (body.apiVersion !== ADMISSION_API_VERSION || body.kind !== ADMISSION_REVIEW_KIND) {
    throw new BadAdmissionReview(
      `expected apiVersion ${JSON.stringify(ADMISSION_API_VERSION)} and kind ${JSON.stringify(ADMISSION_REVIEW_KIND)}, got apiVersion ${describe(body.apiVersion)} and kind ${describe(body.kind)}`,
    );
  }
  const request = body.request;
  if (!isObject(request)) throw new BadAdmissionReview('AdmissionReview has no request');
  if (typeof request.uid !== 'string' || request.uid === '') throw new BadAdmissionReview('AdmissionReview request has no uid');

  const uid = request.uid;
  const operation = typeof request.operation === 'string' ? request.operation : '';
  const object = request.object;
  const bundleName = bundleNameOf(object) ?? (typeof request.name === 'string' ? request.name : '');
  const outcome = (response: AdmissionResponse, result: AdmissionOutcome['result']): AdmissionOutcome => ({
    review: { apiVersion: ADMISSION_API_VERSION, kind: ADMISSION_REVIEW_KIND, response },
    operation,
    bundleName,
    result,
  });

  const kind = (isObject(request.requestKind) ? request.requestKind : request.kind) as GroupVersionKind | undefined;
  if (!isObject(kind)) return outcome(errored(uid, 400, 'no resource kind sent in request'), 'error');
  if (kind.group !== GROUP || kind.version !== VERSION || kind.kind !== KIND) {
    // upstream's text for any other resource type
    return outcome(denied(uid, `validation request for unrecognised resource type: ${String(kind.group)}/${String(kind.version)} ${String(kind.kind)}`), 'denied');
  }
  if (!OPERATIONS.includes(operation)) return outcome(errored(uid, 400, `unsupported operation ${JSON.stringify(operation)}`), 'error');
  // Deleting or connecting never depends on the Bundle's content.
  if (operation === 'DELETE' || operation === 'CONNECT') return outcome(allowed(uid, []), 'allowed');

  if (!isObject(object) || object.apiVersion !== API_VERSION || object.kind !== KIND) {
    const got = isObject(object) ? `apiVersion ${describe(object.apiVersion)} kind ${describe(object.kind)}` : describe(object);
    return outcome(errored(uid, 400, `request object is not a ${API_VERSION} ${KIND}: got ${got}`), 'error');
  }

  const result = validateBundle(object, options);
  if (result.errors.length > 0) return outcome(denied(uid, denialMessage(result), result.warnings), 'denied');
  return outcome(allowed(uid, result.warnings), 'allowed');
}

function allowed(uid: string, warnings: string[]): AdmissionResponse {
  return withWarnings({ uid, allowed: true, status: { metadata: {}, code: 200 } }, warnings);
}

function denied(uid: string, message: string, warnings: string[] = []): AdmissionResponse {
  return withWarnings({ uid, allowed: false, status: { metadata: {}, code: 403, reason: 'Forbidden', message } }, warnings);
}

/** controller-runtime's admission.Errored: not allowed, HTTP-like code, the error as message. */
function errored(uid: string, code: number, message: string): AdmissionResponse {
  return { uid, allowed: false, status: { metadata: {}, code, message } };
}

function withWarnings(response: AdmissionResponse, warnings: string[]): AdmissionResponse {
  return warnings.length > 0 ? { ...response, warnings } : response;
}

function bundleNameOf(object: unknown): string | undefined {
  if (!isObject(object) || !isObject(object.metadata)) return undefined;
  return typeof object.metadata.name === 'string' ? object.metadata.name : undefined;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Short description of an unexpected value for error texts (never the value of a big object). */
function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (typeof value === 'string') return JSON.stringify(value.length > 64 ? `${value.slice(0, 64)}...` : value);
  if (value === null || typeof value === 'number' || typeof value === 'boolean') return String(value);
  return Array.isArray(value) ? 'an array' : `a ${typeof value}`;
}
