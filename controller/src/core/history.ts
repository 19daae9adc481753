// Certificate history of keepHistory sources (docs/ca-rotation.md): when a certificate disappears
// from such a source (a rotated CA), it stays in the bundle until it expires, or until the source's
// limit or maxAge is reached, whichever comes first. Pure: the whole memory is the Bundle's
// status.certHistory, read here as "previous" and returned as the value to write back, so a restart
// or a new leader continues exactly where the last one stopped.

import { DEFAULT_HISTORY_LIMIT } from '@trust-manager/shared/api/schema.ts';
import { rfc3339 } from '@trust-manager/shared/api/time.ts';
import type { CertificateRecord, KeepHistory, RetiredCertificate, SourceCertHistory, SourceObjectKeySelector } from '@trust-manager/shared/api/types.ts';
import type { Certificate } from '@trust-manager/shared/certs/certificate.ts';
import { CertPool, certificatePem } from '@trust-manager/shared/certs/pool.ts';
import { parsePemCertificates } from '@trust-manager/shared/certs/scan.ts';
import { parseGoDuration } from '@trust-manager/shared/cli/duration.ts';
import { formatLabelSelector } from '@trust-manager/shared/selectors/label-selector.ts';
import type { ReconcileOptions } from './options.ts';
import type { EventSpec } from './reconcile.ts';

/** The certificates one keepHistory source holds now (after the --filter-* options). */
export interface HistorySource {
  /** sourceKey(): identifies the source in status.certHistory. */
  source: string;
  keepHistory: KeepHistory;
  certificates: readonly Certificate[];
}

/** Why a previous certificate left the bundle. */
export const DROP_REASONS = ['Expired', 'MaxAge', 'Limit', 'HistoryOff', 'Invalid'] as const;
export type DropReason = (typeof DROP_REASONS)[number];

export interface HistoryChange {
  source: string;
  /** The retired certificate as recorded (for Invalid: what the status claimed). */
  certificate: RetiredCertificate;
}

export interface HistoryDecision {
  /** The new status.certHistory; empty means the field is absent. */
  history: SourceCertHistory[];
  /** Previous certificates to add to the bundle. */
  include: Certificate[];
  /** Certificates that left their source in this decision and are kept. */
  retired: HistoryChange[];
  /** Previous certificates dropped in this decision. */
  dropped: Array<HistoryChange & { reason: DropReason }>;
  /** The next moment a kept certificate must be dropped (expiry or maxAge): reconcile then. */
  nextDropAt?: Date;
  /** Number of previous certificates kept, over all sources. */
  keptCount: number;
}

export interface HistoryInput {
  /** status.certHistory as last written. */
  previous: readonly SourceCertHistory[] | undefined;
  /** Every keepHistory source of the Bundle, with what it holds now. */
  sources: readonly HistorySource[];
  now: Date;
}

/**
 * The history decision. Per keepHistory source: certificates seen at the last reconcile and gone now
 * are retired (retiredAt = now); a retired certificate back at its source is current again; retired
 * certificates past notAfter or maxAge are dropped; the newest `limit` are kept. History of sources
 * without keepHistory (removed, or opted out) is dropped at once. The first observation of a source
 * retires nothing: history only starts from what the cluster has seen.
 */
export function decideHistory(input: HistoryInput): HistoryDecision {
  const { now } = input;
  const previous = new Map<string, SourceCertHistory>();
  for (const entry of input.previous ?? []) if (!previous.has(entry.source)) previous.set(entry.source, entry);

  const decision: HistoryDecision = { history: [], include: [], retired: [], dropped: [], keptCount: 0 };
  for (const current of mergeBySource(input.sources)) {
    const outcome = decideSource(current, previous.get(current.source), now);
    previous.delete(current.source);
    decision.history.push(outcome.entry);
    decision.include.push(...outcome.include);
    decision.retired.push(...outcome.retired);
    decision.dropped.push(...outcome.dropped);
    decision.keptCount += outcome.include.length;
    if (outcome.nextDropAt !== undefined && (decision.nextDropAt === undefined || outcome.nextDropAt < decision.nextDropAt)) {
      decision.nextDropAt = outcome.nextDropAt;
    }
  }
  // Sources no longer kept (keepHistory removed, or the source itself removed): history goes at once.
  for (const [source, entry] of previous) {
    for (const record of entry.retired ?? []) decision.dropped.push({ source, certificate: record, reason: 'HistoryOff' });
  }
  decision.history.sort((a, b) => compareStrings(a.source, b.source));
  return decision;
}

/** A previous certificate of one source, and whether it left the source in this decision. */
interface Candidate {
  certificate: Certificate;
  retiredAt: Date;
  isNew: boolean;
}

interface SourceOutcome {
  entry: SourceCertHistory;
  include: Certificate[];
  retired: HistoryChange[];
  dropped: Array<HistoryChange & { reason: DropReason }>;
  nextDropAt?: Date;
}

function decideSource(current: HistorySource, before: SourceCertHistory | undefined, now: Date): SourceOutcome {
  const { source } = current;
  const limit = historyLimit(current.keepHistory);
  const maxAgeMs = historyMaxAgeMs(current.keepHistory);
  const { candidates, invalid } = candidatesOf(before, current.certificates, now);
  const outcome: SourceOutcome = {
    entry: { source, seen: uniqueByFingerprint(current.certificates).map(certificateRecord) },
    include: [],
    retired: [],
    dropped: invalid.map((record) => ({ source, certificate: record, reason: 'Invalid' as const })),
  };
  const kept: RetiredCertificate[] = [];
  for (const { certificate, retiredAt, isNew } of candidates.sort(byRecency(candidates))) {
    const record = retiredRecord(certificate, retiredAt);
    const ageDeadline = maxAgeMs === undefined ? undefined : retiredAt.getTime() + maxAgeMs;
    const reason: DropReason | undefined =
      now.getTime() > certificate.notAfter.getTime()
        ? 'Expired'
        : ageDeadline !== undefined && now.getTime() >= ageDeadline
          ? 'MaxAge'
          : kept.length >= limit
            ? 'Limit'
            : undefined;
    if (reason !== undefined) {
      // A certificate that leaves its source already out of bounds was never history: nothing to report.
      if (!isNew) outcome.dropped.push({ source, certificate: record, reason });
      continue;
    }
    kept.push(record);
    outcome.include.push(certificate);
    if (isNew) outcome.retired.push({ source, certificate: record });
    // Valid through notAfter inclusive: drop just after it.
    const dropAt = new Date(Math.min(certificate.notAfter.getTime() + 1000, ageDeadline ?? Number.POSITIVE_INFINITY));
    if (outcome.nextDropAt === undefined || dropAt < outcome.nextDropAt) outcome.nextDropAt = dropAt;
  }
  if (kept.length > 0) outcome.entry.retired = kept;
  return outcome;
}

/**
 * What was retired before (re-read from its PEM; unreadable entries are `invalid`) plus what was seen
 * before and is gone now. Certificates at the source now are not history.
 */
function candidatesOf(before: SourceCertHistory | undefined, current: readonly Certificate[], now: Date): { candidates: Candidate[]; invalid: RetiredCertificate[] } {
  // Status times have second precision; deciding with the same precision keeps a restart exact.
  const retiredNow = new Date(Math.floor(now.getTime() / 1000) * 1000);
  const skip = new Set(current.map((certificate) => certificate.fingerprint));
  const candidates: Candidate[] = [];
  const invalid: RetiredCertificate[] = [];
  for (const record of before?.retired ?? []) {
    const certificate = parseRecord(record);
    const retiredAt = parseTime(record.retiredAt);
    if (certificate === undefined || retiredAt === undefined) invalid.push(record);
    else if (!skip.has(certificate.fingerprint)) {
      skip.add(certificate.fingerprint);
      candidates.push({ certificate, retiredAt, isNew: false });
    }
  }
  for (const record of before?.seen ?? []) {
    const certificate = parseRecord(record);
    if (certificate === undefined || skip.has(certificate.fingerprint)) continue;
    skip.add(certificate.fingerprint);
    candidates.push({ certificate, retiredAt: retiredNow, isNew: true });
  }
  return { candidates, invalid };
}

/**
 * Newest retirement first. Status times have second precision, so within one second a retirement
 * decided now is newer than any recorded one, and recorded ones keep their recorded order; among
 * certificates leaving together, the one that lives longer comes first.
 */
function byRecency(candidates: readonly Candidate[]): (a: Candidate, b: Candidate) => number {
  const order = new Map(candidates.map((candidate, index) => [candidate, index]));
  return (a, b) =>
    b.retiredAt.getTime() - a.retiredAt.getTime() ||
    Number(b.isNew) - Number(a.isNew) ||
    (a.isNew ? b.certificate.notAfter.getTime() - a.certificate.notAfter.getTime() || compareStrings(a.certificate.fingerprint, b.certificate.fingerprint) : 0) ||
    (order.get(a) ?? 0) - (order.get(b) ?? 0);
}

/** The Events a decision reports on the Bundle: one per certificate retired or dropped. */
export function historyEvents(decision: HistoryDecision): EventSpec[] {
  return [
    ...decision.retired.map(({ source, certificate }) =>
      historyEvent(
        'CertificateRetired',
        `Certificate ${certificate.subject} (SHA-256 ${certificate.fingerprint}) is no longer in ${source}; it stays in the bundle until it expires at ${certificate.notAfter} or the source's keepHistory limit or maxAge is reached`,
      ),
    ),
    ...decision.dropped.map(({ source, certificate, reason }) =>
      historyEvent(
        'CertificateHistoryDropped',
        `Previous certificate ${certificate.subject} (SHA-256 ${certificate.fingerprint}) of ${source} was dropped from the bundle: ${DROP_EXPLANATIONS[reason]}`,
      ),
    ),
  ];
}

const DROP_EXPLANATIONS: Record<DropReason, string> = {
  Expired: 'it expired',
  MaxAge: "it reached the source's keepHistory maxAge",
  Limit: "the source's keepHistory limit was reached",
  HistoryOff: 'the source no longer has keepHistory',
  Invalid: 'its status.certHistory entry is not a valid certificate',
};

function historyEvent(reason: string, note: string): EventSpec {
  return { type: 'Normal', reason, action: 'KeepHistory', note };
}

/** The bundle build with the kept previous certificates added, through the same filters as the sources. */
export function withHistoryCertificates(
  build: { pem: string; certificates: Certificate[] },
  include: readonly Certificate[],
  options: Pick<ReconcileOptions, 'filterExpiredCertificates' | 'filterNonCACerts'>,
  now: Date,
): { pem: string; certificates: Certificate[] } {
  if (include.length === 0) return build;
  const pool = new CertPool({ filterExpired: options.filterExpiredCertificates, filterNonCA: options.filterNonCACerts, now });
  for (const certificate of build.certificates) pool.addCertificate(certificate);
  for (const certificate of include) pool.addPem(certificatePem(certificate));
  if (pool.size === build.certificates.length) return build;
  return { pem: pool.toPem(), certificates: pool.certificates() };
}

/** How a configMap/secret source is named in status.certHistory, e.g. `Secret trust-manager/root-ca, key ca.crt`. */
export function sourceKey(kind: 'ConfigMap' | 'Secret', namespace: string, ref: SourceObjectKeySelector): string {
  const object =
    ref.name !== undefined && ref.name !== ''
      ? `${kind} ${namespace}/${ref.name}`
      : `${kind} ${namespace} selected by {${ref.selector !== undefined ? formatLabelSelector(ref.selector) : ''}}`;
  const keys = ref.key !== undefined && ref.key !== '' ? `key ${ref.key}` : 'all keys';
  return `${object}, ${keys}`;
}

export function historyLimit(keepHistory: KeepHistory): number {
  const limit = keepHistory.limit;
  return limit !== undefined && Number.isInteger(limit) && limit >= 1 ? limit : DEFAULT_HISTORY_LIMIT;
}

/** maxAge in ms; an absent or invalid value (the webhook refuses those) means no age limit. */
export function historyMaxAgeMs(keepHistory: KeepHistory): number | undefined {
  if (keepHistory.maxAge === undefined) return undefined;
  try {
    const ms = parseGoDuration(keepHistory.maxAge);
    return ms > 0 ? ms : undefined;
  } catch {
    return undefined;
  }
}

/** Two sources with the same key (listed twice) are one source: their certificates, the first one's limits. */
function mergeBySource(sources: readonly HistorySource[]): HistorySource[] {
  const merged = new Map<string, HistorySource>();
  for (const source of sources) {
    const existing = merged.get(source.source);
    if (existing === undefined) merged.set(source.source, source);
    else merged.set(source.source, { ...existing, certificates: [...existing.certificates, ...source.certificates] });
  }
  return [...merged.values()];
}

/** The certificate a status record holds, taken from its PEM alone (the other fields are for people). */
function parseRecord(record: CertificateRecord): Certificate | undefined {
  try {
    const [certificate, ...rest] = parsePemCertificates(record.pem);
    return rest.length === 0 ? certificate : undefined;
  } catch {
    return undefined;
  }
}

function parseTime(text: string | undefined): Date | undefined {
  if (text === undefined) return undefined;
  const time = new Date(text);
  return Number.isNaN(time.getTime()) ? undefined : time;
}

function certificateRecord(certificate: Certificate): CertificateRecord {
  return { fingerprint: certificate.fingerprint, subject: certificate.subject, notAfter: rfc3339(certificate.notAfter), pem: certificatePem(certificate) };
}

function retiredRecord(certificate: Certificate, retiredAt: Date): RetiredCertificate {
  const { pem, ...rest } = certificateRecord(certificate);
  return { ...rest, retiredAt: rfc3339(retiredAt), pem };
}

function uniqueByFingerprint(certificates: readonly Certificate[]): Certificate[] {
  const unique = new Map(certificates.map((certificate) => [certificate.fingerprint, certificate]));
  return [...unique.values()].sort((a, b) => compareStrings(a.fingerprint, b.fingerprint));
}

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
