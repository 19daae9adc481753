// The target hash annotation (upstream 4.6, TrustBundleHash): what decides whether a target is rewritten.

import { createHash } from 'node:crypto';

export interface TargetHashParts {
  jksPassword?: string;
  pkcs12Password?: string;
  pkcs12Profile?: string;
  /** This target kind's template annotations. */
  annotations?: Record<string, string>;
  /** This target kind's template labels. */
  labels?: Record<string, string>;
}

/** Go sort.Strings order: byte order of the UTF-8 encoding. */
function compareUtf8(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

function updateSorted(hash: ReturnType<typeof createHash>, map: Record<string, string> | undefined): void {
  if (map === undefined) return;
  for (const key of Object.keys(map).sort(compareUtf8)) {
    hash.update(key, 'utf8');
    hash.update(map[key]!, 'utf8');
  }
}

/** Lower-hex SHA-256 of PEM ‖ jks password ‖ pkcs12 password ‖ pkcs12 profile ‖ annotations ‖ labels. */
export function targetHash(pem: string, parts: TargetHashParts): string {
  const hash = createHash('sha256');
  hash.update(pem, 'utf8');
  hash.update(parts.jksPassword ?? '', 'utf8');
  hash.update(parts.pkcs12Password ?? '', 'utf8');
  hash.update(parts.pkcs12Profile ?? '', 'utf8');
  updateSorted(hash, parts.annotations);
  updateSorted(hash, parts.labels);
  return hash.digest('hex');
}
