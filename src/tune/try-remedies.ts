import { mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ConfigError, errorMessage, VipdrillError } from '../errors.js';
import { LabHosts } from '../hosts/lab-hosts.js';
import type { Engine } from '../lab/engine.js';
import { loadLabInputs, type LabContext } from '../lab/lab.js';
import { downCommand, openEngineForLab, upCommand } from '../lab/lifecycle.js';
import { newRunId, requireLab } from '../lab/state.js';
import { consoleReporter } from '../report/console.js';
import { findingText } from '../report/findings.js';
import { probeEvery } from '../report/table.js';
import type { HostInfo } from '../run/result.js';
import { runScenario } from '../run/scenario.js';
import { hostInfo, markIdle, markRunning, scenarioFiles, writeResult } from '../run/suite.js';
import { targetIssues, topologyPathOf } from '../scenario/load.js';
import type { Scenario } from '../scenario/schema.js';
import { displayPath } from '../topology/load.js';
import { formatMs } from '../util/time.js';
import type { Progress } from '../util/progress.js';
import { armsTable, candidates, changedProfile, compareArms, MIN_EFFECT_MS, type Arm, type ArmStats, type Change } from './remedies.js';
import { restoreProfile, switchProfile } from './switch.js';

/**
 * `vipdrill run <scenario> --try-remedies`: the scenario's repeats on the lab's profile as it is, then
 * for each profile change its findings propose (and each asked with --remedy) the lab's profile switched
 * in place (tune's switch: render, restart the daemons, the baseline, the timers read back) and the same
 * repeats again; the lab's own profile is restored at the end. Every repeat is stored as it completes:
 * <dir>/<arm>/<scenario>/repeat-<k>/, remedies.json and summary.md beside them.
 */

export interface TryRemediesOptions {
  file: string;
  /** run on this lab (up, with the scenario's profile) instead of bringing one up */
  lab?: string;
  repeats: number;
  /** changes to try whatever the findings say */
  asked: Change[];
  /** at most this many of the findings' changes are measured (the largest impact first) */
  maxProposed: number;
  reportDir: string;
  engine: 'auto' | 'local' | 'vm';
  labName: string;
  seed?: number;
  progress: Progress;
  signal?: AbortSignal;
}

export interface RemediesJson {
  schema: 'vipdrill.remedies/1';
  runId: string;
  scenario: string;
  file: string;
  profile: string;
  repeats: number;
  seed: number;
  host: HostInfo;
  complete: boolean;
  stopped?: string;
  arms: ArmStats[];
}

export interface TryRemediesResult {
  dir: string;
  json: RemediesJson;
  exitCode: 0 | 2;
}

export async function tryRemediesCommand(o: TryRemediesOptions): Promise<TryRemediesResult> {
  const [sc] = scenarioFiles([o.file]) as [Scenario];
  // a lab that is not up, or runs another profile, is refused before anything is written
  const record = o.lab ? requireLab(o.lab) : undefined;
  if (record && sc.profile !== undefined && sc.profile !== record.profile) throw new VipdrillError('CONFIG_INVALID', `lab ${record.name} runs profile ${record.profile}; ${displayPath(sc.file)} asks for ${sc.profile}: run it without --lab, or bring up a matching lab`);
  const runId = `remedies-${newRunId()}`;
  const dir = resolve(o.reportDir, runId);
  mkdirSync(dir, { recursive: true });
  const latest = resolve(o.reportDir, 'latest-remedies');
  rmSync(latest, { force: true });
  symlinkSync(runId, latest);
  const seed = o.seed ?? Math.floor(Math.random() * 2 ** 31);
  const progress = o.progress;
  const live = consoleReporter(progress);
  const arms: Arm[] = [];
  let stopped: string | undefined;
  let profileName = sc.profile ?? '(the topology\'s)';

  const measure = async (engine: Engine, lab: LabContext, hosts: LabHosts, arm: Arm) => {
    const adir = join(dir, arm.id);
    for (let k = 1; k <= o.repeats; k++) {
      if (o.signal?.aborted) return;
      progress.step(`── ${arm.id} ${sc.name} (${k}/${o.repeats}): ${arm.label}`);
      const r = await runScenario(engine, lab, sc, { repeat: k, repeats: o.repeats, progress, signal: o.signal, hosts, labIsOurs: !o.lab, onEvent: (e, at) => live.onEvent?.(e, at) });
      arm.results.push(r);
      writeResult(adir, r, arm.results);
      const fs = r.findings?.map((f) => `${f.id} ${formatMs(f.impactMs)}`).join(', ');
      progress.step(`  ${arm.id} ${k}: ${r.verdict}${r.metrics.outageMs !== undefined ? `, outage ${formatMs(r.metrics.outageMs)}` : ''}${r.metrics.failbackOutageMs !== undefined ? `, after the revert ${formatMs(r.metrics.failbackOutageMs)}` : ''}${fs ? `; findings: ${fs}` : ''}${r.reason ? ` (${r.reason})` : ''}`);
    }
  };

  const drive = async (engine: Engine, lab: LabContext, hosts: LabHosts) => {
    const wrong = targetIssues(sc, lab.topology).map((x) => ({ file: displayPath(sc.file), ...x }));
    if (wrong.length > 0) throw new ConfigError(wrong);
    const original = { profile: lab.profile, file: lab.record.profile };
    profileName = original.file;
    const before: Arm = { id: 'before', label: `the profile as it is (${displayPath(original.file)})`, results: [] };
    arms.push(before);
    try {
      await measure(engine, lab, hosts, before);
      const asked = new Set(o.asked.map((a) => a.field));
      const all = candidates(before.results, original.profile, o.asked);
      const proposed = all.filter((c) => !asked.has(c.field));
      const chosen = [...all.filter((c) => asked.has(c.field)), ...proposed.slice(0, o.maxProposed)];
      if (proposed.length > o.maxProposed) progress.step(`${proposed.length} changes proposed; measuring the first ${o.maxProposed} (--max-remedies): ${proposed.slice(o.maxProposed).map((c) => `${c.field}=${c.value}`).join(', ')} left out`);
      if (chosen.length === 0) progress.step('no change to try: the findings propose none that is a profile field (and none was asked with --remedy)');
      for (const [i, c] of chosen.entries()) {
        if (o.signal?.aborted) return;
        const arm: Arm = { id: `remedy-${i + 1}`, label: `${c.field}=${c.value} (${c.from.join(', ')})`, change: c, results: [] };
        arms.push(arm);
        const next = changedProfile(original.profile, c);
        if ('refused' in next) {
          arm.skipped = `refused before it ran: ${next.refused}`;
          progress.step(`── ${arm.id} ${arm.label}: ${arm.skipped}`);
          continue;
        }
        progress.step(`── ${arm.id}: switching lab ${lab.record.name} to ${c.field}=${c.value} (${c.line})`);
        try {
          const sw = await switchProfile(engine, hosts, lab, { ...next.profile, name: `${original.profile.name}+${c.field}=${c.value}` }, join(dir, arm.id, 'profile.yaml'), progress, o.signal);
          progress.step(`  switched in ${formatMs(sw.ms)}; the timers in force read back`);
        } catch (e) {
          arm.skipped = `the profile switch failed: ${errorMessage(e)}`;
          progress.step(`  ${arm.skipped}`);
          continue;
        }
        await measure(engine, lab, hosts, arm);
      }
    } finally {
      await restoreProfile(engine, hosts, lab, original, join(dir, 'restored-profile.yaml'), progress, o.signal);
    }
  };

  try {
    if (record) {
      const lab: LabContext = { ...loadLabInputs(record.topologyFile, record.profile, record.name), record };
      const engine = await openEngineForLab(record);
      markRunning(record);
      const hosts = new LabHosts(engine, lab);
      try {
        await drive(engine, lab, hosts);
      } finally {
        hosts.release();
        markIdle(record);
        await engine.close();
      }
    } else {
      const up = await upCommand({ topologyFile: topologyPathOf(sc.topology), profile: sc.profile, name: o.labName, engine: o.engine, waitUntil: 'tunnel', progress });
      try {
        await using hosts = new LabHosts(up.engine, up.result);
        await drive(up.engine, up.result, hosts);
      } finally {
        await up.engine.close().catch(() => {});
        await downCommand(o.labName, progress).catch((e: unknown) => progress.step(`warning: down failed: ${errorMessage(e)}`));
      }
    }
  } catch (e) {
    if (e instanceof ConfigError || arms.length === 0) throw e;
    stopped = `error: ${errorMessage(e)}`;
  }
  if (o.signal?.aborted) stopped ??= 'interrupted';
  const stats = compareArms(arms, seed);
  const complete = stopped === undefined && arms.every((a) => a.skipped !== undefined || a.results.length === o.repeats);
  const json: RemediesJson = { schema: 'vipdrill.remedies/1', runId, scenario: sc.name, file: sc.file, profile: profileName, repeats: o.repeats, seed, host: hostInfo(), complete, ...(stopped ? { stopped } : {}), arms: stats };
  writeFileSync(join(dir, 'remedies.json'), JSON.stringify(json, null, 2) + '\n');
  writeFileSync(join(dir, 'summary.md'), summaryMd(json, arms).join('\n') + '\n');
  // could not decide: a change that ran (or whose switch failed) without an interval on both sides; one
  // the schema or the daemons refused is an answer (it cannot be set), not an undecided one
  const undecided = stats.some((st, k) => k > 0 && st.verdict === 'not measured' && !arms[k]!.skipped?.startsWith('refused'));
  return { dir, json, exitCode: complete && stats[0]!.n > 0 && !undecided ? 0 : 2 };
}

/** summary.md: what was tried and why, the table, and the findings of the repeats before. */
export function summaryMd(j: RemediesJson, arms: Arm[]): string[] {
  const before = arms[0];
  const seen = new Set<string>();
  const findings = (before?.results ?? []).flatMap((r) => (r.findings ?? []).filter((f) => !seen.has(f.id) && seen.add(f.id)).map((f) => findingText(f, r, '    ').join('\n')));
  return [
    `# Remedies tried: ${j.scenario}`,
    '',
    `Profile ${j.profile}; ${j.repeats} repeat(s) per arm; seed ${j.seed}; ${j.complete ? 'complete' : `incomplete (${j.stopped ?? 'not every repeat ran'})`}.`,
    `The outage is the client's whole time without a path per repeat (the fault's and the revert's), from the data-plane probe (${probeEvery(arms.flatMap((a) => a.results))}); repeats that ended in an error (a starved or unstable lab) are counted apart, never measured. An interval is the seeded 95 % bootstrap of the median; "helped" needs the whole interval of the difference of the medians below −${formatMs(MIN_EFFECT_MS)} ("worse": above +${formatMs(MIN_EFFECT_MS)}).`,
    '',
    ...armsTable(j.arms),
    '',
    ...(findings.length > 0 ? ['## Findings before', '', ...findings.map((f) => '```\n' + f.trimStart() + '\n```')] : ['No finding fired on the repeats before.']),
  ];
}
