import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { errorMessage } from '../errors.js';
import type { Engine } from '../lab/engine.js';
import type { LabContext } from '../lab/lab.js';
import { labDirOf } from '../lab/state.js';
import type { FaultStep } from '../scenario/schema.js';
import { planFault } from './catalog.js';
import { container, labNow } from './lab-shell.js';

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

/** Revert every journalled fault, newest first, with the runner's own revert code; returns what was reverted and what failed. */
export async function revertJournal(engine: Engine, lab: LabContext): Promise<{ reverted: string[]; errors: string[] }> {
  const entries = readJournal(lab.record.name);
  const reverted: string[] = [];
  const errors: string[] = [];
  for (const e of [...entries].reverse()) {
    try {
      const f = planFault({ engine, lab, master: e.master, backup: e.backup, id: `vipdrill-${e.id}`, now: (h) => labNow(engine, container(lab, h)) }, e.step);
      await f.revert();
      reverted.push(`${e.id} (${f.describe})`);
    } catch (err) {
      errors.push(`revert of ${e.id} failed: ${errorMessage(err)}`);
    }
  }
  writeJournal(lab.record.name, []);
  return { reverted, errors };
}
