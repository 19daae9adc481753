// Lease-based leader election (coordination.k8s.io/v1), following client-go's leaderelection:
// - A candidate takes the Lease when it is absent, released (no holder), or has not changed for a
//   whole lease duration *as observed on our own clock* (no trust in other machines' clocks).
// - The leader renews every retry period; if it cannot renew within the renew deadline it stops
//   leading (the caller then exits, as controller-runtime does), so two leaders never overlap for
//   longer than lease duration - renew deadline.
// - On shutdown the owner calls release() once its in-flight work is done: the Lease gets an empty
//   holder so a successor starts at once instead of waiting out the lease duration.
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { LEADER_ELECTION_LEASE_NAME } from '@trust-manager/shared/api/constants.ts';
import { errorMessage } from '@trust-manager/shared/text/error-message.ts';
import { sleep } from '@trust-manager/shared/kube/backoff.ts';
import { isAlreadyExists, isConflict, isNotFound, type KubeClient } from '@trust-manager/shared/kube/client.ts';
import { microTime } from './events.ts';
import { apiVersionOf, LEASES, resourcePath } from '@trust-manager/shared/kube/resource.ts';

export interface LeaseSpec {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  acquireTime?: string;
  renewTime?: string;
  leaseTransitions?: number;
}

export interface Lease {
  apiVersion?: string;
  kind?: string;
  metadata: { name: string; namespace?: string; resourceVersion?: string };
  spec?: LeaseSpec;
}

export interface LeaderElectionOptions {
  client: KubeClient;
  namespace: string;
  name?: string;
  identity: string;
  leaseDurationMs: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
  logger?: Logger;
  /** Called once leadership is acquired; `signal` aborts when it ends. */
  onStartedLeading: (signal: AbortSignal) => void;
  /** Called when leadership ends, for whatever reason (lost, or released on shutdown). */
  onStoppedLeading: () => void;
  /** Called whenever a different holder is observed. */
  onNewLeader?: (identity: string) => void;
}

/** `<hostname>_<uuid>`, like controller-runtime's default. */
export function defaultIdentity(): string {
  return `${hostname()}_${randomUUID()}`;
}

export class LeaderElector {
  readonly #opts: LeaderElectionOptions;
  readonly #name: string;
  readonly #log: Logger | undefined;
  #observed: { spec: LeaseSpec; resourceVersion: string | undefined; fingerprint: string; at: number } | undefined;
  #leading = false;
  #lastReportedLeader: string | undefined;

  constructor(options: LeaderElectionOptions) {
    if (options.renewDeadlineMs >= options.leaseDurationMs) throw new Error('leader election: renew deadline must be shorter than the lease duration');
    if (options.retryPeriodMs >= options.renewDeadlineMs) throw new Error('leader election: retry period must be shorter than the renew deadline');
    this.#opts = options;
    this.#name = options.name ?? LEADER_ELECTION_LEASE_NAME;
    this.#log = options.logger?.child({ lease: `${options.namespace}/${this.#name}` });
  }

  get isLeader(): boolean {
    return this.#leading;
  }

  get identity(): string {
    return this.#opts.identity;
  }

  /**
   * Campaigns until leading, leads until leadership is lost or `signal` aborts, then returns
   * (without releasing: see release()). Returns true if leadership was lost.
   */
  async run(signal: AbortSignal): Promise<boolean> {
    if (!(await this.#acquire(signal))) return false;
    const leading = new AbortController();
    this.#leading = true;
    this.#log?.info({ identity: this.#opts.identity }, 'acquired leadership');
    this.#opts.onStartedLeading(leading.signal);
    const lost = await this.#renewUntilLost(signal);
    this.#leading = false;
    leading.abort(new Error(lost ? 'leadership lost' : 'shutting down'));
    if (lost) this.#log?.error('leadership lost: could not renew the lease within the renew deadline');
    this.#opts.onStoppedLeading();
    return lost;
  }

  /**
   * Gives the Lease up (empty holder) if we hold it; best effort. The Lease is read afresh rather
   * than trusting the last one observed: a renew cut off by shutdown may have been written by the
   * API server without us seeing its answer, and a stale resourceVersion would only earn a 409.
   */
  async release(): Promise<void> {
    if (this.#observed?.spec.holderIdentity !== this.#opts.identity) return;
    const signal = AbortSignal.timeout(this.#opts.renewDeadlineMs);
    try {
      for (let attempt = 1; ; attempt++) {
        const lease = await this.#opts.client.json<Lease>({ path: this.#path(), signal });
        const spec = lease.spec ?? {};
        if (spec.holderIdentity !== this.#opts.identity) return;
        const now = microTime(new Date());
        try {
          await this.#put({ holderIdentity: '', leaseDurationSeconds: 1, acquireTime: now, renewTime: now, leaseTransitions: spec.leaseTransitions ?? 0 }, lease.metadata.resourceVersion, signal);
          this.#log?.info('released the lease');
          return;
        } catch (err) {
          // A conflict means the Lease changed between our read and write: read it again, once.
          if (!isConflict(err) || attempt === 2) throw err;
        }
      }
    } catch (err) {
      this.#log?.warn({ err: errorMessage(err) }, 'failed to release the lease');
    }
  }

  async #acquire(signal: AbortSignal): Promise<boolean> {
    this.#log?.info({ identity: this.#opts.identity }, 'attempting to acquire leadership');
    while (!signal.aborted) {
      if (await this.#tryAcquireOrRenew(signal)) return true;
      try {
        await sleep(this.#opts.retryPeriodMs * (1 + 0.2 * Math.random()), signal);
      } catch {
        return false;
      }
    }
    return false;
  }

  /** Returns true when renewing failed for longer than the renew deadline; false on shutdown. */
  async #renewUntilLost(signal: AbortSignal): Promise<boolean> {
    while (!signal.aborted) {
      const deadline = Date.now() + this.#opts.renewDeadlineMs;
      let renewed = false;
      while (!signal.aborted && Date.now() < deadline) {
        const attempt = AbortSignal.any([signal, AbortSignal.timeout(Math.max(1, deadline - Date.now()))]);
        if (await this.#tryAcquireOrRenew(attempt)) {
          renewed = true;
          break;
        }
        if (Date.now() + this.#opts.retryPeriodMs >= deadline) break;
        await sleep(this.#opts.retryPeriodMs, signal).catch(() => undefined);
      }
      if (signal.aborted) break;
      if (!renewed) return true;
      await sleep(this.#opts.retryPeriodMs, signal).catch(() => undefined);
    }
    return false;
  }

  async #tryAcquireOrRenew(signal: AbortSignal): Promise<boolean> {
    const now = Date.now();
    const me = this.#opts.identity;
    const leaseSeconds = Math.ceil(this.#opts.leaseDurationMs / 1000);
    try {
      let lease: Lease;
      try {
        lease = await this.#opts.client.json<Lease>({ path: this.#path(), signal });
      } catch (err) {
        if (!isNotFound(err)) throw err;
        const spec: LeaseSpec = { holderIdentity: me, leaseDurationSeconds: leaseSeconds, acquireTime: microTime(new Date(now)), renewTime: microTime(new Date(now)), leaseTransitions: 0 };
        const created = await this.#opts.client.json<Lease>({
          method: 'POST',
          path: resourcePath(LEASES, { namespace: this.#opts.namespace }),
          body: { apiVersion: apiVersionOf(LEASES), kind: 'Lease', metadata: { name: this.#name, namespace: this.#opts.namespace }, spec },
          signal,
        });
        this.#observe(created, now);
        return true;
      }

      this.#observe(lease, now);
      const observed = this.#observed;
      if (observed === undefined) return false;
      const held = observed.spec;
      const holder = held.holderIdentity ?? '';
      if (holder !== '' && holder !== me && observed.at + this.#opts.leaseDurationMs > now) return false;

      const spec: LeaseSpec = {
        holderIdentity: me,
        leaseDurationSeconds: leaseSeconds,
        acquireTime: holder === me ? held.acquireTime : microTime(new Date(now)),
        renewTime: microTime(new Date(now)),
        leaseTransitions: holder === me ? (held.leaseTransitions ?? 0) : (held.leaseTransitions ?? 0) + 1,
      };
      const updated = await this.#put(spec, lease.metadata.resourceVersion, signal);
      this.#observe(updated, now);
      return true;
    } catch (err) {
      if (!isConflict(err) && !isAlreadyExists(err) && !signal.aborted) {
        this.#log?.warn({ err: errorMessage(err) }, 'leader election: lease request failed');
      }
      return false;
    }
  }

  async #put(spec: LeaseSpec, resourceVersion: string | undefined, signal: AbortSignal): Promise<Lease> {
    return this.#opts.client.json<Lease>({
      method: 'PUT',
      path: this.#path(),
      body: {
        apiVersion: apiVersionOf(LEASES),
        kind: 'Lease',
        metadata: { name: this.#name, namespace: this.#opts.namespace, resourceVersion },
        spec,
      },
      signal,
    });
  }

  /** Remembers the Lease; its "observed at" time moves only when the record changed. */
  #observe(lease: Lease, now: number): void {
    const spec = lease.spec ?? {};
    const fingerprint = JSON.stringify([spec.holderIdentity, spec.renewTime, spec.acquireTime, spec.leaseTransitions, spec.leaseDurationSeconds]);
    if (this.#observed === undefined || this.#observed.fingerprint !== fingerprint) {
      this.#observed = { spec, resourceVersion: lease.metadata.resourceVersion, fingerprint, at: now };
    } else {
      this.#observed.resourceVersion = lease.metadata.resourceVersion;
    }
    const holder = spec.holderIdentity ?? '';
    if (holder !== '' && holder !== this.#lastReportedLeader) {
      this.#lastReportedLeader = holder;
      this.#log?.info({ leader: holder }, 'new leader observed');
      this.#opts.onNewLeader?.(holder);
    }
  }

  #path(): string {
    return resourcePath(LEASES, { namespace: this.#opts.namespace, name: this.#name });
  }
}
