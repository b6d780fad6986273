import * as fs from 'node:fs';
import * as path from 'node:path';
import { errorMessage, TimeoutError } from '../errors.js';
import { planFault } from '../faults/catalog.js';
import { LabHosts, type HostEvent } from '../hosts/lab-hosts.js';
import type { Host, PlannedFault } from '../faults/types.js';
import type { Engine, EngineInfo } from '../lab/engine.js';
import type { LabContext } from '../lab/lab.js';
import type { Condition, Scenario, Step } from '../scenario/schema.js';
import type { Progress } from '../util/progress.js';
import { formatMs, systemClock, waitFor, type Clock } from '../util/time.js';
import { parseArp, startArpWatch, stopArpWatch, type ArpReport, type ArpWatch } from './arp.js';
import { parseProbe, startProbe, stopProbe, type Outage, type ProbeHandle, type ProbeReport } from './dataplane.js';
import { clientLogs, clientWanDev, keepalivedMasterLines, nodePppLines, nodeWanMacs, sessionCounts } from './evidence.js';
import { decomposeReconnect, type PhaseName, type Reconnect } from './reconnect.js';
import { judgeSymmetry, readCounters, type CounterSnapshot, type Symmetry } from './symmetry.js';
import { judgeTakeover, parseVrrpLog, splitBrain, tunnelRestored, vipTakeoverMs, type TakeoverCheck, type VrrpTransition } from './metrics.js';
import { authFailureCounts, evaluate, leftovers, sample, sessionNode, type ConditionContext, type Sample } from './observe.js';
import { awaitCalm, calmWindowMs, starvation, UnstableLabError, type CalmWindow, type Starvation } from './stability.js';

export type EventKind = 'run.start' | 'baseline.ok' | 'calm' | 'probe' | 'fault.inject' | 'fault.revert' | 'wait.ok' | 'wait.timeout' | 'check.pass' | 'check.fail' | 'sleep' | 'heal' | 'heal.final' | 'phase' | 'error' | 'run.end';

/** One entry of the run's ordered event stream; `t` is the lab clock (seconds since the epoch). */
export interface RunEvent {
  seq: number;
  t: number;
  kind: EventKind;
  message: string;
  step?: number;
  data?: Record<string, unknown>;
}

export type Verdict = 'passed' | 'failed' | 'error';

export interface ExpectationResult {
  name: string;
  ok: boolean;
  /** "expected …, got …" */
  detail: string;
  expected: string;
  actual: string;
}

/** Checked after every scenario: the lab is back where the next one can start. */
export interface Invariant {
  name: 'single-vip-holder' | 'client-tunnel-up' | 'no-vipdrill-rule-left' | 'no-fault-process-left';
  ok: boolean;
  detail: string;
}

export interface SessionCheck {
  /** pppd sessions per node at the start and at the end of the run */
  before: Record<string, number>;
  after: Record<string, number>;
  /** the node that answered CHAP for the client after the fault, and when (lab clock) */
  reauthOn?: string;
  reauthAt?: number;
  /** the address the client got after the fault (IPCP) */
  clientAddress?: string;
  /** pppd's own accounting lines (connect time, bytes) of sessions that ended during the run, per node */
  accounting: { node: string; t: number; line: string }[];
}

export interface Calibration {
  kind: 'outage' | 'takeover' | 'calm';
  /** what the truth says (ms): the blackout's applied window, or keepalived's own log line */
  truthMs: number;
  /** how well the truth itself is known (ms): the blackout's commit brackets */
  truthUncertaintyMs?: number;
  measuredMs: number;
  errorMs: number;
  toleranceMs: number;
  /** how well the probe saw the outage's edges (±ms, half their widths): see Outage.resolutionMs */
  resolutionMs?: number;
  /** takeover: keepalived's state line to its notify fifo line (ms), the window its gratuitous ARP is sent in */
  pipelineMs?: number;
  ok: boolean;
  detail: string;
}

/** How an outage's edges were found, in words: "edges 21.5 and 8.2 ms wide, gap 1.1 s". */
function edgeWords(o: Outage, intervalMs?: number): string {
  if (!o.start || !o.end) return `gap ${formatMs(o.gapMs)} less one ${intervalMs?.toFixed(2) ?? '?'} ms interval`;
  const w = (e: [number, number]) => ((e[1] - e[0]) * 1000).toFixed(1);
  return `edges ${w(o.start)} and ${w(o.end)} ms wide, gap ${formatMs(o.gapMs)}`;
}

export interface RunMetrics {
  /** the fault -> new holder's MASTER line in keepalived's log (ms) */
  vipTakeoverMs?: number;
  /** the fault -> the first probe through after the outage (ms), decomposed in phasesMs */
  reconnectMs?: number;
  phasesMs?: Record<PhaseName, number | null>;
  /** how the client noticed, the milestones, and the longest phase in words */
  reconnect?: Reconnect;
  /** the probe's achieved interval (ms): the resolution of outageMs */
  probeIntervalMs?: number;
  /** the LAN host -> client probe's outage around the fault (ms) */
  reverseOutageMs?: number;
  reverseProbe?: ProbeReport & { error?: string };
  /** nft counters per node: null when no window had traffic both ways */
  routingSymmetric?: boolean | null;
  symmetry?: Symmetry;
  sessions?: SessionCheck;
  calibration?: Calibration;
  /** takeover from keepalived's own log line, and what VRRP predicts (master down interval) */
  takeoverCheck?: TakeoverCheck;
  newHolder?: string;
  /** the fault -> the client's tunnel seen reaching the LAN again, after it was seen down (ms) */
  tunnelRestoredMs?: number;
  /** data-plane probe (ping every 10 ms through the tunnel, lab clock): the gap around the fault */
  outageMs?: number;
  outages?: Outage[];
  probe?: Omit<ProbeReport, 'outages'> & { error?: string };
  /** lab-clock time of the fault each figure counts from: the last inject before the effect */
  takeoverFaultAt?: number;
  outageFaultAt?: number;
  tunnelSeenDown: boolean;
  /** time with both nodes MASTER per keepalived's logs (ms), and whether samples saw two VIP holders */
  splitBrainMs: number;
  splitBrainLongestMs: number;
  splitBrainSampled: boolean;
  /** both MASTER for less than the tolerance: a normal handover, not counted as split brain */
  handoverOverlapMs: number;
  splitBrainToleranceMs: number;
  /** duplicate ARP claims for the VIP seen from the client's segment */
  arp?: ArpReport;
  authFailures: Record<string, number>;
  finalHolder?: string;
  sessionNode?: string;
  /** how the figures were taken, for readers of the numbers */
  resolution: { vrrp: string; tunnel: string; probe?: string };
}

export interface ScenarioResult {
  schema: 'vipdrill.result/1';
  scenario: string;
  description: string;
  file: string;
  repeat: number;
  repeats: number;
  lab: string;
  engine: EngineInfo;
  profile: string;
  topology: string;
  verdict: Verdict;
  reason?: string;
  startedAt: string;
  labStart: number;
  labEnd: number;
  durationMs: number;
  holderAtStart?: string;
  holderAtFault?: string;
  firstFaultAt?: number;
  /** the stability gate's calm window before the first fault */
  calm?: CalmWindow;
  /** the hosts' agents' scheduling lag from the first fault to the end: a starved host is named */
  starvation?: Starvation;
  /** what the hosts' agents pushed during the run (VRRP lines, daemon starts and exits, lag), host clock */
  hostEvents?: HostEvent[];
  /** lab round trips (agent requests, container look-ups) this repeat took */
  roundTrips?: number;
  metrics: RunMetrics;
  expectations: ExpectationResult[];
  invariants: Invariant[];
  vrrp: VrrpTransition[];
  events: RunEvent[];
}

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
}


/** Faults that take a whole node out: its VRRP state ends with them (keepalived logs nothing). */
const CONTAINER_FAULTS = new Set<string>(['node-crash', 'node-stop', 'node-freeze']);

interface Registered {
  fault: PlannedFault;
  revert: () => Promise<void>;
  /** aborts the timed revert of a fault with a duration */
  timer?: AbortController;
}

/**
 * Run one scenario once against a lab at its baseline: inject, wait, check, heal; always a final heal
 * (every revert, registered before its inject, runs even when a step failed); then the lab must be
 * back at baseline with no vipdrill rule left. Figures come from the lab's clock and keepalived's logs.
 */
export async function runScenario(engine: Engine, lab: LabContext, sc: Scenario, o: RunOptions): Promise<ScenarioResult> {
  if (o.hosts) return runWithHosts(engine, lab, sc, o, o.hosts);
  const hosts = new LabHosts(engine, lab);
  try {
    return await runWithHosts(engine, lab, sc, o, hosts);
  } finally {
    hosts.release();
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
    progress.step(`${kind.padEnd(12)} ${message}`);
  };
  const baselineTimeoutMs = o.baselineTimeoutMs ?? 240_000;
  const tunnelSamples: { t: number; up: boolean }[] = [];
  const samples: Sample[] = [];
  const ctx: ConditionContext & { tunnelIpAtStart?: string } = { holderAtStart: '', authBaseline: new Map() };
  const check = async (c: Condition) => {
    const r = await evaluate(hosts, c, ctx);
    if (r.sample) {
      samples.push(r.sample);
      if (r.sample.client) tunnelSamples.push({ t: r.sample.t, up: r.sample.client.lanReachable });
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

  // the data-plane probes run for the whole run (client -> LAN host, LAN host -> client); a probe that
  // cannot start is noted, not fatal
  const tag = `${sc.name}-${o.repeat}`;
  const probeErrors: Partial<Record<'forward' | 'reverse', string>> = {};
  const probes: ProbeHandle[] = [];
  const tunnelIp = ctx.tunnelIpAtStart;
  for (const [direction, h, target] of [['forward', 'client', lab.topology.lanhost.lan], ['reverse', 'lanhost', tunnelIp]] as const) {
    try {
      if (!target) throw new Error('the client had no tunnel address at the start');
      const p = await startProbe(hosts, h, target, tag, direction);
      probes.push(p);
      emit('probe', `${direction} probe: ${direction === 'forward' ? 'client' : 'LAN host'} pings ${target} through the tunnel every ${p.intervalMs} ms (agent recorder ${p.tag})`, await labNow(h));
    } catch (e) {
      probeErrors[direction] = errorMessage(e);
      emit('probe', `${direction} probe unavailable: ${probeErrors[direction]}`);
    }
  }
  const finishProbes = async (): Promise<Partial<Record<'forward' | 'reverse', ProbeReport>>> => {
    const out: Partial<Record<'forward' | 'reverse', ProbeReport>> = {};
    for (const p of probes.splice(0)) {
      try {
        const raw = await stopProbe(hosts, p);
        // (debugging aid: keep the raw ping logs; a directory that cannot be written must not cost the probe)
        const keep = process.env.VIPDRILL_KEEP_PROBE_LOGS;
        if (keep) {
          try {
            fs.mkdirSync(keep, { recursive: true });
            fs.writeFileSync(path.join(keep, `${sc.name}-${p.direction}-${Date.now()}.log`), raw);
          } catch (e) {
            emit('probe', `could not keep the ${p.direction} probe log in ${keep}: ${errorMessage(e)}`);
          }
        }
        out[p.direction] = parseProbe(raw, p.intervalMs, p.direction, p.target);
      } catch (e) {
        probeErrors[p.direction] = errorMessage(e);
      }
    }
    return out;
  };
  // ARP claims for the VIP on the client's segment, and the nodes' MACs to name them
  let arpWatch: ArpWatch | undefined;
  let macs: Record<string, string> = {};
  try {
    macs = await nodeWanMacs(hosts);
    arpWatch = await startArpWatch(hosts, 'client', await clientWanDev(hosts), tag);
  } catch (e) {
    emit('probe', `ARP watch unavailable: ${errorMessage(e)}`);
  }
  // routing symmetry: counter snapshots at every step boundary; sessions per node before the faults
  const snapshots: CounterSnapshot[] = [await readCounters(hosts, 'start')];
  const sessionsBefore = await sessionCounts(hosts);
  const snapshot = async (label: string) => {
    snapshots.push(await readCounters(hosts, label).catch(() => ({ t: lastT, label, nodes: {} })));
  };

  // 2. the timeline
  const registered = new Map<string, Registered>();
  /** lab-clock times of every inject: figures count from the last inject before the effect */
  const injections: number[] = [];
  const containerEvents: VrrpTransition[] = [];
  const blackouts: NonNullable<PlannedFault['window']>[] = [];
  const pendingErrors: string[] = [];
  let failure: string | undefined;
  let error: string | undefined;
  const heal = async (id: string) => {
    const r = registered.get(id);
    if (!r) return;
    registered.delete(id);
    r.timer?.abort();
    await r.revert();
  };

  const runStep = async (st: Step, i: number) => {
    if ('fault' in st) {
      const first = injections.length === 0;
      if (first) {
        // the stability gate: a calm window first, and the holder still the baseline's
        const requiredMs = calmWindowMs(lab.topology, lab.profile);
        const calm = await awaitCalm(hosts, {
          requiredMs,
          maxWaitMs: Math.max(30_000, 10 * requiredMs),
          since: result.labStart,
          tunnelOk: async () => (await sample(hosts, 'lan')).client?.lanReachable === true,
          clock,
          ...(signal ? { signal } : {}),
          onWait: (why) => progress.detail(`  waiting for a calm lab before the fault: ${why}`),
        });
        result.calm = calm;
        emit('calm', `calm for ${formatMs(requiredMs)} (3 × master down, at least 2 s) after waiting ${formatMs(calm.waitedMs)}: no VRRP transition, agents at most ${formatMs(calm.lagMaxMs)} late`, calm.to, { data: { ...calm } });
      }
      // master/backup from the states the agents pushed last, at this moment
      const pushed = hosts.pushedHolder();
      const states = Object.entries(pushed.states).map(([n, x]) => `${n}=${x}`).join(' ');
      if (!pushed.holder) throw new UnstableLabError(`cannot resolve master/backup for the fault: pushed VRRP states ${states}. No fault was injected.`);
      if (first && pushed.holder !== ctx.holderAtStart) throw new UnstableLabError(`the VIP holder changed since the baseline (${ctx.holderAtStart} then, ${pushed.holder} now: ${states}). No fault was injected.`);
      const master = pushed.holder;
      const backup = hosts.nodes.find((n) => n !== master) as Host;
      const id = st.id ?? `step${i}`;
      const fault = planFault({ engine, lab, master, backup, id: `vipdrill-${id}`, now: (h) => hosts.host(h).now() }, st);
      let reverted = false;
      const revert = async () => {
        if (reverted) return;
        reverted = true;
        const at = await fault.revert();
        if (CONTAINER_FAULTS.has(fault.kind)) containerEvents.push({ t: at, node: fault.targets[0]!, state: 'RESUMED', source: 'runner' });
        emit('fault.revert', `${id}: reverted (${fault.describe})`, at, { step: i, data: { id, kind: fault.kind } });
      };
      // the revert is registered before the inject: a failed or interrupted inject still gets healed
      registered.set(id, { fault, revert });
      const times = st.flap?.times ?? 1;
      for (let k = 0; k < times; k++) {
        reverted = false;
        const at = await fault.inject();
        result.firstFaultAt ??= at;
        injections.push(at);
        ctx.holderAtFault ??= master;
        result.holderAtFault ??= master;
        if (CONTAINER_FAULTS.has(fault.kind)) containerEvents.push({ t: at, node: fault.targets[0]!, state: fault.kind === 'node-freeze' ? 'FROZEN' : 'DOWN', source: 'runner' });
        // a keepalived that is killed writes no last state line: its VRRP state ends with it
        if (st.fault === 'kill-daemon' && st.daemon === 'keepalived' && fault.targets[0] !== 'client') containerEvents.push({ t: at, node: fault.targets[0]!, state: 'STOPPED', source: 'runner' });
        emit('fault.inject', `${id}: ${fault.describe}${times > 1 ? ` (flap ${k + 1}/${times})` : ''}${st.for === 'until-healed' ? ', until healed' : `, for ${formatMs(st.for)}`}`, at, { step: i, data: { id, kind: fault.kind, targets: fault.targets, master, backup } });
        if (st.flap) {
          await sleep(st.for as number);
          await revert();
          if (k < times - 1) await sleep(st.flap.up);
        }
      }
      if (fault.window) {
        // timed inside the lab: it is over when inject returns; its rules go now
        registered.delete(id);
        await fault.revert();
        const w = fault.window;
        emit('fault.revert', `${id}: blackout lifted after ${formatMs(w.appliedMs)} (nominal ${formatMs(w.nominalMs)}, ±${w.uncertaintyMs.toFixed(1)} ms, lab-timed)`, w.off, { step: i, data: { id, kind: fault.kind, window: w } });
        blackouts.push(w);
      } else if (st.flap) registered.delete(id);
      else if (st.for !== 'until-healed') {
        // reverted after its duration on the run's clock, unless a heal came first
        const r = registered.get(id)!;
        const timer = new AbortController();
        r.timer = timer;
        clock.sleep(st.for, timer.signal).then(
          () => {
            if (registered.get(id) !== r) return;
            registered.delete(id);
            r.revert().catch((e: unknown) => pendingErrors.push(`revert of ${id} failed: ${errorMessage(e)}`));
          },
          () => {},
        );
      }
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
      const ids = st.heal === 'all' ? [...registered.keys()].reverse() : [st.heal];
      for (const id of ids) await heal(id);
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
    // final heal: every fault still registered, newest first; all are attempted
    const ids = [...registered.keys()].reverse();
    for (const id of ids) await heal(id).catch((e: unknown) => pendingErrors.push(`final heal of ${id} failed: ${errorMessage(e)}`));
    emit('heal.final', `final heal: ${ids.length > 0 ? ids.join(', ') : 'nothing left to revert'}`, await labNow('client').catch(() => lastT));
  }
  if (pendingErrors.length > 0) {
    error ??= pendingErrors.join('; ');
    emit('error', pendingErrors.join('; '));
  }

  // 3. back at baseline, nothing of vipdrill's left (interrupted runs skip the wait: healed is enough)
  let end: Sample | undefined;
  const stopWatchers = async () => {
    const reports = await finishProbes();
    const arpText = arpWatch ? await stopArpWatch(hosts, arpWatch).catch(() => '') : '';
    arpWatch = undefined;
    return { reports, arpText };
  };
  if (signal?.aborted) {
    await stopWatchers();
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
  const sessionsAfter = await sessionCounts(hosts).catch(() => ({}));
  const { reports: probeReports, arpText } = await stopWatchers();

  // invariants: exactly one VIP holder, the client's tunnel up, no vipdrill rule or process left
  const left = await leftovers(hosts).catch((e: unknown) => ({ rules: [`(could not check: ${errorMessage(e)})`], processes: [`(could not check: ${errorMessage(e)})`] }));
  const procs = left.processes;
  const last = end ?? (await sample(hosts, 'lan').catch(() => undefined));
  result.invariants = [
    { name: 'single-vip-holder', ok: last?.holders.length === 1, detail: last ? `VIP held by ${last.holders.join(', ') || 'nobody'}` : 'the lab could not be sampled' },
    { name: 'client-tunnel-up', ok: last?.client?.lanReachable === true, detail: last?.client ? (last.client.lanReachable ? 'the client reaches the LAN through the tunnel' : 'the client does not reach the LAN') : 'the client could not be sampled' },
    { name: 'no-vipdrill-rule-left', ok: left.rules.length === 0, detail: left.rules.length === 0 ? 'no vipdrill nft table or netem qdisc in any container' : `left on ${left.rules.join(', ')}` },
    { name: 'no-fault-process-left', ok: procs.length === 0, detail: procs.length === 0 ? 'no probe, capture or fault process of vipdrill running' : procs.join('; ') },
  ];
  const broken = result.invariants.filter((x) => !x.ok && x.name !== 'single-vip-holder' && x.name !== 'client-tunnel-up');
  if (broken.length > 0) {
    error ??= broken.map((x) => `invariant ${x.name}: ${x.detail}`).join('; ');
    emit('error', error);
  }

  // 4. figures
  const vrrp: VrrpTransition[] = [...containerEvents];
  const vrrpLogs = await Promise.all(hosts.nodes.map((n) => hosts.host(n).logWindow('vrrp.log', 0, Infinity).catch(() => undefined)));
  for (const [k, n] of hosts.nodes.entries()) {
    const text = vrrpLogs[k];
    if (text === undefined) continue;
    const all = parseVrrpLog(text, n);
    // the state each node was in when the run started, then everything during the run
    const before = all.filter((x) => x.t < result.labStart).at(-1);
    vrrp.push(...(before ? [before] : []), ...all.filter((x) => x.t >= result.labStart));
  }
  vrrp.sort((x, y) => x.t - y.t);
  result.vrrp = vrrp;
  result.labEnd = end?.t ?? lastT;
  const m = result.metrics;
  const nodes = Object.keys(lab.topology.nodes) as [string, string];
  const toleranceMs = splitBrainToleranceMs(lab.profile.vrrp.advertInt);
  const sb = splitBrain(vrrp, nodes, result.labStart, result.labEnd, toleranceMs);
  m.splitBrainMs = sb.totalMs;
  m.handoverOverlapMs = sb.handoverMs;
  m.splitBrainToleranceMs = toleranceMs;
  m.splitBrainLongestMs = sb.longestMs;
  // two VIP holders in two samples in a row (one sample can catch a handover in flight)
  m.splitBrainSampled = samples.some((s, k) => k > 0 && s.holders.length > 1 && samples[k - 1]!.holders.length > 1);
  if (arpText || Object.keys(macs).length > 0) m.arp = parseArp(arpText, lab.topology.vips.wan, macs);
  // the fault that caused an effect is the last one injected before it (a scenario may first plant a
  // wrong secret, then crash the master: the takeover counts from the crash)
  const cause = (t: number) => injections.filter((x) => x <= t).at(-1) ?? result.firstFaultAt!;
  if (result.firstFaultAt !== undefined && result.holderAtFault) {
    const tk = vipTakeoverMs(vrrp, result.holderAtFault, result.firstFaultAt);
    if (tk) {
      const from = cause(result.firstFaultAt + tk.ms / 1000);
      const notifyMs = tk.ms - (from - result.firstFaultAt) * 1000;
      m.newHolder = tk.node;
      m.takeoverFaultAt = from;
      // keepalived's own "Entering MASTER STATE" line is the transition itself; the notify fifo line
      // comes after the VIPs were added (a pipeline ~150 ms long under TCG, found by calibration)
      const lines = await keepalivedMasterLines(hosts, tk.node, from - 0.001, result.labEnd).catch(() => []);
      const logMs = lines[0] !== undefined && lines[0] <= from + notifyMs / 1000 + 0.001 ? (lines[0] - from) * 1000 : undefined;
      m.vipTakeoverMs = logMs ?? notifyMs;
      const prio = lab.topology.nodes[tk.node]?.priority ?? 100;
      const adv = lab.profile.vrrp.advertInt;
      const skew = lab.profile.vrrp.version === 3 ? ((256 - prio) * adv) / 256 : (256 - prio) / 256;
      const wire = m.arp?.claims.find((c) => c.node === tk.node && c.t >= from);
      m.takeoverCheck = { node: tk.node, notifyMs, ...(logMs !== undefined ? { keepalivedLogMs: logMs } : {}), ...(wire ? { wireMs: (wire.t - from) * 1000 } : {}), expectedMs: (3 * adv + skew) * 1000 };
      m.resolution.vrrp = logMs !== undefined ? 'keepalived\'s own state line (stamped with the lab clock as it is written, µs); the notify fifo line as cross-check' : 'keepalived notify_fifo line stamped with the lab clock (µs)';
    }
    const tr = tunnelRestored(tunnelSamples, result.firstFaultAt);
    m.tunnelSeenDown = tr.downAt !== undefined;
    if (tr.downAt !== undefined && tr.upAt !== undefined) {
      const from = cause(tr.downAt);
      m.tunnelRestoredMs = (tr.upAt - from) * 1000;
      m.outageFaultAt = from;
    }
  }
  const fwd = probeReports.forward;
  let outage: Outage | undefined;
  const seenDownAt = result.firstFaultAt !== undefined ? tunnelRestored(tunnelSamples, result.firstFaultAt).downAt : undefined;
  const revertAfter = (t: number) => events.filter((e) => e.kind === 'fault.revert' && e.t > t).map((e) => e.t).sort((x, y) => x - y)[0];
  if (fwd) {
    const { outages, ...rest } = fwd;
    m.probe = rest;
    m.outages = outages;
    m.probeIntervalMs = fwd.achievedIntervalMs ?? fwd.intervalMs;
    const from = m.outageFaultAt ?? m.takeoverFaultAt ?? result.firstFaultAt;
    outage = from !== undefined ? faultOutage(fwd.outages, from, seenDownAt, revertAfter(from)) : undefined;
    if (outage) {
      m.outageMs = outage.ms;
      m.outageFaultAt ??= cause(outage.from + 0.001);
    }
  } else m.probe = { direction: 'forward', target: lab.topology.lanhost.lan, intervalMs: 5, sent: 0, received: 0, lostOutsideOutages: 0, stalls: [], thresholdMs: 0, error: probeErrors.forward ?? 'not run' };
  const rev = probeReports.reverse;
  if (rev) {
    m.reverseProbe = rev;
    const from = m.outageFaultAt ?? result.firstFaultAt;
    const o = from !== undefined ? faultOutage(rev.outages, from, seenDownAt, revertAfter(from)) : undefined;
    if (o) m.reverseOutageMs = o.ms;
  } else m.reverseProbe = { direction: 'reverse', target: ctx.tunnelIpAtStart ?? '', intervalMs: 5, sent: 0, received: 0, lostOutsideOutages: 0, outages: [], stalls: [], thresholdMs: 0, error: probeErrors.reverse ?? 'not run' };

  // the reconnect, phase by phase, from the client's daemons' logs
  const faultAt = m.outageFaultAt ?? m.takeoverFaultAt ?? result.firstFaultAt;
  // one read of the client's logs from the fault to the end serves the phases and the session check
  const cl = faultAt !== undefined ? await clientLogs(hosts, faultAt - 1, Math.max(result.labEnd, (outage?.to ?? 0) + 1)).catch(() => []) : [];
  if (faultAt !== undefined && outage) {
    const p = lab.profile;
    const hint = `DPD every ${p.ike.dpdDelay} s, timeout ${p.ike.dpdTimeout} s; LCP echo every ${p.ppp.lcpEchoInterval} s × ${p.ppp.lcpEchoFailure}; xl2tpd max retries ${p.l2tp.maxRetries}, redial ${p.l2tp.redialTimeout} s`;
    const vipMoves = vrrp.filter((v) => v.source === 'keepalived' && v.state === 'MASTER' && v.t >= faultAt).map((v) => ({ t: v.t, node: v.node }));
    m.reconnect = decomposeReconnect(cl, faultAt, outage.to, hint, vipMoves);
    m.phasesMs = m.reconnect.phasesMs;
    m.reconnectMs = m.reconnect.reconnectMs;
    for (const ms of m.reconnect.milestones.filter((x) => x.name !== 'fault' && x.name !== 'firstPacket')) {
      emit('phase', `${ms.name}: ${ms.source}: ${ms.line ?? ''}`, ms.t, { data: { phase: ms.name } });
    }
    emit('phase', `firstPacket: the first probe through after the outage (reconnect ${formatMs(m.reconnectMs ?? 0)})`, outage.to, { data: { phase: 'firstPacket' } });
  }

  // sessions: who answered CHAP after the fault, the client's new address, pppd's accounting lines
  const ppp = await nodePppLines(hosts, result.labStart, result.labEnd).catch(() => []);
  const after = faultAt ?? Infinity;
  // the node's pppd requires CHAP (auth, require-chap) and logs no success line of its own: IPCP
  // completing on it ("remote IP address") after the fault is the re-authentication
  const reauth = ppp.find((x) => x.line.t >= after && /CHAP peer authentication succeeded|remote IP address/.test(x.line.text));
  const addr = cl.find((l) => l.t >= after && l.source === 'pppd' && /local +IP address/.test(l.text));
  m.sessions = {
    before: sessionsBefore,
    after: sessionsAfter,
    ...(reauth ? { reauthOn: reauth.node, reauthAt: reauth.line.t } : {}),
    ...(addr ? { clientAddress: /local +IP address (\S+)/.exec(addr.text)![1]! } : {}),
    accounting: ppp.filter((x) => /Connect time|Sent \d+ bytes/.test(x.line.text)).map((x) => ({ node: x.node, t: x.line.t, line: x.line.text })),
  };

  // routing symmetry from the nodes' counters
  // a window with a VRRP change, or in which the client's tunnel was sampled down, holds a handover in
  // flight (a failback's reconnect runs on after the VRRP change): not judged
  const inFlight = [...vrrp.filter((v) => v.t >= result.labStart).map((v) => v.t), ...tunnelSamples.filter((x) => !x.up).map((x) => x.t)];
  const sym = judgeSymmetry(snapshots, inFlight);
  m.symmetry = sym;
  m.routingSymmetric = sym.symmetric;

  // calibration against a known truth
  if (sc.expect.calibrate === 'outage') {
    const w = blackouts.at(-1);
    // the gap that overlaps the blackout window the most
    const overlap = (g: Outage) => (w ? Math.min(g.to, w.off) - Math.max(g.from, w.on) : 0);
    const o = w && fwd ? fwd.outages.filter((g) => overlap(g) > 0).sort((x, y) => overlap(y) - overlap(x))[0] : undefined;
    if (w && o) {
      // "one probe interval": the spacing of the probes where the outage's edges are. ping keeps 5 ms
      // while replies come back, but waits 10 ms (iputils' MIN_INTERVAL_MS; 10-20 ms under emulation)
      // while one is outstanding, and may stall as the fault lands: the edges are as wide as that, and
      // the outage's own resolution (half the two edges' widths; one interval for a regular probe) says so
      const res = Math.max(m.probeIntervalMs ?? 5, o.resolutionMs ?? 0);
      const tol = res + 5;
      const err = o.ms - w.appliedMs;
      // the truth is itself known to ±uncertainty (the brackets around the two commits): judged against both
      const ok = Math.abs(err) <= tol + w.uncertaintyMs;
      m.calibration = {
        kind: 'outage',
        truthMs: w.appliedMs,
        truthUncertaintyMs: w.uncertaintyMs,
        measuredMs: o.ms,
        errorMs: err,
        toleranceMs: tol,
        ...(o.resolutionMs !== undefined ? { resolutionMs: o.resolutionMs } : {}),
        ok,
        detail: `blackout applied ${formatMs(w.appliedMs)} (±${w.uncertaintyMs.toFixed(1)} ms), probe measured ${formatMs(o.ms)} (±${res.toFixed(1)} ms: ${edgeWords(o, m.probeIntervalMs)}): error ${err.toFixed(1)} ms, tolerance ±${tol.toFixed(1)} ms (the probe's resolution + 5 ms)${w.uncertaintyMs > 1 ? ` + ${w.uncertaintyMs.toFixed(1)} ms of the truth's own uncertainty` : ''}`,
      };
    }
  } else if (sc.expect.calibrate === 'takeover' && m.takeoverCheck?.keepalivedLogMs !== undefined) {
    // keepalived's log line against the wire: the new holder's first ARP claim seen by the client,
    // which keepalived sends between its state line and its notify fifo line
    const t = m.takeoverCheck;
    const j = judgeTakeover({ ...t, keepalivedLogMs: t.keepalivedLogMs! });
    m.calibration = { kind: 'takeover', truthMs: t.keepalivedLogMs!, measuredMs: t.wireMs ?? NaN, errorMs: j.errorMs, toleranceMs: j.toleranceMs, pipelineMs: j.pipelineMs, ok: j.ok, detail: j.detail };
  }

  if (sc.expect.calibrate === 'calm' && fwd) {
    const iv = m.probeIntervalMs ?? fwd.intervalMs;
    const out = fwd.outages.length;
    m.calibration = { kind: 'calm', truthMs: 10, measuredMs: iv, errorMs: iv - fwd.intervalMs, toleranceMs: 10 - fwd.intervalMs, ok: iv <= 10 && out === 0 && fwd.lostOutsideOutages === 0, detail: `${fwd.sent} probes over ${formatMs(((fwd.lastReply ?? 0) - (fwd.firstReply ?? 0)) * 1000)}: achieved interval ${iv.toFixed(2)} ms (nominal ${fwd.intervalMs} ms, limit 10 ms), ${out} outage(s), ${fwd.lostOutsideOutages} lost, ${fwd.stalls.length} stall(s) of the prober (longest ${formatMs(Math.max(0, ...fwd.stalls.map((x) => x.gapMs)))}, nothing lost); reverse: ${rev ? `${(rev.achievedIntervalMs ?? rev.intervalMs).toFixed(2)} ms, ${rev.outages.length} outage(s), ${rev.lostOutsideOutages} lost` : 'none'}` };
  }
  const gaps = tunnelSamples.slice(1).map((s, k) => (s.t - tunnelSamples[k]!.t) * 1000);
  m.resolution.tunnel = gaps.length > 0 ? `client tunnel sampled by ping through ppp, median interval ${formatMs([...gaps].sort((a, b) => a - b)[Math.floor(gaps.length / 2)]!)}` : 'client tunnel not sampled';
  m.resolution.probe = m.probeIntervalMs !== undefined ? `ping every ${fwd?.intervalMs} ms (achieved ${m.probeIntervalMs.toFixed(2)} ms), send times from ping's own -D stamps less the round trip; while a probe is unanswered ping waits ${fwd?.lossSpacingMs !== undefined ? `${fwd.lossSpacingMs.toFixed(1)} ms or more` : 'at least 10 ms'} before the next (iputils' MIN_INTERVAL_MS); outage = middle of its start edge (last reply back, first lost probe out) to middle of its end edge (last lost probe out, first probe through), each ± half its width` : 'no probe';
  const auth = await authFailureCounts(hosts).catch(() => new Map<string, number>());
  for (const [k, n] of auth) {
    const d = n - (ctx.authBaseline.get(k) ?? 0);
    if (d > 0) m.authFailures[k] = d;
  }
  if (end) {
    m.finalHolder = end.holders[0];
    m.sessionNode = sessionNode(end, sessionsAfter);
  }

  // the hosts' own record of the run, and whether they were starved while it mattered
  result.hostEvents = hosts.events(result.labStart, result.labEnd + 1);
  if (result.firstFaultAt !== undefined) result.starvation = starvation(result.hostEvents, result.firstFaultAt, result.labEnd);
  result.roundTrips = hosts.roundTrips - roundTrips0;

  // 5. expectations
  result.expectations = judge(sc, result, hosts.nodes);
  const failed = result.expectations.filter((x) => !x.ok);
  if (error) {
    result.verdict = 'error';
    result.reason = error;
  } else if ((failure || failed.length > 0) && result.starvation?.starved) {
    // a starved lab cannot fail an expectation: what it measured is the starvation's
    result.verdict = 'error';
    result.reason = `${result.starvation.detail}; not judged: ${failure ?? failed.map((x) => `${x.name}: ${x.detail}`).join('; ')}`;
  } else if (failure || failed.length > 0) {
    result.verdict = 'failed';
    result.reason = failure ?? failed.map((x) => `${x.name}: ${x.detail}`).join('; ');
  } else result.verdict = 'passed';
  result.durationMs = performance.now() - started;
  emit('run.end', `${result.verdict}${result.reason ? `: ${result.reason}` : ''}`, result.labEnd);
  // one stream in lab-clock order (a timed revert may report after a step that it preceded)
  events.sort((x, y) => x.t - y.t || x.seq - y.seq).forEach((e, k) => (e.seq = k));
  return result;
}

/** Restart xl2tpd on the nodes and charon + xl2tpd on the client: a fresh dial, as after a reboot. */
async function resetTunnel(hosts: LabHosts): Promise<void> {
  for (const n of hosts.nodes) await hosts.host(n).act('restart-daemon', { daemon: 'xl2tpd' });
  await hosts.host('client').act('restart-daemon', { daemon: 'xl2tpd' });
  await hosts.host('client').act('restart-daemon', { daemon: 'charon' });
}

/**
 * The outage the fault caused, among every gap of the probe: the gap in which sampling saw the tunnel
 * down while the fault was active, else the longest gap that began while it was active (a loaded lab has
 * short blips; the first gap after the fault is not always the fault's). A gap that began after the
 * fault was reverted is a consequence of the revert (a crashed master returning and preempting: the
 * failback), listed with the others but not the fault's; only when no gap began while the fault was
 * active is the gap sampling saw down, or the longest after, taken.
 */
export function faultOutage(gaps: Outage[], faultAt: number, seenDownAt?: number, revertAt?: number): Outage | undefined {
  const end = revertAt ?? Infinity;
  const longest = (xs: Outage[]) => xs.reduce<Outage | undefined>((a, b) => (!a || b.gapMs > a.gapMs ? b : a), undefined);
  const seen = (xs: Outage[]) => (seenDownAt !== undefined ? xs.find((o) => o.from <= seenDownAt && o.to >= seenDownAt) : undefined);
  const active = gaps.filter((o) => o.to > faultAt && o.from <= end);
  if (active.length > 0) return (seenDownAt !== undefined && seenDownAt <= end ? seen(active) : undefined) ?? longest(active);
  return seen(gaps) ?? longest(gaps.filter((o) => o.to > faultAt));
}

/** Overlaps shorter than three adverts (at least 500 ms) are a handover, not a split brain. */
export function splitBrainToleranceMs(advertIntSeconds: number): number {
  return Math.max(500, 3 * advertIntSeconds * 1000);
}

function judge(sc: Scenario, r: ScenarioResult, nodes: string[]): ExpectationResult[] {
  const x = sc.expect;
  const m = r.metrics;
  const out: ExpectationResult[] = [];
  const add = (name: string, expected: string, actual: string, ok: boolean) => out.push({ name, ok, detail: `expected ${expected}, got ${actual}`, expected, actual });
  const who = (w: string) => (w === 'original' ? r.holderAtStart : w === 'other' ? nodes.find((n) => n !== r.holderAtStart) : w);
  if (x.vipMoved !== undefined) add('vipMoved', String(x.vipMoved), m.newHolder ? `true (to ${m.newHolder})` : 'false', (m.newHolder !== undefined) === x.vipMoved);
  if (x.vipTakeover) add('vipTakeover', `<= ${formatMs(x.vipTakeover.max)}`, m.vipTakeoverMs !== undefined ? formatMs(m.vipTakeoverMs) : 'the VIP never moved', m.vipTakeoverMs !== undefined && m.vipTakeoverMs <= x.vipTakeover.max);
  if (x.tunnelRestored) {
    const actual = !m.tunnelSeenDown ? 'no outage seen by sampling' : m.tunnelRestoredMs !== undefined ? formatMs(m.tunnelRestoredMs) : 'not restored';
    add('tunnelRestored', `<= ${formatMs(x.tunnelRestored.max)}`, actual, !m.tunnelSeenDown || (m.tunnelRestoredMs !== undefined && m.tunnelRestoredMs <= x.tunnelRestored.max));
  }
  if (x.outage) {
    const o = m.outageMs;
    const probeOk = m.probe !== undefined && m.probe.error === undefined;
    const actual = !probeOk ? `no probe (${m.probe?.error ?? 'not run'})` : o === undefined ? 'no outage' : formatMs(o);
    const passed = probeOk && (o === undefined ? x.outage.min === 0 : o >= x.outage.min && o <= x.outage.max);
    add('outage', `${x.outage.min > 0 ? `>= ${formatMs(x.outage.min)} and ` : ''}<= ${formatMs(x.outage.max)}`, actual, passed);
  }
  if (x.probeLoss) {
    const p = m.probe;
    const ok = p !== undefined && p.error === undefined;
    add('probeLoss', `<= ${x.probeLoss.max} probes lost outside outages`, ok ? `${p.lostOutsideOutages} of ${p.sent} lost, ${m.outages?.length ?? 0} outage(s), achieved interval ${m.probeIntervalMs?.toFixed(2)} ms` : 'no probe', ok && p.lostOutsideOutages <= x.probeLoss.max);
  }
  if (x.splitBrain) {
    const seen = m.splitBrainMs > 0 || m.splitBrainSampled;
    add('splitBrain', x.splitBrain, seen ? `detected (${formatMs(m.splitBrainMs)} with both MASTER${m.splitBrainSampled ? ', two VIP holders sampled' : ''})` : 'none', seen === (x.splitBrain === 'detected'));
  }
  if (x.finalHolder) add('finalHolder', `${x.finalHolder} (${who(x.finalHolder)})`, m.finalHolder ?? 'no single holder', m.finalHolder === who(x.finalHolder));
  if (x.authFailure) {
    const seen = Object.keys(m.authFailures).length > 0;
    add('authFailure', x.authFailure, seen ? `detected (${Object.entries(m.authFailures).map(([k, n]) => `${n} on ${k}`).join(', ')})` : 'none', seen === (x.authFailure === 'detected'));
  }
  if (x.routing) {
    const s = m.routingSymmetric;
    add('routing', x.routing, s === null || s === undefined ? `undecided (${m.symmetry?.evidence ?? 'no counters'})` : `${s ? 'symmetric' : 'asymmetric'} (${m.symmetry!.evidence})`, s !== null && s !== undefined && s === (x.routing === 'symmetric'));
  }
  if (x.reauthenticated !== undefined) {
    const se = m.sessions;
    const did = se?.reauthOn !== undefined && se.reauthOn === m.newHolder && se.clientAddress !== undefined;
    add('reauthenticated', x.reauthenticated ? `CHAP on the new holder and an address` : 'no new authentication', se?.reauthOn ? `CHAP answered by ${se.reauthOn}${se.clientAddress ? `, client got ${se.clientAddress}` : ', no address'}` : 'no CHAP after the fault', did === x.reauthenticated);
  }
  if (x.calibrate) {
    const c = m.calibration;
    add('calibrate', `${x.calibrate} measured within its tolerance of the truth`, c ? c.detail : 'nothing to calibrate against (no blackout or no keepalived log line)', c?.ok === true);
  }
  if (x.sessionOn) add('sessionOn', `${x.sessionOn} (${who(x.sessionOn)})`, m.sessionNode ?? 'no session', m.sessionNode === who(x.sessionOn));
  return out;
}
