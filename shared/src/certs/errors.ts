// Errors of the certificate core. Messages are the upstream texts (upstream-compatibility.md 4.4):
// users and black-box tests match on them, so they are built here and nowhere else.

/** A PEM input that trust-manager rejects. `message` is the exact upstream text. */
export class PemError extends Error {
  override name = 'PemError';

  static nilData(): PemError {
    return new PemError("certificate data can't be nil");
  }

  static notCertificate(type: string): PemError {
    return new PemError(`invalid PEM block in bundle: only CERTIFICATE blocks are permitted but found '${type}'`);
  }

  static hasHeaders(): PemError {
    return new PemError('invalid PEM block in bundle; blocks are not permitted to have PEM headers');
  }

  /** `reason` is the Go x509 error text, e.g. `x509: malformed certificate`. */
  static invalidCertificate(reason: string): PemError {
    return new PemError(`invalid PEM block in bundle; invalid PEM certificate: ${reason}`);
  }
}

/**
 * A certificate that upstream skips instead of failing the bundle (the EC-ACC root with its negative
 * serial number, upstream 4.4). Thrown by parseCertificate, caught by the pool.
 */
export class SkippedCertificateError extends Error {
  override name = 'SkippedCertificateError';
}
