// events.k8s.io/v1 Event recorder. Events are best effort: a failure is logged, never thrown,
// because losing an Event must not fail a reconcile. No aggregation: one call, one Event.
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import { EVENT_REPORTING_CONTROLLER } from '@trust-manager/shared/api/constants.ts';
import { errorMessage } from '@trust-manager/shared/text/error-message.ts';
import type { KubeClient } from '@trust-manager/shared/kube/client.ts';
import { apiVersionOf, EVENTS, resourcePath } from '@trust-manager/shared/kube/resource.ts';

export type EventType = 'Normal' | 'Warning';

export interface EventRegarding {
  apiVersion: string;
  kind: string;
  name: string;
  /** Absent for cluster-scoped objects such as Bundles. */
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
}

export interface EventInfo {
  type: EventType;
  reason: string;
  action: string;
  note: string;
}

/** Namespace of Events about cluster-scoped objects (where client-go puts them too). */
export const CLUSTER_EVENT_NAMESPACE = 'default';
/** events.k8s.io validation limits. */
const MAX_NOTE_BYTES = 1024;
const MAX_SHORT_FIELD = 128;
const MAX_NAME = 253;

export interface EventRecorderOptions {
  reportingController?: string;
  /** Which replica reported (pod name / hostname). */
  reportingInstance: string;
  logger?: Logger;
  onWrite?: (ok: boolean) => void;
  now?: () => Date;
}

export class EventRecorder {
  readonly #client: KubeClient;
  readonly #opts: EventRecorderOptions;

  constructor(client: KubeClient, options: EventRecorderOptions) {
    this.#client = client;
    this.#opts = options;
  }

  /** Creates one Event; never throws. */
  async record(regarding: EventRegarding, info: EventInfo): Promise<void> {
    const event = buildEvent(regarding, info, {
      reportingController: this.#opts.reportingController ?? EVENT_REPORTING_CONTROLLER,
      reportingInstance: this.#opts.reportingInstance,
      now: this.#opts.now?.() ?? new Date(),
    });
    try {
      await this.#client.json({
        method: 'POST',
        path: resourcePath(EVENTS, { namespace: event.metadata.namespace }),
        body: event,
      });
      this.#opts.onWrite?.(true);
    } catch (err) {
      this.#opts.onWrite?.(false);
      this.#opts.logger?.warn(
        { err: errorMessage(err), reason: info.reason, regarding: regarding.name },
        'failed to record event',
      );
    }
  }
}

export interface EventBody {
  apiVersion: string;
  kind: 'Event';
  metadata: { name: string; namespace: string };
  eventTime: string;
  reportingController: string;
  reportingInstance: string;
  action: string;
  reason: string;
  type: EventType;
  note: string;
  regarding: EventRegarding;
}

/** The Event object for `info` about `regarding` (pure; see EventRecorder.record). */
export function buildEvent(
  regarding: EventRegarding,
  info: EventInfo,
  ctx: { reportingController: string; reportingInstance: string; now: Date },
): EventBody {
  const namespace = regarding.namespace || CLUSTER_EVENT_NAMESPACE;
  // client-go names Events `<object>.<hex timestamp>`; the random tail avoids collisions
  // between two Events within the same millisecond.
  const suffix = `.${ctx.now.getTime().toString(16)}${randomBytes(3).toString('hex')}`;
  return {
    apiVersion: apiVersionOf(EVENTS),
    kind: 'Event',
    metadata: { name: regarding.name.slice(0, MAX_NAME - suffix.length) + suffix, namespace },
    eventTime: microTime(ctx.now),
    reportingController: ctx.reportingController.slice(0, MAX_SHORT_FIELD),
    reportingInstance: ctx.reportingInstance.slice(0, MAX_SHORT_FIELD),
    action: info.action.slice(0, MAX_SHORT_FIELD),
    reason: info.reason.slice(0, MAX_SHORT_FIELD),
    type: info.type,
    note: truncateUtf8(info.note, MAX_NOTE_BYTES),
    regarding,
  };
}

/** metav1.MicroTime: RFC 3339 with exactly six fractional digits, UTC. */
export function microTime(date: Date): string {
  return date.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

/** Cuts `text` to at most `maxBytes` of UTF-8 without splitting a character. */
export function truncateUtf8(text: string, maxBytes: number): string {
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length <= maxBytes) return text;
  let end = maxBytes;
  // Step back over continuation bytes (10xxxxxx) so we end on a character boundary.
  while (end > 0 && ((bytes[end] ?? 0) & 0xc0) === 0x80) end--;
  return bytes.subarray(0, end).toString('utf8');
}
