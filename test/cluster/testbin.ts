// Where the control-plane binaries are: $TM_TESTBIN_DIR, or whatever build-testbin.sh (cached) reports.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export function resolveBinDir(): string {
  const fromEnv = process.env.TM_TESTBIN_DIR;
  if (fromEnv) return fromEnv;
  const script = fileURLToPath(new URL('./build-testbin.sh', import.meta.url));
  const out = execFileSync('bash', [script], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  const dir = out.trim().split('\n').pop();
  if (!dir) throw new Error('build-testbin.sh printed no bin directory');
  process.env.TM_TESTBIN_DIR = dir;
  return dir;
}
