import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';

import type { KeepHistory, SourceCertHistory } from '@trust-manager/shared/api/types.ts';
import { type Certificate, parseCertificate } from '@trust-manager/shared/certs/certificate.ts';
import { certificatePem } from '@trust-manager/shared/certs/pool.ts';
import { makeCA } from '@trust-manager/shared/certs/testing/fixtures.ts';
import { type HistoryDecision, type HistorySource, decideHistory, historyEvents, historyLimit, historyMaxAgeMs, sourceKey, withHistoryCertificates } from './history.ts';

const SOURCE = 'Secret trust-manager/root-ca, key ca.crt';
const OTHER_SOURCE = 'ConfigMap trust-manager/other, key ca.crt';
const T0 = new Date('2030-01-01T00:00:00.400Z');
const T0_TEXT = '2030-01-01T00:00:00Z';

let ca1: Certificate; // expires 2030-02-01
let ca2: Certificate; // expires 2030-03-01
let ca3: Certificate; // expires 2030-04-01
let ca4: Certificate; // expires 2031-01-01
let leaf: Certificate; // not a CA
let ca5: Certificate;
let ca6: Certificate;

before(async () => {
  const make = async (cn: string, notAfter: string, isCA = true): Promise<Certificate> =>
    parseCertificate((await makeCA({ cn, notBefore: new Date('2029-01-01T00:00:00Z'), notAfter: new Date(notAfter), isCA })).der);
  [ca1, ca2, ca3, ca4, leaf, ca5, ca6] = await Promise.all([
    make('ca-1', '2030-02-01T00:00:00Z'),
    make('ca-2', '2030-03-01T00:00:00Z'),
    make('ca-3', '2030-04-01T00:00:00Z'),
    make('ca-4', '2031-01-01T00:00:00Z'),
    make('leaf', '2031-01-01T00:00:00Z', false),
    make('ca-5', '2031-01-01T00:00:00Z'),
    make('ca-6', '2031-01-01T00:00:00Z'),
  ]);
});

function source(certificates: Certificate[], keepHistory: KeepHistory = {}, key = SOURCE): HistorySource {
  return { source: key, keepHistory, certificates };
}

function decide(previous: SourceCertHistory[] | undefined, sources: HistorySource[], now: Date = T0): HistoryDecision {
  return decideHistory({ previous, sources, now });
}

function seenRecord(certificate: Certificate) {
  return {
    fingerprint: certificate.fingerprint,
    subject: certificate.subject,
    notAfter: certificate.notAfter.toISOString().replace('.000Z', 'Z'),
    pem: certificatePem(certificate),
  };
}

function retiredRecord(certificate: Certificate, retiredAt: string) {
  const { pem, ...rest } = seenRecord(certificate);
  return { ...rest, retiredAt, pem };
}

const fingerprints = (certificates: readonly Certificate[]): string[] => certificates.map((certificate) => certificate.fingerprint).sort();

/** Rotates SOURCE through `certificates`, one decision per step, `stepMs` apart, feeding each status into the next. */
function rotate(certificates: Certificate[], keepHistory: KeepHistory, stepMs = 60_000): { decisions: HistoryDecision[]; history: SourceCertHistory[] } {
  let history: SourceCertHistory[] | undefined;
  const decisions: HistoryDecision[] = [];
  certificates.forEach((certificate, step) => {
    const decision = decide(history, [source([certificate], keepHistory)], new Date(T0.getTime() + step * stepMs));
    decisions.push(decision);
    history = decision.history;
  });
  return { decisions, history: history ?? [] };
}

describe('decideHistory: first sight and steady state', () => {
  test('the first observation of a source records what it holds and retires nothing', () => {
    const decision = decide(undefined, [source([ca2, ca1])]);
    assert.deepEqual(decision.history, [{ source: SOURCE, seen: [ca1, ca2].sort((a, b) => (a.fingerprint < b.fingerprint ? -1 : 1)).map(seenRecord) }]);
    assert.deepEqual([decision.include, decision.retired, decision.dropped, decision.keptCount, decision.nextDropAt], [[], [], [], 0, undefined]);
  });

  test('no source keeps history and none did: an empty decision', () => {
    const decision = decide(undefined, []);
    assert.deepEqual(decision, { history: [], include: [], retired: [], dropped: [], keptCount: 0 });
  });

  test('an unchanged source with kept history decides exactly the same status again (restart, resync, new leader)', () => {
    const first = rotate([ca1, ca2], {}).history;
    const again = decide(first, [source([ca2])], new Date(T0.getTime() + 3_600_000));
    assert.deepEqual(again.history, first);
    assert.deepEqual([again.retired, again.dropped], [[], []]);
    assert.deepEqual(fingerprints(again.include), [ca1.fingerprint]);
  });
});

describe('decideHistory: rotation', () => {
  test('a certificate gone from its source is kept, retiredAt at second precision, with a retirement to report', () => {
    const first = decide(undefined, [source([ca1])]);
    const decision = decide(first.history, [source([ca2])], T0);
    assert.deepEqual(decision.history, [{ source: SOURCE, seen: [seenRecord(ca2)], retired: [retiredRecord(ca1, T0_TEXT)] }]);
    assert.deepEqual(fingerprints(decision.include), [ca1.fingerprint]);
    assert.deepEqual(decision.retired, [{ source: SOURCE, certificate: retiredRecord(ca1, T0_TEXT) }]);
    assert.deepEqual(decision.dropped, []);
    assert.equal(decision.keptCount, 1);
    // Valid through notAfter inclusive: the drop is due one second after it.
    assert.deepEqual(decision.nextDropAt, new Date('2030-02-01T00:00:01Z'));
  });

  test('adding a certificate to the source retires nothing; removing one of two retires only that one', () => {
    const first = decide(undefined, [source([ca1])]);
    const added = decide(first.history, [source([ca1, ca2])]);
    assert.deepEqual([added.retired, added.include], [[], []]);
    const removed = decide(added.history, [source([ca2])]);
    assert.deepEqual(removed.retired.map((change) => change.certificate.fingerprint), [ca1.fingerprint]);
  });

  test('a retired certificate that comes back to its source is current again, silently', () => {
    const { history } = rotate([ca1, ca2], {});
    const back = decide(history, [source([ca1])]);
    // ca2 left now (retired); ca1 is no longer history.
    assert.deepEqual(back.history[0]?.retired?.map((record) => record.fingerprint), [ca2.fingerprint]);
    assert.deepEqual(fingerprints(back.include), [ca2.fingerprint]);
    assert.deepEqual(back.dropped, []);
  });

  test('history is newest retirement first', () => {
    const { history } = rotate([ca4, ca1, ca2, ca3], { limit: 5 });
    assert.deepEqual(history[0]?.retired?.map((record) => record.fingerprint), [ca2.fingerprint, ca1.fingerprint, ca4.fingerprint]);
    assert.deepEqual(history[0]?.retired?.map((record) => record.retiredAt), ['2030-01-01T00:03:00Z', '2030-01-01T00:02:00Z', '2030-01-01T00:01:00Z']);
  });
});

describe('decideHistory: bounds', () => {
  test('three rotations with a limit of one keep only the newest previous certificate', () => {
    const { decisions, history } = rotate([ca1, ca2, ca3, ca4], { limit: 1 });
    assert.deepEqual(history, [{ source: SOURCE, seen: [seenRecord(ca4)], retired: [retiredRecord(ca3, '2030-01-01T00:03:00Z')] }]);
    const last = decisions.at(-1);
    assert.ok(last);
    assert.deepEqual(fingerprints(last.include), [ca3.fingerprint]);
    assert.deepEqual(last.dropped.map(({ certificate, reason }) => [certificate.fingerprint, reason]), [[ca2.fingerprint, 'Limit']]);
    assert.deepEqual(decisions.map((decision) => decision.retired.length), [0, 1, 1, 1]);
  });

  test('the default limit is 5', () => {
    // Six certificates retired in turn: the oldest retirement (ca1) goes.
    const { history, decisions } = rotate([ca1, ca2, ca3, ca4, leaf, ca5, ca6], {});
    assert.deepEqual(history[0]?.retired?.map((record) => record.fingerprint), [ca5, leaf, ca4, ca3, ca2].map((certificate) => certificate.fingerprint));
    assert.deepEqual(decisions.at(-1)?.dropped.map(({ certificate, reason }) => [certificate.fingerprint, reason]), [[ca1.fingerprint, 'Limit']]);
  });

  test('expired history is dropped on the next decision, reported as Expired', () => {
    const { history } = rotate([ca1, ca2], {});
    const atExpiry = decide(history, [source([ca2])], new Date('2030-02-01T00:00:00Z'));
    assert.equal(atExpiry.keptCount, 1, 'still valid at notAfter itself');
    const after = decide(history, [source([ca2])], new Date('2030-02-01T00:00:01Z'));
    assert.deepEqual(after.history, [{ source: SOURCE, seen: [seenRecord(ca2)] }]);
    assert.deepEqual(after.include, []);
    assert.deepEqual(after.dropped, [{ source: SOURCE, certificate: retiredRecord(ca1, '2030-01-01T00:01:00Z'), reason: 'Expired' }]);
    assert.equal(after.nextDropAt, undefined);
  });

  test('maxAge drops a certificate that long after it was retired, before it expires', () => {
    const { history, decisions } = rotate([ca4, ca3], { maxAge: '2h' });
    assert.deepEqual(decisions.at(-1)?.nextDropAt, new Date('2030-01-01T02:01:00Z'));
    const before = decide(history, [source([ca3], { maxAge: '2h' })], new Date('2030-01-01T02:00:59Z'));
    assert.equal(before.keptCount, 1);
    const after = decide(history, [source([ca3], { maxAge: '2h' })], new Date('2030-01-01T02:01:00Z'));
    assert.deepEqual(after.dropped.map((drop) => drop.reason), ['MaxAge']);
    assert.equal(after.keptCount, 0);
  });

  test('whichever bound comes first decides nextDropAt', () => {
    const { decisions } = rotate([ca1, ca2], { maxAge: '24000h' });
    assert.deepEqual(decisions.at(-1)?.nextDropAt, new Date('2030-02-01T00:00:01Z'));
  });

  test('lowering the limit applies on the next decision', () => {
    const { history } = rotate([ca1, ca2, ca3], {});
    const lowered = decide(history, [source([ca3], { limit: 1 })]);
    assert.deepEqual(lowered.history[0]?.retired?.map((record) => record.fingerprint), [ca2.fingerprint]);
    assert.deepEqual(lowered.dropped.map(({ certificate, reason }) => [certificate.fingerprint, reason]), [[ca1.fingerprint, 'Limit']]);
  });

  test('a certificate that leaves its source already expired never becomes history and is not reported', () => {
    const first = decide(undefined, [source([ca1])]);
    const decision = decide(first.history, [source([ca2])], new Date('2030-02-02T00:00:00Z'));
    assert.deepEqual([decision.retired, decision.dropped, decision.include], [[], [], []]);
    assert.deepEqual(decision.history, [{ source: SOURCE, seen: [seenRecord(ca2)] }]);
  });

  test('two certificates leaving at once with limit 1: the longer-lived one is kept, the other not reported', () => {
    const first = decide(undefined, [source([ca1, ca2], { limit: 1 })]);
    const decision = decide(first.history, [source([ca4], { limit: 1 })]);
    assert.deepEqual(decision.retired.map((change) => change.certificate.fingerprint), [ca2.fingerprint]);
    assert.deepEqual(decision.dropped, []);
  });
});

describe('decideHistory: opting out, clearing, sources', () => {
  test('a source without keepHistory any more (or removed) loses its history at once', () => {
    const { history } = rotate([ca1, ca2], {});
    const decision = decide(history, []);
    assert.deepEqual(decision.history, []);
    assert.deepEqual(decision.include, []);
    assert.deepEqual(decision.dropped.map(({ source: from, reason }) => [from, reason]), [[SOURCE, 'HistoryOff']]);
  });

  test('cleared status (field removed) starts over: nothing retired, nothing kept', () => {
    const decision = decide(undefined, [source([ca2])]);
    assert.deepEqual([decision.retired, decision.include], [[], []]);
  });

  test('sources keep separate histories, sorted by source, and the bounds are per source', () => {
    const first = decide(undefined, [source([ca1], { limit: 1 }), source([ca3], {}, OTHER_SOURCE)]);
    const second = decide(first.history, [source([ca2], { limit: 1 }), source([ca4], {}, OTHER_SOURCE)]);
    assert.deepEqual(
      second.history.map((entry) => [entry.source, entry.retired?.map((record) => record.fingerprint)]),
      [
        [OTHER_SOURCE, [ca3.fingerprint]],
        [SOURCE, [ca1.fingerprint]],
      ],
    );
    assert.equal(second.keptCount, 2);
    assert.deepEqual(second.nextDropAt, new Date('2030-02-01T00:00:01Z'));
  });

  test('the same source listed twice is one source', () => {
    const first = decide(undefined, [source([ca1]), source([ca1, ca2])]);
    assert.deepEqual(first.history[0]?.seen?.map((record) => record.fingerprint), fingerprints([ca1, ca2]));
    assert.equal(first.history.length, 1);
  });

  test('status records are re-read from their PEM: edited fields are corrected, broken entries dropped as Invalid', () => {
    const { history } = rotate([ca1, ca2], {});
    const [entry] = history;
    assert.ok(entry?.retired?.[0]);
    const edited: SourceCertHistory[] = [{ ...entry, retired: [{ ...entry.retired[0], subject: 'CN=forged', notAfter: '2099-01-01T00:00:00Z' }] }];
    const corrected = decide(edited, [source([ca2])]);
    assert.deepEqual(corrected.history, history);
    const broken: SourceCertHistory[] = [{ ...entry, retired: [{ ...entry.retired[0], pem: 'not a certificate' }, { ...entry.retired[0], retiredAt: 'yesterday' }] }];
    const dropped = decide(broken, [source([ca2])]);
    assert.deepEqual(dropped.dropped.map((drop) => drop.reason), ['Invalid', 'Invalid']);
    assert.equal(dropped.keptCount, 0);
  });
});

describe('withHistoryCertificates', () => {
  const options = { filterExpiredCertificates: false, filterNonCACerts: false };

  test('without kept certificates the build is returned as is', () => {
    const build = { pem: 'PEM', certificates: [ca2] };
    assert.equal(withHistoryCertificates(build, [], options, T0), build);
  });

  test('kept certificates join the build in pool order', () => {
    const result = withHistoryCertificates({ pem: certificatePem(ca2).trimEnd(), certificates: [ca2] }, [ca1], options, T0);
    const sorted = [ca1, ca2].sort((a, b) => (a.fingerprint < b.fingerprint ? -1 : 1));
    assert.deepEqual(fingerprints(result.certificates), fingerprints(sorted));
    assert.equal(result.pem, sorted.map(certificatePem).join('').trimEnd());
  });

  test('the --filter options apply to kept certificates as to sources', () => {
    const build = { pem: certificatePem(ca2).trimEnd(), certificates: [ca2] };
    assert.equal(withHistoryCertificates(build, [leaf], { ...options, filterNonCACerts: true }, T0), build);
    assert.equal(withHistoryCertificates(build, [ca1], { ...options, filterExpiredCertificates: true }, new Date('2030-06-01T00:00:00Z')), build);
  });
});

describe('limits and source names', () => {
  test('historyLimit and historyMaxAgeMs read the spec; invalid values mean the default / no age limit', () => {
    assert.deepEqual([historyLimit({ limit: 1 }), historyLimit({ limit: 10 }), historyLimit({ limit: 0 }), historyLimit({ limit: 1.5 })], [1, 10, 5, 5]);
    assert.deepEqual(
      [historyMaxAgeMs({}), historyMaxAgeMs({ maxAge: '1h30m' }), historyMaxAgeMs({ maxAge: '0s' }), historyMaxAgeMs({ maxAge: 'soon' })],
      [undefined, 5_400_000, undefined, undefined],
    );
  });

  test('sourceKey names kind, namespace, name or selector, and key', () => {
    assert.equal(sourceKey('Secret', 'trust-manager', { name: 'root-ca', key: 'ca.crt' }), 'Secret trust-manager/root-ca, key ca.crt');
    assert.equal(sourceKey('ConfigMap', 'cas', { selector: { matchLabels: { app: 'ca' } }, includeAllKeys: true }), 'ConfigMap cas selected by {app=ca}, all keys');
  });
});

describe('decideHistory: rotations within one second', () => {
  test('a retirement decided now outranks recorded ones of the same second, whatever the notAfter', () => {
    // ca4 lives longest but was retired first; ca1 lives shortest and is retired last, in the same second.
    const sameSecond = (ms: number): Date => new Date(T0.getTime() + ms);
    let history: SourceCertHistory[] | undefined;
    for (const [step, certificate] of [ca4, ca3, ca1, ca2].entries()) history = decide(history, [source([certificate], { limit: 1 })], sameSecond(step * 100)).history;
    assert.deepEqual(history?.[0]?.retired?.map((record) => record.fingerprint), [ca1.fingerprint]);
  });

  test('recorded retirements of the same second keep their recorded (newest first) order', () => {
    const { history } = rotate([ca4, ca3, ca1, ca2], { limit: 3 }, 100);
    assert.deepEqual(history[0]?.retired?.map((record) => record.fingerprint), [ca1, ca3, ca4].map((certificate) => certificate.fingerprint));
    const lowered = decide(history, [source([ca2], { limit: 2 })], new Date(T0.getTime() + 900));
    assert.deepEqual(lowered.history[0]?.retired?.map((record) => record.fingerprint), [ca1, ca3].map((certificate) => certificate.fingerprint));
  });
});

describe('historyEvents', () => {
  test('one Normal Event per retirement and per drop, saying what, from where, until when or why', () => {
    const { history } = rotate([ca1, ca2], {});
    const retirement = decide(decide(undefined, [source([ca1])]).history, [source([ca2])]);
    assert.deepEqual(historyEvents(retirement), [
      {
        type: 'Normal',
        reason: 'CertificateRetired',
        action: 'KeepHistory',
        note: `Certificate ${ca1.subject} (SHA-256 ${ca1.fingerprint}) is no longer in ${SOURCE}; it stays in the bundle until it expires at 2030-02-01T00:00:00Z or the source's keepHistory limit or maxAge is reached`,
      },
    ]);
    const reasons: Array<[HistoryDecision, string]> = [
      [decide(history, [source([ca2])], new Date('2030-02-02T00:00:00Z')), 'it expired'],
      [decide(history, [source([ca2], { maxAge: '1m' })], new Date('2030-01-01T00:10:00Z')), "it reached the source's keepHistory maxAge"],
      [decide(history, []), 'the source no longer has keepHistory'],
    ];
    for (const [decision, why] of reasons) {
      assert.deepEqual(historyEvents(decision), [
        {
          type: 'Normal',
          reason: 'CertificateHistoryDropped',
          action: 'KeepHistory',
          note: `Previous certificate ${ca1.subject} (SHA-256 ${ca1.fingerprint}) of ${SOURCE} was dropped from the bundle: ${why}`,
        },
      ]);
    }
    assert.deepEqual(historyEvents(decide(history, [source([ca2])])), [], 'nothing changed, nothing to say');
  });
});
