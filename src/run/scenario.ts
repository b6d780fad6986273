import { analyse, type Evidence } from '../analysis/analyse.js';
import { starvedThresholds } from '../analysis/starvation.js';
import { parseProbe, type ProbeReport } from '../analysis/dataplane.js';
import type { VrrpTransition } from '../analysis/metrics.js';
import type { TunnelSample } from '../analysis/figures.js';
import { errorMessage, TimeoutError } from '../errors.js';
import { faultEnv } from '../faults/env.js';
import { planFault } from '../faults/catalog.js';
import { writeJournal } from '../faults/journal.js';
import { LeaseKeeper, type LeaseOptions } from '../faults/leases.js';
import type { PlannedFault } from '../faults/types.js';
import { LabHosts } from '../hosts/lab-hosts.js';
import type { Engine } from '../lab/engine.js';
import type { LabContext } from '../lab/lab.js';
import type { Condition, Scenario, Step } from '../scenario/schema.js';
import type { Progress } from '../util/progress.js';
import { formatMs, systemClock, waitFor, type Clock } from '../util/time.js';
import type { Reporter } from '../report/reporter.js';
import type { EventKind, RunEvent } from './events.js';
import { clientLogs, keepalivedMasterLines, nodePppLines, sessionCounts } from './evidence.js';
import { invariants } from '../analysis/invariants.js';
import { authFailureCounts, evaluate, leftovers, sample, type ConditionContext, type Sample } from './observe.js';
import type { ScenarioResult } from './result.js';
import { awaitCalm, calmWindowMs, preferredHolder, rolesNow, UnstableLabError } from './stability.js';
import { FaultRegistry } from './registry.js';
import { keepProbeLog, Watchers, type ProbeHandle } from './watchers.js';

export interface RunOptions {
  repeat: number;
  repeats: number;
  progress: Progress;
  /** deadline for the lab to be at its baseline before and after the run */
  baselineTimeoutMs?: number;
  /** interrupt (Ctrl-C): stop the timeline, then heal as always */
  signal?: AbortSignal;
  /** the lab's hosts with their live agents (one set for a whole suite); made and released here if absent */
  hosts?: LabHosts;
  /** the controller's clock for waits and sleeps (unit tests inject one that does not sleep) */
  clock?: Clock;
  /** the run brought this lab up and removes it after: an interrupt skips the heal */
  labIsOurs?: boolean;
  /** every event of the stream as it happens (the reporters' onEvent) */
  onEvent?: Reporter['onEvent'];
  /** lease every fault on its hosts (real hosts): they revert it by themselves if this process dies */
  leases?: LeaseOptions;
  /** real hosts: each host's clock offset to the client's, and its uncertainty (ms) */
  clocks?: Record<string, { offsetMs: number; uncertaintyMs: number }>;
}



/** Faults that take a whole node out: its VRRP state ends with them (keepalived logs nothing). */
const CONTAINER_FAULTS = new Set<string>(['node-crash', 'node-stop', 'node-freeze']);


/**
 * Run one scenario once against a lab at its baseline: inject, wait, check, heal; always a final heal
 * (every revert, registered before its inject, runs even when a step failed); then the lab must be
 * back at baseline with no vipdrill rule left. Figures come from the lab's clock and keepalived's logs.
 */
export async function runScenario(engine: Engine, lab: LabContext, sc: Scenario, o: RunOptions): Promise<ScenarioResult> {
  const hosts = o.hosts ?? new LabHosts(engine, lab);
  // what the hosts push goes to the reporters live too
  const unsubscribe = hosts.subscribe((e) => o.onEvent?.({ source: 'host', ...e }, { scenario: sc.name, repeat: o.repeat }));
  try {
    return await runWithHosts(engine, lab, sc, o, hosts);
  } finally {
    unsubscribe();
    if (!o.hosts) hosts.release();
  }
}

async function runWithHosts(engine: Engine, lab: LabContext, sc: Scenario, o: RunOptions, hosts: LabHosts): Promise<ScenarioResult> {
  const progress = o.progress;
  const labNow = (h: string) => hosts.host(h).now();
  await hosts.connect().catch(() => {}); // a host that cannot be reached now is reported by the baseline
  const roundTrips0 = hosts.roundTrips;
  const signal = o.signal;
  const clock = o.clock ?? systemClock;
  const sleep = (ms: number) => clock.sleep(ms, signal);
  const events: RunEvent[] = [];
  const started = performance.now();
  let lastT = 0;
  const emit = (kind: EventKind, message: string, t?: number, extra: { step?: number; data?: Record<string, unknown> } = {}) => {
    const e: RunEvent = { seq: events.length, t: t ?? lastT, kind, message, ...extra };
    if (t !== undefined) lastT = Math.max(lastT, t);
    events.push(e);
    // live, to the reporters (the console prints it)
    o.onEvent?.({ source: 'runner', ...e }, { scenario: sc.name, repeat: o.repeat });
  };
  const baselineTimeoutMs = o.baselineTimeoutMs ?? 240_000;
  const tunnelSamples: TunnelSample[] = [];
  const samples: Sample[] = [];
  const ctx: ConditionContext & { tunnelIpAtStart?: string } = { holderAtStart: '', authBaseline: new Map(), preferred: preferredHolder(lab) };
  const check = async (c: Condition) => {
    const r = await evaluate(hosts, c, ctx);
    if (r.sample) {
      samples.push(r.sample);
      const c = r.sample.client;
      if (c) tunnelSamples.push({ t: r.sample.t, up: c.lanReachable, ...(c.neigh !== undefined ? { neigh: c.neigh } : {}) });
    }
    return r;
  };
  const waitCondition = (c: Condition, within: number) =>
    waitFor(`condition ${c}`, () => check(c), (r) => r.ok, (r) => r.seen, {
      timeoutMs: within,
      // every sample is three execs into the lab: under TCG faster polling slows the lab it measures
      intervalMs: 250,
      maxIntervalMs: 500,
      clock,
      signal,
      onStillWaiting: (last, ms) => progress.step(`  still waiting for ${c} (${formatMs(ms)} of ${formatMs(within)}): ${last}`),
    });

  const result: ScenarioResult = {
    schema: 'vipdrill.result/1',
    scenario: sc.name,
    description: sc.description,
    file: sc.file,
    repeat: o.repeat,
    repeats: o.repeats,
    lab: lab.record.name,
    engine: engine.info,
    profile: lab.profile.name,
    topology: lab.topology.name,
    verdict: 'error',
    startedAt: new Date().toISOString(),
    labStart: 0,
    labEnd: 0,
    durationMs: 0,
    metrics: { tunnelSeenDown: false, splitBrainMs: 0, splitBrainLongestMs: 0, splitBrainSampled: false, handoverOverlapMs: 0, splitBrainToleranceMs: 0, authFailures: {}, resolution: { vrrp: 'keepalived notify_fifo lines stamped with the lab clock (µs)', tunnel: '' } },
    expectations: [],
    invariants: [],
    vrrp: [],
    events,
  };

  // 1. baseline
  try {
    const b = await waitCondition('baseline', baselineTimeoutMs);
    result.labStart = b.sample!.t;
    ctx.holderAtStart = b.sample!.holders[0]!;
    ctx.tunnelIpAtStart = b.sample!.client?.tunnelIp ?? undefined;
    result.holderAtStart = ctx.holderAtStart;
    ctx.authBaseline = await authFailureCounts(hosts);
    emit('run.start', `${sc.name} (repeat ${o.repeat}/${o.repeats}) on lab ${lab.record.name}`, b.sample!.t);
    emit('baseline.ok', `baseline: ${b.seen}`, b.sample!.t);
  } catch (e) {
    result.reason = `the lab is not at its baseline (one VIP holder, tunnel reaching the LAN) before the run: ${errorMessage(e)}`;
    result.durationMs = performance.now() - started;
    emit('error', result.reason);
    return result;
  }

  // the watchers run for the whole repeat: both probes, the ARP capture, the routing counters
  await using watchers = await Watchers.start(hosts, `${sc.name}-${o.repeat}`, ctx.tunnelIpAtStart, (what, t) => emit('probe', what, t));
  const sessionsBefore = await sessionCounts(hosts);
  const snapshot = (label: string) => watchers.snapshot(label, lastT);
  const finishWatchers = async () => {
    const { raw, arpText, adverts } = await watchers.stop();
    const reports: Partial<Record<'forward' | 'reverse', ProbeReport>> = {};
    for (const [dir, r] of Object.entries(raw) as ['forward' | 'reverse', { text: string; handle: ProbeHandle }][]) {
      keepProbeLog(sc.name, dir, r.text, (why) => emit('probe', why));
      reports[dir] = parseProbe(r.text, r.handle.intervalMs, dir, r.handle.target);
    }
    return { reports, arpText, adverts };
  };

  // 2. the timeline
  const faults = new FaultRegistry(clock, (entries) => writeJournal(lab.record.name, entries));
  await using leases = o.leases ? new LeaseKeeper((h) => hosts.host(h), o.leases) : undefined;
  /** lab-clock times of every inject: figures count from the last inject before the effect */
  const injections: number[] = [];
  const containerEvents: VrrpTransition[] = [];
  const blackouts: NonNullable<PlannedFault['window']>[] = [];
  let failure: string | undefined;
  let error: string | undefined;

  const runStep = async (st: Step, i: number) => {
    if ('fault' in st) {
      const first = injections.length === 0;
      if (first) {
        // the stability gate: a calm window first (then the holder must still be the baseline's)
        const calm = await awaitCalm(hosts, {
          requiredMs: calmWindowMs(lab.topology, lab.profile),
          since: result.labStart,
          tunnelOk: async () => (await sample(hosts, 'lan')).client?.lanReachable === true,
          clock,
          ...(signal ? { signal } : {}),
          onWait: (why) => progress.detail(`  waiting for a calm lab before the fault: ${why}`),
        });
        result.calm = calm;
        emit('calm', `calm for ${formatMs(calm.requiredMs)} (3 × master down, at least 2 s) after waiting ${formatMs(calm.waitedMs)}: no VRRP transition, agents at most ${formatMs(calm.lagMaxMs)} late`, calm.to, { data: { ...calm } });
      }
      const { master, backup } = rolesNow(hosts, first ? ctx.holderAtStart : undefined);
      const id = st.id ?? `step${i}`;
      const fault = planFault(faultEnv(engine, hosts, { master, backup, id: `vipdrill-${id}` }), st);
      let reverted = false;
      const revert = async () => {
        if (reverted) return;
        reverted = true;
        // when the revert was asked, on the clock of a host it does not touch: a revert takes time (a node
        // restarting), and what follows it (a preempting failback) can begin before it returns
        const beside = ['client', ...hosts.nodes, 'lanhost'].find((h) => !fault.targets.includes(h))!;
        const asked = await labNow(beside).catch(() => undefined);
        const at = await fault.revert();
        await leases?.drop(fault.id);
        if (CONTAINER_FAULTS.has(fault.kind)) containerEvents.push({ t: at, node: fault.targets[0]!, state: 'RESUMED', source: 'runner' });
        emit('fault.revert', `${id}: reverted (${fault.describe})`, at, { step: i, data: { id, kind: fault.kind, ...(asked !== undefined && asked <= at ? { asked } : {}) } });
      };
      // the revert is registered before the inject: a failed or interrupted inject still gets healed
      faults.register(id, revert, { id, step: st, master, backup });
      const times = st.flap?.times ?? 1;
      for (let k = 0; k < times; k++) {
        reverted = false;
        await leases?.arm(fault);
        const at = await fault.inject();
        result.firstFaultAt ??= at;
        injections.push(at);
        ctx.holderAtFault ??= master;
        result.holderAtFault ??= master;
        if (CONTAINER_FAULTS.has(fault.kind)) containerEvents.push({ t: at, node: fault.targets[0]!, state: fault.kind === 'node-freeze' ? 'FROZEN' : 'DOWN', source: 'runner' });
        // a keepalived that is killed writes no last state line: its VRRP state ends with it
        if (st.fault === 'kill-daemon' && st.daemon === 'keepalived' && fault.targets[0] !== 'client') containerEvents.push({ t: at, node: fault.targets[0]!, state: 'STOPPED', source: 'runner' });
        emit('fault.inject', `${id}: ${fault.describe}${times > 1 ? ` (flap ${k + 1}/${times})` : ''}${st.for === 'until-healed' ? ', until healed' : `, for ${formatMs(st.for)}`}${fault.bracket ? ` (carried out within ${formatMs((fault.bracket.seen - fault.bracket.asked) * 1000)})` : ''}`, at, { step: i, data: { id, kind: fault.kind, targets: fault.targets, master, backup, ...(fault.bracket ? { bracket: fault.bracket } : {}) } });
        if (st.flap) {
          await sleep(st.for as number);
          await revert();
          if (k < times - 1) await sleep(st.flap.up);
        }
      }
      if (fault.window) {
        // timed inside the lab: it is over when inject returns; its rules go now
        faults.forget(id);
        await fault.revert();
        await leases?.drop(fault.id);
        const w = fault.window;
        emit('fault.revert', `${id}: blackout lifted after ${formatMs(w.appliedMs)} (nominal ${formatMs(w.nominalMs)}, ±${w.uncertaintyMs.toFixed(1)} ms, lab-timed)`, w.off, { step: i, data: { id, kind: fault.kind, window: w } });
        blackouts.push(w);
      } else if (st.flap) faults.forget(id);
      // reverted after its duration on the run's clock, unless a heal came first
      else if (st.for !== 'until-healed') faults.revertAfter(id, st.for);
    } else if ('wait' in st) {
      try {
        const r = await waitCondition(st.wait, st.within);
        emit('wait.ok', `${st.wait}: ${r.seen}`, r.sample?.t ?? (await labNow('client')), { step: i });
      } catch (e) {
        if (!(e instanceof TimeoutError)) throw e;
        failure = `step ${i + 1}: ${st.wait} not reached within ${formatMs(st.within)}: ${e.message}`;
        emit('wait.timeout', failure, await labNow('client').catch(() => lastT), { step: i });
      }
    } else if ('check' in st) {
      const r = await check(st.check);
      const t = r.sample?.t ?? (await labNow('client'));
      if (r.ok) emit('check.pass', `${st.check}: ${r.seen}`, t, { step: i });
      else {
        failure = `step ${i + 1}: check ${st.check} failed: ${r.seen}`;
        emit('check.fail', failure, t, { step: i });
      }
    } else if ('heal' in st) {
      const ids = st.heal === 'all' ? faults.ids() : [st.heal];
      for (const id of ids) await faults.heal(id);
      emit('heal', `healed ${st.heal === 'all' ? `all (${ids.join(', ') || 'nothing active'})` : st.heal}`, await labNow('client'), { step: i });
    } else {
      await sleep(st.sleep);
      emit('sleep', `slept ${formatMs(st.sleep)}`, await labNow('client'), { step: i });
    }
  };

  try {
    for (const [i, st] of sc.steps.entries()) {
      if (signal?.aborted) throw new Error('interrupted');
      await runStep(st, i);
      await snapshot(`step ${i + 1} (${Object.keys(st)[0]})`);
      if (failure) break;
    }
  } catch (e) {
    error = e instanceof UnstableLabError ? e.message : `the run could not continue: ${errorMessage(e)}`;
    emit('error', error);
  } finally {
    // final heal: every fault still registered, newest first; all are attempted. Interrupted on a lab
    // the run brought up, nothing is healed: the lab is removed next, faults and all, within the budget
    const ids = signal?.aborted && o.labIsOurs ? [] : await faults.healAll();
    emit('heal.final', signal?.aborted && o.labIsOurs ? `interrupted: the lab this run brought up is removed with its faults (${faults.ids().join(', ') || 'none'}), not healed` : `final heal: ${ids.length > 0 ? ids.join(', ') : 'nothing left to revert'}`, await labNow('client').catch(() => lastT));
  }
  faults.errors.push(...(leases?.errors ?? []));
  if (faults.errors.length > 0) {
    error ??= faults.errors.join('; ');
    emit('error', faults.errors.join('; '));
  }

  // 3. back at baseline, nothing of vipdrill's left (interrupted runs skip the wait: healed is enough)
  let end: Sample | undefined;
  if (signal?.aborted) {
    await finishWatchers();
    result.verdict = 'error';
    result.reason = error ?? 'interrupted';
    result.durationMs = performance.now() - started;
    emit('run.end', `interrupted: faults healed, lab left as it is`, lastT);
    return result;
  }
  try {
    const b = await waitCondition('baseline', baselineTimeoutMs);
    end = b.sample;
    emit('baseline.ok', `back at baseline: ${b.seen}`, b.sample!.t);
  } catch (e) {
    failure ??= `the lab did not return to its baseline after the final heal: ${errorMessage(e)}`;
    emit('error', `not back at baseline: ${errorMessage(e)}`);
    // a finding, not the end of the suite: restart the L2TP/IPsec daemons so the next run starts clean
    try {
      await resetTunnel(hosts);
      const b = await waitCondition('baseline', baselineTimeoutMs);
      emit('baseline.ok', `baseline after restarting xl2tpd and charon (lab reset): ${b.seen}`, b.sample!.t);
    } catch (e2) {
      error ??= `the lab could not be reset to its baseline: ${errorMessage(e2)}`;
      emit('error', error);
    }
  }
  // one calm second with the probes running, back at baseline: the last window of the routing-symmetry
  // counters (the windows before it may hold a failback, which is a handover and not judged)
  await snapshot('back at baseline');
  await sleep(1000).catch(() => {});
  await snapshot('end');
  // what the end needs, asked of every host at once: the sessions beside the probes' stop, then the
  // leftovers (the probes are vipdrill processes, so after their stop) beside the evidence's reads
  const [sessionsAfter, { reports: probeReports, arpText, adverts }] = await Promise.all([sessionCounts(hosts).catch(() => ({})), finishWatchers()]);
  result.labEnd = end?.t ?? lastT;
  const from0 = (result.firstFaultAt ?? result.labStart) - 1;
  const perNode = <T>(fn: (n: string) => Promise<T>, dflt: T) => Promise.all(hosts.nodes.map((n) => fn(n).catch(() => dflt))).then((xs) => Object.fromEntries(hosts.nodes.map((n, i) => [n, xs[i]!])));
  const [left, last, vrrpLogs, masterLines, clientLines, nodePpp, authCounts] = await Promise.all([
    leftovers(hosts).catch((e: unknown) => ({ rules: [`(could not check: ${errorMessage(e)})`], processes: [`(could not check: ${errorMessage(e)})`] })),
    end ?? sample(hosts, 'lan').catch(() => undefined),
    perNode<string | undefined>((n) => hosts.host(n).logWindow('vrrp.log', 0, Infinity), undefined),
    perNode((n) => keepalivedMasterLines(hosts, n, result.labStart - 1, Infinity), [] as number[]),
    result.firstFaultAt !== undefined ? clientLogs(hosts, from0, result.labEnd + 60).catch(() => []) : Promise.resolve([]),
    nodePppLines(hosts, result.labStart, result.labEnd).catch(() => []),
    authFailureCounts(hosts).catch(() => new Map<string, number>()),
  ]);

  // invariants: exactly one VIP holder, the client's tunnel up, no vipdrill rule or process left
  result.invariants = invariants(last, left);
  const broken = result.invariants.filter((x) => !x.ok && x.name !== 'single-vip-holder' && x.name !== 'client-tunnel-up');
  if (broken.length > 0) {
    error ??= broken.map((x) => `invariant ${x.name}: ${x.detail}`).join('; ');
    emit('error', error);
  }

  // 4. figures: the evidence read above, then pure functions of it
  const evidence: Evidence = {
    injections,
    containerEvents,
    samples,
    tunnelSamples,
    ...(end ? { end } : {}),
    ...(ctx.tunnelIpAtStart ? { tunnelIpAtStart: ctx.tunnelIpAtStart } : {}),
    vrrpLogs,
    keepalivedMasterLines: masterLines,
    clientLines,
    nodePppLines: nodePpp,
    arpText,
    adverts,
    macs: watchers.macs,
    probeReports,
    probeErrors: watchers.probeErrors,
    snapshots: watchers.snapshots,
    blackouts,
    sessionsBefore,
    sessionsAfter,
    authBaseline: Object.fromEntries(ctx.authBaseline),
    authCounts: Object.fromEntries(authCounts),
    ...(failure ? { failure } : {}),
    ...(error ? { error } : {}),
    starvedThresholds: starvedThresholds(),
  };
  result.roundTrips = hosts.roundTrips - roundTrips0;
  result.durationMs = performance.now() - started;

  // 5. analysis: figures, starvation, expectations, verdict, as a pure function of what was recorded
  // (kept as the stream's `evidence` line, from which `vipdrill report` computes them again)
  const skeleton: ScenarioResult = { ...result, events: [...events] };
  const analysed = analyse({ scenario: sc, lab: { topology: lab.topology, profile: lab.profile }, result: skeleton, hostEvents: hosts.events(result.labStart, result.labEnd + 1).sort((a, b) => a.t - b.t), evidence });
  const { events: _e, hostEvents: _h, ...before } = skeleton;
  if (o.clocks) {
    const worst = Math.max(...Object.values(o.clocks).map((c) => c.uncertaintyMs));
    analysed.metrics.resolution.clocks = `figures across two hosts (a fault on one node, its effect on the other or on the client) carry up to ±${(2 * worst).toFixed(1)} ms more: each host's clock is known to the client's within ${Object.entries(o.clocks).filter(([h]) => h !== 'client').map(([h, c]) => `${h} ±${c.uncertaintyMs.toFixed(1)} ms (offset ${c.offsetMs.toFixed(1)} ms)`).join(', ')}`;
  }
  analysed.evidence = { source: 'evidence', t: result.labEnd, scenario: sc, lab: { topology: lab.topology, profile: lab.profile }, result: before, evidence };
  for (const e of analysed.events) if (e.kind === 'phase' || e.kind === 'run.end') o.onEvent?.({ source: 'runner', ...e }, { scenario: sc.name, repeat: o.repeat });
  return analysed;
}

/** Restart xl2tpd on the nodes and charon + xl2tpd on the client: a fresh dial, as after a reboot. */
async function resetTunnel(hosts: LabHosts): Promise<void> {
  for (const n of hosts.nodes) await hosts.host(n).act('restart-daemon', { daemon: 'xl2tpd' });
  await hosts.host('client').act('restart-daemon', { daemon: 'xl2tpd' });
  await hosts.host('client').act('restart-daemon', { daemon: 'charon' });
}
