import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { VipdrillError } from '../errors.js';
import { analyse, type EvidenceLine } from '../analysis/analyse.js';
import type { HostEvent, RunEvent, StreamLine } from '../run/events.js';
import type { ScenarioResult, SuiteResult } from '../run/result.js';

/** A run as reports see it: run.json and every `<scenario>/repeat-<k>/result.json`, from the JSON alone. */
export interface RunData {
  dir: string;
  run: Omit<SuiteResult, 'results'>;
  results: ScenarioResult[];
  /** per repeat, where its result came from: computed again from its events.jsonl, or read from result.json (a stream without evidence) */
  sources?: { file: string; from: 'events.jsonl' | 'result.json' }[];
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
  const sources: RunData['sources'] = [];
  for (const name of readdirSync(dir).sort()) {
    const sdir = join(dir, name);
    if (!statSync(sdir).isDirectory()) continue;
    for (const rep of readdirSync(sdir).filter((n) => /^repeat-\d+$/.test(n))) {
      const stream = join(sdir, rep, 'events.jsonl');
      const rebuilt = existsSync(stream) ? rebuildFromStream(readFileSync(stream, 'utf8')) : undefined;
      if (rebuilt) {
        results.push(rebuilt);
        sources.push({ file: stream, from: 'events.jsonl' });
        continue;
      }
      const f = join(sdir, rep, 'result.json');
      if (existsSync(f)) {
        results.push(JSON.parse(readFileSync(f, 'utf8')) as ScenarioResult);
        sources.push({ file: f, from: 'result.json' });
      }
    }
  }
  // the order they ran in
  const order = results.map((_, k) => k).sort((a, b) => results[a]!.startedAt.localeCompare(results[b]!.startedAt) || results[a]!.repeat - results[b]!.repeat);
  return { dir, run: { ...run, labs: run.labs ?? [], labErrors: run.labErrors ?? [] }, results: order.map((k) => results[k]!), sources: order.map((k) => sources[k]!) };
}

/**
 * A repeat's result computed again from its event stream: the runner's events (without the phases and
 * the verdict, which analysis adds), the hosts' events and the evidence line, through the same analysis
 * the runner ran. Undefined for a stream without an evidence line (a repeat that ended before its
 * analysis, or one written by an older vipdrill).
 */
export function rebuildFromStream(text: string): ScenarioResult | undefined {
  const runner: RunEvent[] = [];
  const host: HostEvent[] = [];
  let evidence: EvidenceLine | undefined;
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    const x = JSON.parse(line) as StreamLine;
    if (x.source === 'evidence') evidence = x;
    else if (x.source === 'host') {
      const { source: _, ...e } = x;
      host.push(e);
    } else {
      const { source: _, ...e } = x;
      if (e.kind !== 'phase' && e.kind !== 'run.end') runner.push(e);
    }
  }
  if (!evidence) return undefined;
  const r = analyse({ scenario: evidence.scenario, lab: evidence.lab, result: { ...evidence.result, events: runner }, hostEvents: host, evidence: evidence.evidence });
  r.evidence = evidence;
  return r;
}
