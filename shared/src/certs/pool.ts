// The certificate pool of a bundle build (upstream pkg/util/cert_pool.go): strict PEM acceptance
// (scan.ts), optional expiry / non-CA filters, dedup by SHA-256 of DER, canonical output order.

import type { Certificate } from './certificate.ts';
import { PemError } from './errors.ts';
import { encodeCertificatePem } from './pem.ts';
import { parsePemCertificates } from './scan.ts';
import { compareStrings } from '../text/compare.ts';

export interface PoolOptions {
  /** Drop certificates with now > notAfter (--filter-expired-certificates). */
  filterExpired?: boolean;
  /** Drop certificates whose basicConstraints CA flag is not true (--filter-non-ca-certs). */
  filterNonCA?: boolean;
  /** Clock for the expiry filter; defaults to the time of each addPem call. */
  now?: Date;
  /** Told about certificates skipped for compatibility (EC-ACC); never given certificate bytes. */
  onSkip?: (message: string) => void;
}

/** PEM text of one certificate, memoized per (cached, immutable) Certificate object. */
const pemOf = new WeakMap<Certificate, string>();

export function certificatePem(cert: Certificate): string {
  let pem = pemOf.get(cert);
  if (pem === undefined) {
    pem = encodeCertificatePem(cert.der);
    pemOf.set(cert, pem);
  }
  return pem;
}

/** What the status and the metrics say about a bundle's certificates. */
export interface CertificateSummary {
  count: number;
  /** The earliest notAfter; undefined when there are no certificates. */
  earliestNotAfter?: Date;
}

export function summarizeCertificates(certificates: readonly Certificate[]): CertificateSummary {
  let earliest: Date | undefined;
  for (const cert of certificates) {
    if (earliest === undefined || cert.notAfter.getTime() < earliest.getTime()) earliest = cert.notAfter;
  }
  return { count: certificates.length, ...(earliest !== undefined ? { earliestNotAfter: new Date(earliest.getTime()) } : {}) };
}

export class CertPool {
  private readonly options: PoolOptions;
  private readonly byFingerprint = new Map<string, Certificate>();
  private sorted: Certificate[] | undefined;
  private pem: string | undefined;

  constructor(options: PoolOptions = {}) {
    this.options = options;
  }

  /** Adds every certificate of `data`. All-or-nothing: on PemError nothing from this call is added. */
  addPem(data: string | Uint8Array | null | undefined): void {
    if (data === null || data === undefined) throw PemError.nilData();
    const parsed = parsePemCertificates(data, this.options.onSkip);
    const now = this.options.now ?? new Date();
    for (const cert of parsed) {
      if (this.options.filterExpired && now.getTime() > cert.notAfter.getTime()) continue;
      if (this.options.filterNonCA && !cert.isCA) continue;
      this.addCertificate(cert);
    }
  }

  /** Adds an already parsed certificate (no filters: the caller decided). */
  addCertificate(cert: Certificate): void {
    if (this.byFingerprint.has(cert.fingerprint)) return;
    this.byFingerprint.set(cert.fingerprint, cert);
    this.sorted = undefined;
    this.pem = undefined;
  }

  get size(): number {
    return this.byFingerprint.size;
  }

  /** Sorted ascending by SHA-256 of DER; lower-hex strings of equal length sort in byte order. */
  certificates(): Certificate[] {
    this.sorted ??= [...this.byFingerprint.values()].sort((a, b) => compareStrings(a.fingerprint, b.fingerprint));
    return [...this.sorted];
  }

  /** Upstream 4.5: canonical blocks in pool order, one \n between blocks, no trailing newline. */
  toPem(): string {
    this.pem ??= this.certificates().map(certificatePem).join('').trimEnd();
    return this.pem;
  }
}
