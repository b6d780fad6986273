import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { labDirOf } from '../lab/state.js';
import type { FaultStep } from '../scenario/schema.js';

/**
 * The faults a run has in a lab right now, written to the lab's state directory as they are registered
 * (before they are injected) and removed as they are reverted. `vipdrill heal` replays the reverts of
 * what a killed run left with the very code the runner uses (planFault(...).revert()), then sweeps.
 */
export interface JournalEntry {
  id: string;
  step: FaultStep;
  master: string;
  backup: string;
}

const fileOf = (lab: string) => join(labDirOf(lab), 'faults.json');

export function writeJournal(lab: string, entries: JournalEntry[]): void {
  if (!existsSync(labDirOf(lab))) return;
  if (entries.length === 0) rmSync(fileOf(lab), { force: true });
  else writeFileSync(fileOf(lab), JSON.stringify(entries, null, 2) + '\n', { mode: 0o600 });
}

export function readJournal(lab: string): JournalEntry[] {
  const f = fileOf(lab);
  if (!existsSync(f)) return [];
  try {
    const x = JSON.parse(readFileSync(f, 'utf8')) as unknown;
    return Array.isArray(x) ? (x as JournalEntry[]) : [];
  } catch {
    return [];
  }
}
