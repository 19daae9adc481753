// Scratch directories of test runs (certificates, kubeconfigs, logs, package copies) under the system's
// temporary directory. TM_KEEP_CLUSTER_DIR=1 keeps every one of them for reading.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const removeAtExit = new Set<string>();

/**
 * A new scratch directory, removed when this process exits with every test passed. A failed test keeps
 * it: its error may name a log in it.
 */
export function scratchDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  if (removeAtExit.size === 0) {
    process.once('exit', () => {
      // node:test sets a non-zero exit code by now when a test or hook failed.
      if (!process.exitCode) for (const d of removeAtExit) removeScratchDir(d);
    });
  }
  removeAtExit.add(dir);
  return dir;
}

/** Removes a scratch directory now. */
export function removeScratchDir(dir: string): void {
  if (process.env.TM_KEEP_CLUSTER_DIR !== '1') rmSync(dir, { recursive: true, force: true });
}
