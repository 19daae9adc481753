// Runs the real trust-store tools (keytool, openssl) on encoder output in a temporary directory.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface ToolResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Writes `store` to a temp file, runs `command` with `{}` replaced by its path, cleans up. */
export function runOnStore(store: Buffer, command: string, args: string[]): ToolResult {
  const dir = mkdtempSync(join(tmpdir(), 'trust-store-'));
  try {
    const file = join(dir, 'store');
    writeFileSync(file, store);
    const result = spawnSync(command, args.map((arg) => (arg === '{}' ? file : arg)), { encoding: 'utf8' });
    return { status: result.status, stdout: result.stdout, stderr: result.stderr };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function opensslHasLegacyProvider(): boolean {
  const probe = spawnSync('openssl', ['list', '-providers', '-provider', 'legacy'], { encoding: 'utf8' });
  return probe.status === 0 && /legacy/i.test(probe.stdout);
}
