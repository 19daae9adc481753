// Which PEM blocks trust-manager accepts (upstream pkg/util/cert_pool.go and pkg/compat): the one
// place this rule lives. The controller's pool stops at the first rejected block; the webhook reports
// every block with its own wording. Both see the same verdicts, with the upstream error texts.

import { type Certificate, parseCertificate } from './certificate.ts';
import { PemError, SkippedCertificateError } from './errors.ts';
import { decodePemBlocks } from './pem.ts';

/** The verdict on one well-formed PEM block (text outside blocks and malformed blocks are ignored, as in Go). */
export type ScannedBlock = {
  /** 1-based position among the well-formed blocks of the input. */
  number: number;
  type: string;
} & (
  | { verdict: 'certificate'; certificate: Certificate }
  /** Kept out of the bundle for compatibility (the EC-ACC root); `reason` names it, never its bytes. */
  | { verdict: 'skipped'; reason: string }
  /** `error.message` is the exact upstream text. */
  | { verdict: 'rejected'; error: PemError }
);

/** Every block of one PEM input, judged in input order; lazy, so a caller may stop at the first rejection. */
export function* scanPemBlocks(data: string | Uint8Array): Generator<ScannedBlock> {
  let number = 0;
  for (const block of decodePemBlocks(data)) {
    number++;
    const { type } = block;
    if (type !== 'CERTIFICATE') {
      yield { number, type, verdict: 'rejected', error: PemError.notCertificate(type) };
    } else if (Object.keys(block.headers).length !== 0) {
      yield { number, type, verdict: 'rejected', error: PemError.hasHeaders() };
    } else {
      yield parseBlock(number, type, block.bytes);
    }
  }
}

function parseBlock(number: number, type: string, der: Buffer): ScannedBlock {
  try {
    return { number, type, verdict: 'certificate', certificate: parseCertificate(der) };
  } catch (err) {
    if (err instanceof SkippedCertificateError) return { number, type, verdict: 'skipped', reason: err.message };
    if (err instanceof PemError) return { number, type, verdict: 'rejected', error: err };
    throw err;
  }
}

/** Parses every block of one PEM input; throws the PemError of the first rejected block. */
export function parsePemCertificates(data: string | Uint8Array, onSkip?: (message: string) => void): Certificate[] {
  const certificates: Certificate[] = [];
  for (const block of scanPemBlocks(data)) {
    if (block.verdict === 'rejected') throw block.error;
    if (block.verdict === 'skipped') onSkip?.(block.reason);
    else certificates.push(block.certificate);
  }
  return certificates;
}
