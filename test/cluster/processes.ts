// Child processes of the local control plane: each in its own process group with its output in a
// log file, killed with its group on stop and (synchronously) when this process exits, so a failed
// or interrupted test run leaves nothing running.
import { spawn, type ChildProcess } from 'node:child_process';
import { openSync, closeSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

const live = new Set<ManagedProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const p of live) p.killGroup('SIGKILL');
  });
}

/** Environment for control-plane processes: no proxies, or the API server would send webhook calls to them. */
export function cleanEnvironment(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const k of ['HTTP_PROXY', 'HTTPS_PROXY', 'http_proxy', 'https_proxy', 'ALL_PROXY', 'all_proxy']) delete env[k];
  return env;
}

/**
 * The fields of the first line of `log` whose message is `message`, in our processes' text or JSON log
 * format; undefined while there is none. Our processes log the ports they listen on, so tests can start
 * them on port 0: a port picked by the test beforehand may be taken by another socket before the process
 * binds it.
 */
export function loggedFieldsIn(log: string, message: string): Record<string, unknown> | undefined {
  const textMarker = ` ${message} {`;
  const jsonMarker = `"msg":${JSON.stringify(message)}`;
  for (const line of log.split('\n')) {
    if (line.includes(textMarker)) return JSON.parse(line.slice(line.indexOf(textMarker) + textMarker.length - 1)) as Record<string, unknown>;
    if (line.startsWith('{') && line.includes(jsonMarker)) return JSON.parse(line) as Record<string, unknown>;
  }
  return undefined;
}

export class ManagedProcess {
  readonly name: string;
  readonly logPath: string;
  readonly child: ChildProcess;
  exitCode: number | null = null;
  exitSignal: NodeJS.Signals | null = null;
  readonly exited: Promise<void>;
  spawnError: Error | undefined;

  constructor(name: string, command: string, args: string[], logPath: string, env: NodeJS.ProcessEnv = cleanEnvironment()) {
    installExitHook();
    this.name = name;
    this.logPath = logPath;
    const fd = openSync(logPath, 'a');
    try {
      this.child = spawn(command, args, { stdio: ['ignore', fd, fd], detached: true, env });
    } finally {
      closeSync(fd);
    }
    live.add(this);
    this.exited = new Promise((resolve) => {
      this.child.once('error', (err) => {
        this.spawnError = err;
        live.delete(this);
        resolve();
      });
      this.child.once('exit', (code, signal) => {
        this.exitCode = code;
        this.exitSignal = signal;
        live.delete(this);
        resolve();
      });
    });
  }

  get running(): boolean {
    return live.has(this);
  }

  /** Text for errors: what happened and which log to read. */
  describeExit(): string {
    if (this.spawnError) return `${this.name} failed to start: ${this.spawnError.message} (log: ${this.logPath})`;
    const how = this.exitSignal ? `signal ${this.exitSignal}` : `code ${this.exitCode}`;
    return `${this.name} exited with ${how}; read its log: ${this.logPath}`;
  }

  /** Waits for the log line `message` and returns its fields (see loggedFieldsIn). */
  async loggedFields(message: string, timeoutMs = 60_000): Promise<Record<string, unknown>> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const fields = loggedFieldsIn(readFileSync(this.logPath, 'utf8'), message);
      if (fields) return fields;
      if (!this.running) throw new Error(this.describeExit());
      await sleep(100);
    }
    throw new Error(`${this.name} did not log "${message}" within ${timeoutMs} ms; read its log: ${this.logPath}`);
  }

  killGroup(signal: NodeJS.Signals): void {
    const pid = this.child.pid;
    if (pid === undefined || !this.running) return;
    try {
      process.kill(-pid, signal);
    } catch {
      // already gone
    }
  }

  /** SIGTERM the process group, SIGKILL it after the grace period. */
  async stop(graceMs = 10_000): Promise<void> {
    if (!this.running) return;
    this.killGroup('SIGTERM');
    const timedOut = await Promise.race([this.exited.then(() => false), sleep(graceMs).then(() => true)]);
    if (timedOut) {
      this.killGroup('SIGKILL');
      await this.exited;
    }
  }
}
