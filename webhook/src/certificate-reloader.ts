// Serving certificate from <dir>/tls.crt + <dir>/tls.key, reloaded without restart: fs.watch on the
// directory (Secret volume updates swap a symlink there) plus a periodic re-read as a fallback for
// file systems where watching is unreliable. A half-written or mismatched pair is ignored until the
// files agree again; the old certificate keeps serving meanwhile.

import { X509Certificate } from 'node:crypto';
import type { FSWatcher } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createSecureContext } from 'node:tls';

import type { Logger } from 'pino';

const { watch } = process.getBuiltinModule('node:fs');

export interface KeyPair {
  cert: Buffer;
  key: Buffer;
}

export interface CertificateReloaderOptions {
  dir: string;
  logger: Logger;
  /** Called with every new consistent pair, the first one included. */
  onChange: (pair: KeyPair) => void;
  /** Fallback re-read interval. */
  pollIntervalMs?: number;
}

export const CERTIFICATE_FILE = 'tls.crt';
export const KEY_FILE = 'tls.key';

export class CertificateReloader {
  #options: CertificateReloaderOptions;
  #current: KeyPair | undefined;
  #watcher: FSWatcher | undefined;
  #timer: NodeJS.Timeout | undefined;
  #debounce: NodeJS.Timeout | undefined;
  #checking: Promise<void> | undefined;
  #checkAgain = false;
  #lastProblem = '';
  #loadedWaiters: ((pair: KeyPair) => void)[] = [];

  constructor(options: CertificateReloaderOptions) {
    this.#options = options;
  }

  get current(): KeyPair | undefined {
    return this.#current;
  }

  /** Start watching; resolves with the first consistent pair (waits while the files are missing). */
  start(): Promise<KeyPair> {
    const loaded = new Promise<KeyPair>((resolve) => this.#loadedWaiters.push(resolve));
    try {
      this.#watcher = watch(this.#options.dir, () => this.#scheduleCheck());
      this.#watcher.on('error', (error) => this.#options.logger.warn({ err: error }, 'certificate directory watch failed; relying on polling'));
    } catch (error) {
      this.#options.logger.warn({ err: error, dir: this.#options.dir }, 'cannot watch certificate directory; relying on polling');
    }
    this.#timer = setInterval(() => void this.check(), this.#options.pollIntervalMs ?? 10_000);
    this.#timer.unref();
    void this.check();
    return loaded;
  }

  close(): void {
    this.#watcher?.close();
    clearInterval(this.#timer);
    clearTimeout(this.#debounce);
  }

  /** Re-read the files now (serialised; a request during a check runs one more check after it). */
  async check(): Promise<void> {
    if (this.#checking) {
      this.#checkAgain = true;
      return this.#checking;
    }
    this.#checking = (async () => {
      do {
        this.#checkAgain = false;
        await this.#checkOnce();
      } while (this.#checkAgain);
    })().finally(() => {
      this.#checking = undefined;
    });
    return this.#checking;
  }

  #scheduleCheck(): void {
    // Writers touch both files and a symlink in quick succession: look once things settled.
    clearTimeout(this.#debounce);
    this.#debounce = setTimeout(() => void this.check(), 50);
    this.#debounce.unref();
  }

  async #checkOnce(): Promise<void> {
    const { dir, logger } = this.#options;
    let pair: KeyPair;
    try {
      pair = { cert: await readFile(join(dir, CERTIFICATE_FILE)), key: await readFile(join(dir, KEY_FILE)) };
    } catch (error) {
      this.#problem(`cannot read ${CERTIFICATE_FILE}/${KEY_FILE} in ${dir}: ${(error as Error).message}`);
      return;
    }
    if (this.#current && pair.cert.equals(this.#current.cert) && pair.key.equals(this.#current.key)) return;
    let summary: Record<string, string>;
    try {
      createSecureContext(pair); // throws on unparsable PEM or a key that doesn't match the certificate
      const leaf = new X509Certificate(pair.cert);
      summary = { subject: leaf.subject.replaceAll('\n', ','), notAfter: leaf.validTo, fingerprint: leaf.fingerprint256 };
    } catch (error) {
      this.#problem(`ignoring inconsistent certificate files in ${dir} until they agree: ${(error as Error).message}`);
      return;
    }
    const first = this.#current === undefined;
    this.#current = pair;
    this.#lastProblem = '';
    logger.info(summary, first ? 'serving certificate loaded' : 'serving certificate reloaded');
    this.#options.onChange(pair);
    for (const resolve of this.#loadedWaiters.splice(0)) resolve(pair);
  }

  /** Log a problem once, not on every poll. */
  #problem(text: string): void {
    if (text === this.#lastProblem) return;
    this.#lastProblem = text;
    this.#options.logger.warn(text);
  }
}
