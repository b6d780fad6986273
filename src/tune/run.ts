import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ConfigError, errorMessage, VipdrillError } from '../errors.js';
import { LabHosts } from '../hosts/lab-hosts.js';
import type { Engine } from '../lab/engine.js';
import { loadLabInputs, type LabContext } from '../lab/lab.js';
import { downCommand, openEngineForLab, upCommand } from '../lab/lifecycle.js';
import { newRunId, requireLab } from '../lab/state.js';
import { loadScenario, targetIssues } from '../scenario/load.js';
import { scenarioSchema, type Scenario } from '../scenario/schema.js';
import type { ScenarioResult } from '../run/result.js';
import { runScenario } from '../run/scenario.js';
import { hostInfo, markIdle, markRunning, writeResult } from '../run/suite.js';
import { consoleReporter } from '../report/console.js';
import { defaultTopologyPath, displayPath } from '../topology/load.js';
import type { Profile } from '../topology/schema.js';
import { formatMs } from '../util/time.js';
import type { Progress } from '../util/progress.js';
import { analyseTune, labelOf, windowOf, type FalseFailoverWindow, type PointData, type TuneAnalysis } from './analysis.js';
import { writeTuneReports } from './report.js';
import { loadSweep, sweepScenarioPath, type Point, type Sweep } from './sweep.js';
import { restoreProfile, switchProfile, TimersMismatchError } from './switch.js';
import { workerTopologyFile } from './workers.js';

/**
 * `vipdrill tune`: one lab, its profile switched point by point (never a new lab per point); at every
 * point each scenario × repeat, then the false-failover window; every unit stored as it completes, so a
 * killed or out-of-budget sweep resumes where it stopped. The statistics and the recommendation are
 * computed from the stored files alone (analysis.ts), the same on every resume.
 */

export interface TuneOptions {
  file?: string;
  /** continue the sweep stored in this folder */
  resume?: string;
  repeats?: number;
  workers: number;
  reportDir: string;
  /** run on this lab (already up) instead of bringing one up; its own profile is restored at the end */
  lab?: string;
  topology?: string;
  engine: 'auto' | 'local' | 'vm';
  labName: string;
  seed?: number;
  progress: Progress;
  signal?: AbortSignal;
}

/** What `tune-run.json` keeps: enough to resume, and the one seed every interval is drawn from. */
export interface TuneRun {
  schema: 'vipdrill.tune-run/1';
  runId: string;
  sweepFile: string;
  repeats: number;
  seed: number;
  topology: string;
  /** time spent over every session of the sweep (ms), against its budget */
  spentMs: number;
  startedAt: string;
  sessions: { startedAt: string; endedAt?: string; stopped?: string }[];
}

export interface TuneResult {
  dir: string;
  run: TuneRun;
  analysis: TuneAnalysis;
  complete: boolean;
  /** why the sweep stopped before its end (budget, interrupt, an error) */
  stopped?: string;
  exitCode: 0 | 1 | 2;
}

export const pointKey = (i: number): string => `p${String(i + 1).padStart(2, '0')}`;

const FF = 'false-failover';
/** Tries of a point's false-failover window in one session, while it cannot be judged. */
const FF_ATTEMPTS = 2;

/** The false-failover window as a scenario: only load and impairment, for the calm time; nothing may move. */
export function falseFailoverScenario(sweep: Sweep): Scenario {
  const ff = sweep.falseFailover;
  const degrade = ff.degrade.loss > 0 || ff.degrade.delay > 0;
  const what = [ff.load.cpu > 0 ? `${ff.load.cpu} busy loop(s) on the LAN host` : '', degrade ? `${ff.degrade.loss} % loss and ${ff.degrade.delay} ms delay on the master's WAN` : ''].filter(Boolean).join(', ') || 'nothing applied';
  const raw = {
    name: FF,
    description: `False-failover window: ${formatMs(ff.calm)} with ${what}; no VRRP transition and no client outage of 1 s or more may happen.`,
    steps: [
      ...(ff.load.cpu > 0 ? [{ fault: 'cpu-load', id: 'load', target: 'lanhost', cpus: ff.load.cpu, for: `${ff.calm}ms` }] : []),
      ...(degrade ? [{ fault: 'degrade', id: 'wan', target: 'master', iface: 'wan', loss: ff.degrade.loss, delay: `${ff.degrade.delay}ms`, for: `${ff.calm}ms` }] : []),
      { sleep: `${ff.calm}ms` },
    ],
    expect: { vipMoved: false, splitBrain: 'none' },
  };
  return { ...scenarioSchema.parse(raw), file: '(vipdrill tune: the false-failover window)' };
}

function readJson<T>(file: string): T | undefined {
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as T) : undefined;
}

/** The repeats stored for one scenario at one point, in repeat order. */
function storedRepeats(dir: string): ScenarioResult[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((d) => /^repeat-\d+$/.test(d) && existsSync(join(dir, d, 'result.json')))
    .map((d) => JSON.parse(readFileSync(join(dir, d, 'result.json'), 'utf8')) as ScenarioResult)
    .sort((a, b) => a.repeat - b.repeat);
}

/**
 * Everything stored for a sweep so far, point by point (what the analysis reads). `folders` are the
 * scenarios' folder names in the sweep's order (their files are read once, by the caller).
 */
export function storedData(dir: string, sweep: Sweep, points: Point[], folders: string[] = sweep.scenarios.map((s) => loadScenario(sweepScenarioPath(s)).name)): PointData[] {
  return points.map((p, i) => {
    const pdir = join(dir, 'points', pointKey(i));
    const repeats: Record<string, ScenarioResult[]> = {};
    sweep.scenarios.forEach((s, k) => (repeats[s] = storedRepeats(join(pdir, folders[k]!))));
    const ff = readJson<FalseFailoverWindow>(join(pdir, FF, 'window.json'));
    const sw = readJson<{ ms: number }>(join(pdir, 'switch.json'));
    return { point: { ...p, id: pointKey(i) }, repeats, ...(ff ? { falseFailover: ff } : {}), ...(sw ? { switchMs: sw.ms } : {}) };
  });
}

function openRun(o: TuneOptions): { dir: string; run: TuneRun; sweep: Sweep; points: Point[] } {
  if (o.resume) {
    const dir = resolve(o.resume);
    const run = readJson<TuneRun>(join(dir, 'tune-run.json'));
    if (!run || run.schema !== 'vipdrill.tune-run/1') throw new VipdrillError('CONFIG_INVALID', `${displayPath(dir)} is not a tune run folder (no tune-run.json of schema vipdrill.tune-run/1)`);
    const { sweep, points } = loadSweep(run.sweepFile);
    const stored = readFileSync(join(dir, 'sweep.yaml'), 'utf8');
    if (readFileSync(run.sweepFile, 'utf8') !== stored) throw new VipdrillError('CONFIG_INVALID', `${displayPath(run.sweepFile)} changed since this sweep began (its copy is ${displayPath(join(dir, 'sweep.yaml'))}): resume with the same file, or start a new sweep`);
    if (o.repeats !== undefined && o.repeats !== run.repeats) run.repeats = o.repeats;
    return { dir, run, sweep, points };
  }
  if (!o.file) throw new VipdrillError('CONFIG_INVALID', 'tune needs a sweep file, or --resume <run folder>');
  const file = resolve(o.file);
  const { sweep, points } = loadSweep(file);
  const topology = resolve(o.topology ?? defaultTopologyPath());
  const runId = `tune-${newRunId()}`;
  const dir = resolve(o.reportDir, runId);
  mkdirSync(dir, { recursive: true });
  copyFileSync(file, join(dir, 'sweep.yaml'));
  const latest = resolve(o.reportDir, 'latest-tune');
  rmSync(latest, { force: true });
  symlinkSync(runId, latest);
  const seed = o.seed ?? Math.floor(Math.random() * 2 ** 31);
  const run: TuneRun = { schema: 'vipdrill.tune-run/1', runId, sweepFile: file, repeats: o.repeats ?? sweep.repeats, seed, topology, spentMs: 0, startedAt: new Date().toISOString(), sessions: [] };
  return { dir, run, sweep, points };
}

/** An incomplete sweep recommends nothing: the point it would pick is named as the leader so far, and no profile is written. */
export function withheldUnlessComplete(a: TuneAnalysis, complete: boolean): TuneAnalysis {
  if (complete || !a.recommendation.point) return a;
  return { ...a, recommendation: { point: null, reason: `the sweep is incomplete, so nothing is recommended yet; the leader so far is ${a.recommendation.point} (${a.recommendation.reason}). Resume it to finish.` } };
}

/**
 * Runs a false-failover window until it can be judged, up to `attempts` tries in all: a window that could
 * not be (a starved lab, a host that did not answer) is run again at once, since a busy moment passes and
 * the sweep need not stop for it. `once` returns undefined when the sweep must stop (budget, Ctrl-C).
 */
export async function untilJudged<W extends { verdict: string }>(attempts: number, once: (attempt: number) => Promise<W | undefined>): Promise<W | undefined> {
  let w: W | undefined;
  for (let attempt = 1; attempt <= attempts; attempt++) {
    w = await once(attempt);
    if (w === undefined || w.verdict !== 'error') return w;
  }
  return w;
}

/** The point's false-failover window is stored and was judged (one that could not be, a starved lab, runs again on resume). */
function windowJudged(dir: string, i: number): boolean {
  const w = readJson<FalseFailoverWindow>(join(dir, 'points', pointKey(i), FF, 'window.json'));
  return w !== undefined && w.verdict !== 'error';
}

/** Units still to do at a point: scenario repeats not stored, and the false-failover window. */
function todo(dir: string, i: number, scenarios: Scenario[], repeats: number): { scenario: Scenario; repeat: number }[] {
  const pdir = join(dir, 'points', pointKey(i));
  const out: { scenario: Scenario; repeat: number }[] = [];
  for (const sc of scenarios) {
    const done = new Set(storedRepeats(join(pdir, sc.name)).map((r) => r.repeat));
    for (let k = 1; k <= repeats; k++) if (!done.has(k)) out.push({ scenario: sc, repeat: k });
  }
  return out;
}

export async function tuneCommand(o: TuneOptions): Promise<TuneResult> {
  const { dir, run, sweep, points } = openRun(o);
  const scenarios = sweep.scenarios.map((s) => loadScenario(sweepScenarioPath(s)));
  const ffScenario = falseFailoverScenario(sweep);
  const session: TuneRun['sessions'][number] = { startedAt: new Date().toISOString() };
  run.sessions.push(session);
  const save = () => writeFileSync(join(dir, 'tune-run.json'), JSON.stringify(run, null, 2) + '\n');
  save();
  const progress = o.progress;
  // the runner's events as they happen, as `vipdrill run` prints them
  const live = consoleReporter(progress);
  const onEvent: NonNullable<typeof live.onEvent> = (e, at) => live.onEvent?.(e, at);
  progress.step(`tune ${sweep.name}: ${points.length} point(s) × ${scenarios.length} scenario(s) × ${run.repeats} repeat(s), and a ${formatMs(sweep.falseFailover.calm)} false-failover window per point; seed ${run.seed}; stored in ${displayPath(dir)}`);
  const t0 = performance.now();
  const spent0 = run.spentMs;
  const spent = () => spent0 + (performance.now() - t0);
  let stopped: string | undefined;
  const unitTimes: number[] = [];

  const remaining = () => points.reduce((n, _, i) => n + todo(dir, i, scenarios, run.repeats).length + (windowJudged(dir, i) ? 0 : 1), 0);
  const report = () => {
    const analysis = withheldUnlessComplete(analyseTune(sweep, storedData(dir, sweep, points, scenarios.map((x) => x.name)), run.seed), remaining() === 0);
    writeTuneReports(dir, sweep, run, analysis, { complete: remaining() === 0, ...(stopped ? { stopped } : {}) }, hostInfo());
    return analysis;
  };
  const leader = () => {
    const a = analyseTune(sweep, storedData(dir, sweep, points, scenarios.map((x) => x.name)), run.seed);
    const p = a.points.find((x) => x.id === a.recommendation.point) ?? [...a.points].filter((x) => x.rankP95Ms !== null).sort((x, y) => x.rankP95Ms! - y.rankP95Ms!)[0];
    return p ? `${p.id} (${p.label}): outage p95 ${formatMs(p.rankP95Ms!)}${a.recommendation.point === p.id ? '' : ', safety not shown yet'}` : 'none yet';
  };
  const checkBudget = () => {
    if (o.signal?.aborted) stopped ??= 'interrupted';
    else if (sweep.budget !== undefined && spent() >= sweep.budget) stopped ??= `the budget of ${formatMs(sweep.budget)} is spent (${formatMs(spent())})`;
    return stopped === undefined;
  };

  /** One point on one lab: switch, every missing repeat, the false-failover window. `say` prefixes the worker. */
  const runPoint = async (engine: Engine, lab: LabContext, hosts: LabHosts, i: number, say: (m: string) => void) => {
    const p = points[i]!;
    const key = pointKey(i);
    const pdir = join(dir, 'points', key);
    const units = todo(dir, i, scenarios, run.repeats);
    const ffDone = windowJudged(dir, i);
    mkdirSync(pdir, { recursive: true });
    writeFileSync(join(pdir, 'point.json'), JSON.stringify({ id: key, label: labelOf(p), parameters: p.parameters }, null, 2) + '\n');
    say(`── point ${key} (${i + 1}/${points.length}): ${labelOf(p)} ── switching the running lab ${lab.record.name}`);
    try {
      const sw = await switchProfile(engine, hosts, lab, { ...p.profile, name: `${sweep.name}-${key}` }, join(pdir, 'profile.yaml'), progress, o.signal);
      writeFileSync(join(pdir, 'switch.json'), JSON.stringify(sw, null, 2) + '\n');
      say(`  switched in ${formatMs(sw.ms)} (stack written ${formatMs(sw.steps.write)}, pair calm ${formatMs(sw.steps.pair)} with ${sw.vrrpTransitions} VRRP transition(s), client back ${formatMs(sw.steps.client)}); timers in force: adverts every ${sw.timers.advert.spacingMedianMs?.toFixed(0)} ms (VRRPv${sw.timers.advert.version}, ${sw.timers.advert.n} captured), DPD ${sw.timers.dpd?.delayS} s/${sw.timers.dpd?.timeoutS} s, LCP ${sw.timers.lcp.intervalS} s × ${sw.timers.lcp.failure}, terminate ${sw.timers.lcp.restartS} s × ${sw.timers.lcp.maxTerminate}`);
    } catch (e) {
      if (e instanceof TimersMismatchError) writeFileSync(join(pdir, 'switch.json'), JSON.stringify({ error: e.message, timers: e.timers }, null, 2) + '\n');
      throw e;
    }
    for (const u of units) {
      if (!checkBudget()) return;
      const u0 = performance.now();
      say(`── ${key} ${u.scenario.name} (${u.repeat}/${run.repeats})`);
      const r = await runScenario(engine, lab, u.scenario, { repeat: u.repeat, repeats: run.repeats, progress, signal: o.signal, hosts, labIsOurs: !o.lab, onEvent });
      writeResult(pdir, r, [...storedRepeats(join(pdir, u.scenario.name)).filter((x) => x.repeat !== r.repeat), r]);
      unitTimes.push(performance.now() - u0);
      say(`  ${key} ${u.scenario.name} ${u.repeat}: ${r.verdict}${r.metrics.outageMs !== undefined ? `, outage ${formatMs(r.metrics.outageMs)}` : ''}${r.reason ? ` (${r.reason})` : ''}`);
      run.spentMs = spent();
      save();
    }
    if (!ffDone) {
      await untilJudged(FF_ATTEMPTS, async (attempt) => {
        if (!checkBudget()) return undefined;
        say(`── ${key} false-failover window (${formatMs(sweep.falseFailover.calm)})${attempt > 1 ? `, attempt ${attempt}/${FF_ATTEMPTS}` : ''}`);
        const r = await runScenario(engine, lab, ffScenario, { repeat: attempt, repeats: attempt, progress, signal: o.signal, hosts, labIsOurs: !o.lab, onEvent });
        if (o.signal?.aborted) return undefined;
        writeResult(pdir, r, [r]);
        const w = windowOf(r, sweep.falseFailover.calm, p.profile.vrrp.advertInt);
        writeFileSync(join(pdir, FF, 'window.json'), JSON.stringify(w, null, 2) + '\n');
        say(`  ${key} false failovers: ${w.verdict === 'error' ? `could not judge: ${w.reason}${attempt < FF_ATTEMPTS ? '; running the window again' : ''}` : `${w.transitions.length} takeover(s), ${w.outages.length} outage(s) ≥ 1 s in ${formatMs(w.calmMs)} of calm`}`);
        return w;
      });
      if (o.signal?.aborted) return;
    }
    run.spentMs = spent();
    save();
    const left = remaining();
    const per = unitTimes.length ? unitTimes.reduce((a, b) => a + b, 0) / unitTimes.length : 0;
    say(`  ${points.length - pending().length}/${points.length} points done · about ${formatMs((left * per) / o.workers)} left · leader: ${leader()}`);
  };

  const pending = () => points.map((_, i) => i).filter((i) => todo(dir, i, scenarios, run.repeats).length > 0 || !windowJudged(dir, i));
  // the points still to do, shared by the workers: each takes the next one when it is free
  const queue = pending();
  const checkTargets = (lab: LabContext) => {
    const wrong = scenarios.flatMap((s) => targetIssues(s, lab.topology).map((x) => ({ file: displayPath(s.file), ...x })));
    if (wrong.length > 0) throw new ConfigError(wrong);
  };
  const drain = async (engine: Engine, lab: LabContext, hosts: LabHosts, say: (m: string) => void) => {
    checkTargets(lab);
    // the hosts' agents, started once for the whole sweep (a copy and a start per host: seconds under TCG), not in the first switch
    const a0 = performance.now();
    await hosts.connect();
    say(`agents attached on ${hosts.hosts.size} hosts in ${formatMs(performance.now() - a0)}`);
    for (let i = queue.shift(); i !== undefined; i = queue.shift()) {
      if (!checkBudget()) return;
      await runPoint(engine, lab, hosts, i, say);
    }
  };

  let labError: string | undefined;
  const failed = (e: unknown) => {
    if (e instanceof ConfigError) throw e;
    labError ??= errorMessage(e);
  };
  if (queue.length === 0) {
    // nothing left to measure (a finished sweep resumed): only the reports are written again, no lab is touched
    progress.step('every point is measured: writing the reports again from the stored files');
  } else if (o.lab) {
    if (o.workers > 1) throw new VipdrillError('CONFIG_INVALID', `--workers ${o.workers} with --lab: one lab was given; without --lab the tuner brings up one lab per worker`);
    const record = requireLab(o.lab);
    const lab: LabContext = { ...loadLabInputs(record.topologyFile, record.profile, record.name), record };
    const original: { profile: Profile; file: string } = { profile: lab.profile, file: record.profile };
    const engine = await openEngineForLab(record);
    markRunning(record);
    const hosts = new LabHosts(engine, lab);
    try {
      await drain(engine, lab, hosts, (m) => progress.step(m));
    } catch (e) {
      failed(e);
    } finally {
      await restoreProfile(engine, hosts, lab, original, join(dir, 'restored-profile.yaml'), progress, o.signal);
      hosts.release();
      markIdle(record);
      await engine.close();
    }
  } else {
    // one lab per worker, each on its own subnets (workers.ts), brought up together and removed at the end
    const worker = async (k: number) => {
      const name = k === 0 ? o.labName : `${o.labName}-w${k + 1}`;
      const say = (m: string) => progress.step(o.workers > 1 ? `[w${k + 1}] ${m}` : m);
      let up: Awaited<ReturnType<typeof upCommand>> | undefined;
      try {
        up = await upCommand({ topologyFile: workerTopologyFile(dir, run.topology, k), profile: sweep.base, name, engine: o.engine, waitUntil: 'tunnel', progress });
        markRunning(up.result.record);
        await using hosts = new LabHosts(up.engine, up.result);
        await drain(up.engine, up.result, hosts, say);
      } catch (e) {
        failed(e);
      } finally {
        if (up) {
          await up.engine.close().catch(() => {});
          await downCommand(name, progress).catch((e: unknown) => say(`warning: down failed: ${errorMessage(e)}`));
        }
      }
    };
    const settled = await Promise.allSettled(Array.from({ length: Math.min(o.workers, Math.max(1, queue.length)) }, (_, k) => worker(k)));
    const bad = settled.find((x): x is PromiseRejectedResult => x.status === 'rejected');
    if (bad) throw bad.reason;
  }
  if (labError) stopped ??= `error: ${labError}`;
  run.spentMs = spent();
  session.endedAt = new Date().toISOString();
  if (stopped) session.stopped = stopped;
  save();
  const analysis = report();
  const complete = remaining() === 0;
  if (!complete) progress.step(`the sweep stopped before its end (${stopped ?? 'incomplete'}): 'vipdrill tune --resume ${displayPath(dir)}' continues it`);
  // 0: a recommendation from a complete sweep; 1: complete, and no point passed the safety check; 2: could not finish
  const exitCode = !complete || labError ? 2 : analysis.recommendation.point ? 0 : 1;
  return { dir, run, analysis, complete, ...(stopped ? { stopped } : {}), exitCode };
}

