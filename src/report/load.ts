import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { VipdrillError } from '../errors.js';
import type { ScenarioResult } from '../run/result.js';
import type { SuiteResult } from '../run/result.js';

/** A run as reports see it: run.json and every `<scenario>/repeat-<k>/result.json`, from the JSON alone. */
export interface RunData {
  dir: string;
  run: Omit<SuiteResult, 'results'>;
  results: ScenarioResult[];
}

export function loadRun(dirArg: string): RunData {
  const dir = resolve(dirArg);
  const runFile = join(dir, 'run.json');
  if (!existsSync(runFile)) throw new VipdrillError('CONFIG_INVALID', `${dirArg} is not a vipdrill run directory: it has no run.json (expected reports/<run id>/ as written by vipdrill run)`);
  let run: Omit<SuiteResult, 'results'>;
  try {
    run = JSON.parse(readFileSync(runFile, 'utf8')) as Omit<SuiteResult, 'results'>;
  } catch (e) {
    throw new VipdrillError('CONFIG_INVALID', `${runFile}: not valid JSON (${(e as Error).message})`);
  }
  const results: ScenarioResult[] = [];
  for (const name of readdirSync(dir).sort()) {
    const sdir = join(dir, name);
    if (!statSync(sdir).isDirectory()) continue;
    for (const rep of readdirSync(sdir).filter((n) => /^repeat-\d+$/.test(n))) {
      const f = join(sdir, rep, 'result.json');
      if (existsSync(f)) results.push(JSON.parse(readFileSync(f, 'utf8')) as ScenarioResult);
    }
  }
  // the order they ran in
  results.sort((a, b) => a.startedAt.localeCompare(b.startedAt) || a.repeat - b.repeat);
  return { dir, run: { ...run, labs: run.labs ?? [], labErrors: run.labErrors ?? [] }, results };
}
