// Test helper: a self-signed serving certificate written as <dir>/tls.crt + <dir>/tls.key.

import { KeyObject, X509Certificate } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { makeCA } from '@trust-manager/shared/certs/testing/fixtures.ts';

import { CERTIFICATE_FILE, KEY_FILE } from '../certificate-reloader.ts';

export interface ServingCertificate {
  cert: string;
  key: string;
  /** As TLSSocket.getPeerCertificate().fingerprint256 reports it. */
  fingerprint256: string;
}

export async function makeServingCertificate(cn: string): Promise<ServingCertificate> {
  const generated = await makeCA({ cn, isCA: false });
  const key = KeyObject.from(generated.keys.privateKey).export({ type: 'pkcs8', format: 'pem' }).toString();
  return { cert: generated.pem, key, fingerprint256: new X509Certificate(generated.der).fingerprint256 };
}

/** Writes the key first, then the certificate: a reader may briefly see a mismatched pair. */
export async function writeServingCertificate(dir: string, certificate: ServingCertificate): Promise<void> {
  await writeFile(join(dir, KEY_FILE), certificate.key);
  await writeFile(join(dir, CERTIFICATE_FILE), certificate.cert);
}
