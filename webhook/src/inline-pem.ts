// Admission-time checks of an `inLine` source (upstream-compatibility.md 9): what the controller would
// fail on later (non-certificate blocks, PEM headers, undecodable DER) becomes a denial now, and
// trust-store mistakes become warnings. Texts name blocks and subjects, never certificate bytes.

import { rfc3339 } from '@trust-manager/shared/api/time.ts';
import type { Certificate } from '@trust-manager/shared/certs/certificate.ts';
import { scanPemBlocks } from '@trust-manager/shared/certs/scan.ts';

export interface InLinePemCheck {
  /** Reasons to deny, e.g. a private key. */
  problems: string[];
  /** Reasons to warn, e.g. an expired certificate. */
  warnings: string[];
  /** Certificates without the basicConstraints CA flag (a ClusterTrustBundle target leaves them out). */
  nonCACertificates: number;
}

/** kube-apiserver truncates long warning lists; a few precise lines beat a wall of text. */
export const MAX_MESSAGES_PER_SOURCE = 10;

/**
 * The verdicts are the certificate library's (scan.ts), so the webhook accepts exactly what the
 * controller accepts; this adds only where (block N), a private-key hint and the warnings.
 */
export function checkInLinePem(text: string, now: Date): InLinePemCheck {
  const problems: string[] = [];
  const warnings: string[] = [];
  let certificates = 0;
  let nonCACertificates = 0;
  for (const block of scanPemBlocks(text)) {
    const where = `block ${block.number}`;
    if (block.verdict === 'rejected') {
      const privateKey = block.type.includes('PRIVATE KEY') ? '; a private key must never be put in a Bundle' : '';
      problems.push(`${block.error.message} (${where}${privateKey})`);
    } else if (block.verdict === 'skipped') {
      certificates++;
      warnings.push(`${where}: ${block.reason}`);
    } else {
      certificates++;
      if (!block.certificate.isCA) nonCACertificates++;
      warnings.push(...certificateWarnings(block.certificate, now));
    }
  }
  if (certificates === 0 && problems.length === 0) {
    // The controller would fail with "couldn't find any valid certificates in bundle"; say it now.
    problems.push('no PEM-encoded certificate found; an inLine source must contain at least one -----BEGIN CERTIFICATE----- block');
  }
  return { problems: capped(problems, 'problems'), warnings: capped(warnings, 'certificate warnings'), nonCACertificates };
}

function certificateWarnings(certificate: Certificate, now: Date): string[] {
  const subject = JSON.stringify(certificate.subject);
  const warnings: string[] = [];
  if (now > certificate.notAfter) warnings.push(`certificate ${subject} expired at ${rfc3339(certificate.notAfter)}`);
  if (now < certificate.notBefore) warnings.push(`certificate ${subject} is not valid before ${rfc3339(certificate.notBefore)}`);
  if (!certificate.isCA) {
    warnings.push(`certificate ${subject} is not a CA certificate (basicConstraints CA is not true); it cannot anchor a chain`);
  } else if (!certificate.selfIssued) {
    warnings.push(
      `certificate ${subject} is an intermediate CA issued by ${JSON.stringify(certificate.issuer)}, not a self-signed root; trust the root instead`,
    );
  }
  return warnings;
}

function capped(messages: string[], what: string): string[] {
  if (messages.length <= MAX_MESSAGES_PER_SOURCE) return messages;
  const shown = messages.slice(0, MAX_MESSAGES_PER_SOURCE - 1);
  shown.push(`and ${messages.length - shown.length} more ${what}`);
  return shown;
}
