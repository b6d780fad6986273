import { errorMessage } from '../errors.js';
import type { JournalEntry } from '../faults/journal.js';
import type { Clock } from '../util/time.js';

interface Entry {
  revert: () => Promise<void>;
  record?: JournalEntry;
  /** aborts the timed revert of a fault with a duration */
  timer?: AbortController;
}

/**
 * The faults of a repeat that may still be in the lab, as a teardown stack. A fault's revert is
 * registered before it is injected, so a failed or interrupted inject is still undone; `healAll` reverts
 * every one left, newest first, attempts them all and collects their errors. Timed reverts run on the
 * injected clock, so unit tests do not sleep.
 */
export class FaultRegistry {
  private readonly active = new Map<string, Entry>();
  /** faults whose revert failed: they stay in the journal, for `vipdrill heal` to try again */
  private readonly failed = new Map<string, JournalEntry>();
  /** reverts that failed outside a step (timed reverts, the final heal) */
  readonly errors: string[] = [];

  /** `journal` is told the active faults after every change (the lab's faults.json, for `vipdrill heal`) */
  constructor(
    private readonly clock: Clock,
    private readonly journal: (entries: JournalEntry[]) => void = () => {},
  ) {}

  private changed(): void {
    try {
      this.journal([...this.failed.values(), ...[...this.active.values()].flatMap((e) => (e.record ? [e.record] : []))]);
    } catch (e) {
      this.errors.push(`the fault journal could not be written: ${errorMessage(e)}`);
    }
  }

  register(id: string, revert: () => Promise<void>, record?: JournalEntry): void {
    this.active.set(id, { revert, ...(record ? { record } : {}) });
    this.changed();
  }

  /** The fault is over without a revert from here (a flap that ended reverted, a lab-timed blackout). */
  forget(id: string): void {
    this.active.get(id)?.timer?.abort();
    this.active.delete(id);
    this.changed();
  }

  /** Revert `id` after `ms` on the clock, unless it was healed first. */
  revertAfter(id: string, ms: number): void {
    const e = this.active.get(id);
    if (!e) return;
    e.timer = new AbortController();
    this.clock.sleep(ms, e.timer.signal).then(
      () => {
        if (this.active.get(id) !== e) return;
        this.active.delete(id);
        e.revert().then(
          () => this.changed(),
          (err: unknown) => {
            if (e.record) this.failed.set(id, e.record);
            this.changed();
            this.errors.push(`revert of ${id} failed: ${errorMessage(err)}`);
          },
        );
      },
      () => {},
    );
  }

  /** Active fault ids, newest first. */
  ids(): string[] {
    return [...this.active.keys()].reverse();
  }

  async heal(id: string): Promise<void> {
    const e = this.active.get(id);
    if (!e) return;
    this.active.delete(id);
    e.timer?.abort();
    try {
      await e.revert();
    } catch (err) {
      if (e.record) this.failed.set(id, e.record);
      throw err;
    } finally {
      this.changed();
    }
  }

  /** Revert every fault still registered, newest first; all are attempted. Returns the ids. */
  async healAll(): Promise<string[]> {
    const ids = this.ids();
    for (const id of ids) await this.heal(id).catch((e: unknown) => this.errors.push(`final heal of ${id} failed: ${errorMessage(e)}`));
    return ids;
  }
}
