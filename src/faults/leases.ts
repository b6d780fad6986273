import { VipdrillError, errorMessage } from '../errors.js';
import type { Host as HostApi } from '../hosts/host.js';
import type { PlannedFault } from './types.js';

export interface LeaseOptions {
  /** how long a host waits for a renewal before it reverts by itself (ms) */
  ttlMs: number;
  /** how often the controller renews (ms): a few times per ttl */
  renewMs: number;
  /**
   * fault kinds allowed without a lease: a node-crash through the user's power commands (only the
   * controller can power a node back on; a controller that dies leaves it off)
   */
  unleased?: string[];
}

export const DEFAULT_LEASE: LeaseOptions = { ttlMs: 30_000, renewMs: 5_000 };

/**
 * The leases of one repeat's faults (real hosts): armed on every host a fault touches before it is
 * injected, renewed on a timer while the controller lives, dropped once the controller reverted the fault
 * itself. A controller that dies (even by SIGKILL) stops renewing, and each host's watchdog reverts the
 * fault when its lease lapses. Renewal failures are collected, never thrown into the run.
 */
export class LeaseKeeper implements AsyncDisposable {
  /** fault id -> the hosts and lease ids armed for it */
  private readonly armed = new Map<string, { host: string; lease: string }[]>();
  private readonly timer: NodeJS.Timeout;
  readonly errors: string[] = [];

  constructor(
    private readonly host: (name: string) => HostApi,
    readonly options: LeaseOptions = DEFAULT_LEASE,
  ) {
    this.timer = setInterval(() => void this.renew(), options.renewMs);
    this.timer.unref();
  }

  /** Arm the fault's leases; a fault with no host-side revert cannot be leased and is refused. */
  async arm(f: PlannedFault): Promise<void> {
    if (!f.leases) {
      if (this.options.unleased?.includes(f.kind)) return;
      throw new VipdrillError('FAULT_FAILED', `${f.kind} has no revert a host can run by itself, so it cannot be leased on real hosts`);
    }
    const entries: { host: string; lease: string }[] = [];
    this.armed.set(f.id, entries);
    for (const [k, l] of f.leases.entries()) {
      const lease = `${f.id}-${k}`;
      await this.host(l.host).lease('arm', { id: lease, revert: l.revert, ttlMs: this.options.ttlMs });
      entries.push({ host: l.host, lease });
    }
  }

  /** The controller reverted the fault: its leases go. */
  async drop(faultId: string): Promise<void> {
    const entries = this.armed.get(faultId) ?? [];
    this.armed.delete(faultId);
    await Promise.all(entries.map((e) => this.host(e.host).lease('drop', { id: e.lease }).catch((err: unknown) => this.errors.push(`dropping lease ${e.lease} on ${e.host}: ${errorMessage(err)}`))));
  }

  /** Renew every armed lease, one request per host. */
  async renew(): Promise<void> {
    const perHost = new Map<string, string[]>();
    for (const entries of this.armed.values()) for (const e of entries) perHost.set(e.host, [...(perHost.get(e.host) ?? []), e.lease]);
    await Promise.all(
      [...perHost].map(async ([h, ids]) => {
        try {
          const r = await this.host(h).lease('renew', { ids });
          if (r.missing.length > 0) this.errors.push(`${h}: lease ${r.missing.join(', ')} had lapsed and was reverted by the host before it was renewed`);
        } catch (e) {
          this.errors.push(`renewing leases on ${h}: ${errorMessage(e)}`);
        }
      }),
    );
  }

  get active(): number {
    return this.armed.size;
  }

  /** Stop renewing. A lease still armed (its fault's revert failed) lapses, and the host reverts it. */
  [Symbol.asyncDispose](): Promise<void> {
    clearInterval(this.timer);
    return Promise.resolve();
  }
}
