// UTCTime and GeneralizedTime exactly as Go's cryptobyte reads them for x509.ParseCertificate:
// time.Parse with a fixed layout plus a round-trip check, so only canonical spellings are accepted.

const UTC_TIME = /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})?(Z|[+-]\d{4})$/;
const GENERALIZED_TIME = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(?:\.(\d*[1-9]))?(Z|[+-]\d{4})$/;

function daysIn(month: number, year: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

function toInstant(
  year: number,
  month: number,
  day: number,
  hour: number,
  minute: number,
  second: number,
  fractionMs: number,
  zone: string,
): Date | undefined {
  if (month < 1 || month > 12 || day < 1 || day > daysIn(month, year)) return undefined;
  if (hour > 23 || minute > 59 || second > 59) return undefined;
  let offsetMinutes = 0;
  if (zone !== 'Z') {
    const hours = Number(zone.slice(1, 3));
    const minutes = Number(zone.slice(3, 5));
    // "+0000" does not survive Go's round trip (it formats as "Z").
    if (hours > 24 || minutes > 60 || (hours === 0 && minutes === 0)) return undefined;
    offsetMinutes = (zone[0] === '-' ? -1 : 1) * (hours * 60 + minutes);
  }
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  date.setUTCHours(hour, minute - offsetMinutes, second, fractionMs);
  return date;
}

/** Go ReadASN1UTCTime on the contents; undefined where Go fails. */
export function parseUtcTime(contents: Buffer): Date | undefined {
  const match = UTC_TIME.exec(contents.toString('latin1'));
  if (match === null) return undefined;
  const [, yy, mo, dd, hh, mi, ss, zone] = match;
  let year = Number(yy);
  // Go: 69-99 => 19xx, 00-68 => 20xx, then >= 2050 moved back a century (X.509's 50/50 split).
  year += year >= 69 ? 1900 : 2000;
  if (year >= 2050) year -= 100;
  return toInstant(year, Number(mo), Number(dd), Number(hh), Number(mi), Number(ss ?? '0'), 0, zone!);
}

/** Go ReadASN1GeneralizedTime on the contents; undefined where Go fails. */
export function parseGeneralizedTime(contents: Buffer): Date | undefined {
  const match = GENERALIZED_TIME.exec(contents.toString('latin1'));
  if (match === null) return undefined;
  const [, yyyy, mo, dd, hh, mi, ss, fraction, zone] = match;
  const fractionMs = fraction === undefined ? 0 : Math.floor(Number(`0.${fraction}`) * 1000);
  return toInstant(Number(yyyy), Number(mo), Number(dd), Number(hh), Number(mi), Number(ss), fractionMs, zone!);
}
