import { mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { cpus, hostname, loadavg, release, totalmem, type } from 'node:os';
import { join, resolve } from 'node:path';
import { ConfigError, errorMessage, VipdrillError } from '../errors.js';
import type { Engine } from '../lab/engine.js';
import { loadLabInputs, type LabContext } from '../lab/lab.js';
import { downCommand, openEngineForLab, upCommand } from '../lab/lifecycle.js';
import { newRunId, readLab, removeLabState, requireLab, writeLab, type LabRecord } from '../lab/state.js';
import { openRemote, type RemoteLab } from '../lab/remote.js';
import { clockOffsets, remoteScenarioIssues, trackFileIssues } from './remote-checks.js';
import { targetIssues, topologyPathOf, validateScenarios } from '../scenario/load.js';
import type { Scenario } from '../scenario/schema.js';
import type { Progress } from '../util/progress.js';
import { LabHosts } from '../hosts/lab-hosts.js';
import { consoleReporter } from '../report/console.js';
import type { Reporter } from '../report/reporter.js';
import { displayPath } from '../topology/load.js';
import type { HostInfo, LabInfo, ScenarioResult, SuiteResult } from './result.js';
import { runScenario } from './scenario.js';
import { aggregate } from '../analysis/aggregate.js';
import { insideDir } from '../util/paths.js';

export { aggregate, type AggregateResult } from '../analysis/aggregate.js';

export interface SuiteOptions {
  files: string[];
  /** run on this lab (already up) instead of bringing one up per topology/profile */
  lab?: string;
  engine: 'auto' | 'local' | 'vm';
  /** overrides each scenario's own repeat */
  repeat?: number;
  reportDir: string;
  /** name for labs the suite brings up */
  labName: string;
  progress: Progress;
  /** live reporters (default: the console's) */
  reporters?: Reporter[];
  /** interrupt: the running scenario heals, no further scenario starts, labs the suite brought up are removed */
  signal?: AbortSignal;
  /** run on the existing hosts of this remote topology (over SSH) instead of a lab */
  topology?: string;
  /** the profile that says which timers the remote hosts run (default: the topology's) */
  profile?: string;
  /** asked once the files are valid and before any host is reached: throws to refuse */
  confirm?: (what: string) => Promise<void>;
}

/** What a report's header says about the lab a set of scenarios ran on. */
export type { HostInfo, LabInfo, SuiteResult };

/** Scenarios grouped by the lab they need (topology + profile), in file order. */
function groups(scenarios: Scenario[]): { topology: string; profile?: string; scenarios: Scenario[] }[] {
  const out: { topology: string; profile?: string; scenarios: Scenario[] }[] = [];
  for (const s of scenarios) {
    const topology = topologyPathOf(s.topology);
    const g = out.find((x) => x.topology === topology && x.profile === s.profile);
    if (g) g.scenarios.push(s);
    else out.push({ topology, ...(s.profile ? { profile: s.profile } : {}), scenarios: [s] });
  }
  return out;
}

/** The scenarios of `files`, every file checked first: any invalid one, or one that is not a scenario, is a ConfigError naming them all. */
export function scenarioFiles(files: string[]): Scenario[] {
  const checked = validateScenarios(files);
  const bad = checked.filter((v) => !v.ok);
  if (bad.length > 0) throw new ConfigError(bad.flatMap((v) => v.issues));
  const notScenarios = checked.filter((v) => v.kind !== 'scenario');
  if (notScenarios.length > 0) throw new ConfigError(notScenarios.map((v) => ({ file: v.file, path: '', message: `this is a ${v.kind} file; run takes scenario files (a topology goes with the scenario's topology: field, a profile with --profile or profile:)` })));
  return checked.map((v) => v.scenario!);
}

export function exitCodeOf(results: ScenarioResult[], labErrors: number): 0 | 1 | 2 {
  if (labErrors > 0 || results.some((r) => r.verdict === 'error')) return 2;
  return results.some((r) => r.verdict === 'failed') ? 1 : 0;
}

/**
 * `vipdrill run`: validate every file first (nothing is created when one is invalid), then run each
 * scenario (× repeat) on a lab — the one named by --lab, or one brought up per topology/profile and
 * removed afterwards — writing one result JSON per run into reports/<run id>/.
 */
export async function runSuite(o: SuiteOptions): Promise<SuiteResult> {
  const scenarios = scenarioFiles(o.files);

  const runId = newRunId();
  const dir = resolve(o.reportDir, runId);
  mkdirSync(dir, { recursive: true });
  const latest = resolve(o.reportDir, 'latest');
  rmSync(latest, { force: true });
  symlinkSync(runId, latest);
  const started = performance.now();
  const out: SuiteResult = { schema: 'vipdrill.run/1', runId, dir, startedAt: new Date().toISOString(), durationMs: 0, host: hostInfo(), labs: [], results: [], labErrors: [], counts: { passed: 0, failed: 0, error: 0 }, exitCode: 2 };
  // live reporters: the console prints the stream as it goes; the file reporters write at the end (writeReports)
  const reporters = o.reporters ?? [consoleReporter(o.progress)];
  for (const x of reporters) x.onBegin?.({ runId, dir });
  const save = (r: ScenarioResult) => {
    for (const x of reporters) x.onResult?.(r);
    out.results.push(r);
    out.counts[r.verdict]++;
    if (r.verdict === 'passed' && r.warnings?.length) out.warned = (out.warned ?? 0) + 1;
    writeResult(dir, r, out.results.filter((x) => x.scenario === r.scenario));
    writeSummary(out, dir, started);
  };
  const runOn = async (engine: Engine, lab: LabContext, list: Scenario[], remote?: RemoteLab) => {
    out.engine = engine.info;
    // while faults may be in the lab it belongs to this process: a killed run leaves it to `vipdrill reap`
    markRunning(lab.record);
    // one live agent per host for the whole list: every repeat reuses the same streams
    await using hosts = new LabHosts(engine, lab);
    const info = await labInfo(engine, lab, hosts);
    if (remote) {
      info.remote = await remoteInfo(remote, hosts);
      for (const [h, c] of Object.entries(info.remote.clocks)) if (h !== 'client') o.progress.step(`clock of ${h}: ${c.offsetMs >= 0 ? '+' : ''}${c.offsetMs.toFixed(1)} ms against the client's (±${c.uncertaintyMs.toFixed(1)} ms)`);
      for (const c of remote.comparison) o.progress.step(`warning: ${c}`);
    }
    out.labs.push(info);
    for (const sc of list) {
      const repeats = o.repeat ?? sc.repeat;
      for (let k = 1; k <= repeats; k++) {
        if (o.signal?.aborted) return;
        o.progress.step(`── ${sc.name} ${repeats > 1 ? `(${k}/${repeats}) ` : ''}── ${sc.description}`);
        save(await runScenario(engine, lab, sc, { repeat: k, repeats, progress: o.progress, signal: o.signal, hosts, labIsOurs: !o.lab && !remote, onEvent: (e, at) => reporters.forEach((x) => x.onEvent?.(e, at)), ...(remote ? { leases: remote.leases, clocks: info.remote?.clocks } : {}) }));
      }
    }
  };

  if (o.topology) {
    const inputs = loadLabInputs(o.topology, o.profile);
    const t = inputs.topology;
    if (!t.remote) throw new ConfigError([{ file: displayPath(inputs.loaded.file), path: 'remote', message: "run -t takes a remote topology (one with a remote: block); a lab's topology goes in the scenario's topology: field" }]);
    const wrong = scenarios.flatMap((s) => [...targetIssues(s, t).map((i) => ({ file: displayPath(s.file), ...i })), ...remoteScenarioIssues(s, t)]);
    if (wrong.length > 0) throw new ConfigError(wrong);
    const clash = readLab(t.name);
    if (clash && clash.engine !== 'remote') throw new VipdrillError('LAB_EXISTS', `a lab named "${t.name}" is up here; the remote topology ${displayPath(inputs.loaded.file)} must have another name`);
    await o.confirm?.(`${scenarios.length} scenario(s) on the real hosts of ${t.name} (${Object.values(t.remote.hosts).map((h) => h.ssh).join(', ')})`);
    const remote = await openRemote(o.topology, o.progress, o.profile);
    try {
      const tracks = trackFileIssues(scenarios, Object.fromEntries(Object.keys(t.nodes).map((n) => [n, remote.discovery[n]?.keepalived?.trackFiles ?? []])));
      if (tracks.length > 0) throw new VipdrillError('REMOTE_REFUSED', `these scenarios cannot run on these hosts; nothing was changed:\n  - ${tracks.join('\n  - ')}`);
      await runOn(remote.engine, remote.lab, scenarios, remote);
    } finally {
      removeLabState(t.name);
      await remote.engine.close();
    }
  } else if (o.lab) {
    const record = requireLab(o.lab);
    const inputs = loadLabInputs(record.topologyFile, record.profile, record.name);
    const engine = await openEngineForLab(record);
    try {
      // a scenario that names no topology runs on the lab's, whatever its nodes are called; its hosts
      // must then be the lab's: checked before anything runs
      const mismatched = scenarios.filter((s) => (s.topology !== undefined && topologyPathOf(s.topology) !== resolve(record.topologyFile)) || (s.profile !== undefined && s.profile !== record.profile));
      const wrong = scenarios.flatMap((s) => targetIssues(s, inputs.topology).map((i) => ({ file: displayPath(s.file), ...i })));
      if (wrong.length > 0) throw new ConfigError(wrong);
      if (mismatched.length > 0) {
        out.labErrors.push({ scenarios: mismatched.map((s) => s.name), error: `lab ${record.name} runs ${record.topologyFile} with profile ${record.profile}; these scenarios ask for another topology or profile: run them without --lab, or bring up a matching lab` });
      }
      await runOn(engine, { ...inputs, record }, scenarios.filter((s) => !mismatched.includes(s)));
    } finally {
      markIdle(record);
      await engine.close();
    }
  } else {
    for (const g of groups(scenarios)) {
      if (o.signal?.aborted) break;
      let up: Awaited<ReturnType<typeof upCommand>> | undefined;
      try {
        up = await upCommand({ topologyFile: g.topology, profile: g.profile, name: o.labName, engine: o.engine, waitUntil: 'tunnel', progress: o.progress });
        await runOn(up.engine, up.result, g.scenarios);
      } catch (e) {
        if (e instanceof ConfigError) throw e;
        out.labErrors.push({ scenarios: g.scenarios.map((s) => s.name), error: errorMessage(e) });
        o.progress.step(`lab for ${g.scenarios.map((s) => s.name).join(', ')} failed: ${errorMessage(e)}`);
      } finally {
        if (up) {
          await up.engine.close().catch(() => {});
          await downCommand(o.labName, o.progress).catch((e: unknown) => out.labErrors.push({ scenarios: [], error: `down failed: ${errorMessage(e)}` }));
        }
      }
    }
  }
  out.exitCode = o.signal?.aborted ? 2 : exitCodeOf(out.results, out.labErrors.length);
  out.host.loadAvgAtEnd = loadavg().map((x) => Math.round(x * 100) / 100);
  writeSummary(out, dir, started);
  return out;
}

/** The report header of a drill on real hosts: who was reached how, what runs there, the clock offsets. */
async function remoteInfo(remote: RemoteLab, hosts: LabHosts): Promise<NonNullable<LabInfo['remote']>> {
  const t = remote.lab.topology;
  return {
    hosts: Object.fromEntries(
      Object.entries(remote.discovery).map(([n, d]) => [n, { ssh: t.remote!.hosts[n]!.ssh, hostname: d.hostname, layout: d.layout, versions: Object.fromEntries(Object.entries(d.versions).filter((e): e is [string, string] => !!e[1])) }]),
    ),
    clocks: await clockOffsets(hosts.hosts),
    comparison: remote.comparison,
    leaseTtlS: remote.leases.ttlMs / 1000,
  };
}

export function hostInfo(): HostInfo {
  return { hostname: hostname(), os: `${type()} ${release()}`, kernel: release(), cpus: cpus().length, memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10, node: process.version, loadAvg: loadavg().map((x) => Math.round(x * 100) / 100) };
}

async function labInfo(engine: Engine, lab: LabContext, hosts: LabHosts): Promise<LabInfo> {
  const p = lab.profile;
  const versions: Record<string, string> = {};
  const r = await hosts
    .host(hosts.nodes[0]!)
    .act<{ out: string }>('fault', { argv: ['versions'] })
    .catch(() => undefined);
  for (const line of (r?.result.out ?? '').split('\n')) {
    const [k, v] = line.trim().split(' ');
    if (k && v) versions[k] = v;
  }
  return {
    name: lab.record.name,
    engine: engine.info,
    topology: lab.topology.name,
    profile: p.name,
    profileDescription: p.description ?? '',
    tunables: {
      VRRP: `v${p.vrrp.version}, advert_int ${p.vrrp.advertInt} s, ${p.vrrp.preempt ? `preempt${p.vrrp.preemptDelay ? ` after ${p.vrrp.preemptDelay} s` : ''}` : 'nopreempt'}`,
      DPD: `delay ${p.ike.dpdDelay} s, timeout ${p.ike.dpdTimeout} s, action ${p.ike.dpdAction}`,
      'LCP echo': p.ppp.lcpEchoInterval > 0 ? `every ${p.ppp.lcpEchoInterval} s, ${p.ppp.lcpEchoFailure} failures` : 'off',
      xl2tpd: `max retries ${p.l2tp.maxRetries}, redial timeout ${p.l2tp.redialTimeout} s${p.l2tp.clientRestart ? '; the client restarts xl2tpd on each new CHILD_SA after the first' : ''}`,
    },
    versions,
  };
}

export function markRunning(r: LabRecord): void {
  r.phase = 'running';
  r.controllerPid = process.pid;
  writeLab(r);
}

export function markIdle(r: LabRecord): void {
  r.phase = 'ready';
  delete r.controllerPid;
  writeLab(r);
}

/**
 * The result contract: `<run>/<scenario>/repeat-<k>/result.json` per repeat, and `<run>/<scenario>/result.json`,
 * the aggregate: the representative repeat (the one whose outage is the median) with the verdict of
 * the worst repeat and the distribution of every figure over the repeats.
 */
export function writeResult(dir: string, r: ScenarioResult, all: ScenarioResult[]): void {
  const sdir = insideDir(dir, r.scenario);
  mkdirSync(join(sdir, `repeat-${r.repeat}`), { recursive: true });
  const { evidence: _, ...json } = r;
  writeFileSync(join(sdir, `repeat-${r.repeat}`, 'result.json'), JSON.stringify(json, null, 2) + '\n');
  writeFileSync(join(sdir, `repeat-${r.repeat}`, 'events.jsonl'), eventLines(r));
  writeFileSync(join(sdir, 'result.json'), JSON.stringify(aggregate(all), null, 2) + '\n');
}

/** The repeat's stream as JSON lines in host-clock order: the runner's events and what the hosts pushed. */
export function eventLines(r: ScenarioResult): string {
  const all: { t: number }[] = [...r.events.map((e) => ({ source: 'runner', ...e })), ...(r.hostEvents ?? []).map((e) => ({ source: 'host', ...e }))];
  // the evidence the figures were computed from, after every event (it does not move the stream's order)
  return [...all.sort((a, b) => a.t - b.t), ...(r.evidence ? [r.evidence] : [])].map((e) => JSON.stringify(e)).join('\n') + '\n';
}

function writeSummary(out: SuiteResult, dir: string, started: number): void {
  out.durationMs = performance.now() - started;
  const { results, ...rest } = out;
  const summary = { ...rest, results: results.map((r) => ({ scenario: r.scenario, repeat: r.repeat, verdict: r.verdict, reason: r.reason, metrics: r.metrics })) };
  writeFileSync(join(dir, 'run.json'), JSON.stringify(summary, null, 2) + '\n');
}
