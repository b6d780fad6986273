import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { readResultFile, readRunFile, readStreamFile } from './files.js';
import { join, resolve } from 'node:path';
import { ConfigError, VipdrillError } from '../errors.js';
import { analyse, type EvidenceLine } from '../analysis/analyse.js';
import type { HostEvent, RunEvent, StreamLine } from '../run/events.js';
import type { ScenarioResult, SuiteResult } from '../run/result.js';
import { SAFE_NAME } from '../util/paths.js';

/** A run as reports see it: run.json and every `<scenario>/repeat-<k>/result.json`, from the JSON alone. */
export interface RunData {
  dir: string;
  run: Omit<SuiteResult, 'results'>;
  results: ScenarioResult[];
  /** per repeat, where its result came from: computed again from its events.jsonl, or read from result.json (a stream without evidence) */
  sources?: { file: string; from: 'events.jsonl' | 'result.json'; recordedVerdict?: string }[];
  /** write each repeat computed again from its stream over its result.json (`report --rewrite-results`) */
  rewriteResults?: boolean;
}

export function loadRun(dirArg: string): RunData {
  const dir = resolve(dirArg);
  const runFile = join(dir, 'run.json');
  if (!existsSync(runFile)) throw new VipdrillError('CONFIG_INVALID', `${dirArg} is not a vipdrill run directory: it has no run.json (expected reports/<run id>/ as written by vipdrill run)`);
  const run = readRunFile(runFile);
  const results: ScenarioResult[] = [];
  const sources: RunData['sources'] = [];
  for (const name of readdirSync(dir).sort()) {
    const sdir = join(dir, name);
    if (!statSync(sdir).isDirectory()) continue;
    for (const rep of readdirSync(sdir).filter((n) => /^repeat-\d+$/.test(n))) {
      const stream = join(sdir, rep, 'events.jsonl');
      const rebuilt = existsSync(stream) ? rebuildFromStream(readStreamFile(stream), stream) : undefined;
      if (rebuilt) {
        results.push(rebuilt);
        const f = join(sdir, rep, 'result.json');
        const recorded = existsSync(f) ? readVerdict(f) : undefined;
        sources.push({ file: stream, from: 'events.jsonl', ...(recorded ? { recordedVerdict: recorded } : {}) });
        continue;
      }
      const f = join(sdir, rep, 'result.json');
      if (existsSync(f)) {
        results.push(readResultFile(f));
        sources.push({ file: f, from: 'result.json' });
      }
    }
  }
  // a scenario's name is a folder of the run: one that is not a safe name is a corrupted (or hostile) file
  results.forEach((r, k) => {
    if (typeof r.scenario !== 'string' || !SAFE_NAME.test(r.scenario)) throw new VipdrillError('CONFIG_INVALID', `${sources[k]!.file}: scenario: expected a name of at most 64 characters of [a-z0-9._-], got ${JSON.stringify(String(r.scenario)).slice(0, 80)}`);
  });
  // the order they ran in
  const order = results.map((_, k) => k).sort((a, b) => results[a]!.startedAt.localeCompare(results[b]!.startedAt) || results[a]!.repeat - results[b]!.repeat);
  return { dir, run: { ...run, labs: run.labs ?? [], labErrors: run.labErrors ?? [] }, results: order.map((k) => results[k]!), sources: order.map((k) => sources[k]!) };
}

function readVerdict(file: string): string | undefined {
  try {
    const v = (JSON.parse(readFileSync(file, 'utf8')) as { verdict?: unknown }).verdict;
    return typeof v === 'string' ? v : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A repeat's result computed again from its event stream: the runner's events (without the phases and
 * the verdict, which analysis adds), the hosts' events and the evidence line, through the same analysis
 * the runner ran. Undefined for a stream without an evidence line (a repeat that ended before its
 * analysis, or one written by an older vipdrill).
 */
export function rebuildFromStream(text: string, file = 'events.jsonl'): ScenarioResult | undefined {
  const runner: RunEvent[] = [];
  const host: HostEvent[] = [];
  let evidence: EvidenceLine | undefined;
  for (const [k, line] of text.split('\n').entries()) {
    if (!line.trim()) continue;
    let x: StreamLine;
    try {
      x = JSON.parse(line) as StreamLine;
    } catch (e) {
      throw new ConfigError([{ file: `${file}:${k + 1}`, path: '', message: `not a JSON line (${(e as Error).message})` }]);
    }
    if (x === null || typeof x !== 'object' || !('source' in x)) throw new ConfigError([{ file: `${file}:${k + 1}`, path: '', message: 'expected an event: an object with a source (runner, host or evidence)' }]);
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
  if (typeof evidence.result?.scenario !== 'string' || !SAFE_NAME.test(evidence.result.scenario) || !evidence.scenario?.expect || !evidence.lab?.topology || !evidence.evidence) {
    throw new ConfigError([{ file, path: 'evidence', message: 'a corrupted evidence line: expected its scenario, lab, result and evidence' }]);
  }
  let r: ScenarioResult;
  try {
    r = analyse({ scenario: evidence.scenario, lab: evidence.lab, result: { ...evidence.result, events: runner }, hostEvents: host, evidence: evidence.evidence });
  } catch (e) {
    throw new ConfigError([{ file, path: 'evidence', message: `the evidence line could not be analysed (a corrupted stream?): ${e instanceof Error ? e.message : String(e)}` }]);
  }
  r.evidence = evidence;
  return r;
}
