import { errorMessage, TimeoutError } from '../errors.js';
import { planFault } from '../faults/catalog.js';
import { container, labNow } from '../faults/lab-shell.js';
import type { Host, PlannedFault } from '../faults/types.js';
import type { Engine, EngineInfo } from '../lab/engine.js';
import type { LabContext } from '../lab/lab.js';
import type { Condition, Scenario, Step } from '../scenario/schema.js';
import type { Progress } from '../util/progress.js';
import { formatMs, systemClock, waitFor } from '../util/time.js';
import { outageAfter, parseProbe, startProbe, stopProbe, type Outage, type ProbeHandle, type ProbeReport } from './dataplane.js';
import { parseVrrpLog, splitBrain, tunnelRestored, vipTakeoverMs, type VrrpTransition } from './metrics.js';
import { authFailureCounts, describeSample, evaluate, leftoverFaultTables, sample, sessionNode, type ConditionContext, type Sample } from './observe.js';

export type EventKind = 'run.start' | 'baseline.ok' | 'probe' | 'fault.inject' | 'fault.revert' | 'wait.ok' | 'wait.timeout' | 'check.pass' | 'check.fail' | 'sleep' | 'heal' | 'heal.final' | 'error' | 'run.end';

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
  expected: string;
  actual: string;
  passed: boolean;
}

export interface RunMetrics {
  /** the fault -> new holder's MASTER line in keepalived's log (ms) */
  vipTakeoverMs?: number;
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
  authFailures: Record<string, number>;
  finalHolder?: string;
  sessionNode?: string;
  /** how the figures were taken, for readers of the numbers */
  resolution: { vrrp: string; tunnel: string };
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
  metrics: RunMetrics;
  expectations: ExpectationResult[];
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
}


/** Faults that take a whole node out: its VRRP state ends with them (keepalived logs nothing). */
const CONTAINER_FAULTS = new Set<string>(['node-crash', 'node-stop', 'node-freeze']);

interface Registered {
  fault: PlannedFault;
  revert: () => Promise<void>;
  timer?: NodeJS.Timeout;
}

/**
 * Run one scenario once against a lab at its baseline: inject, wait, check, heal; always a final heal
 * (every revert, registered before its inject, runs even when a step failed); then the lab must be
 * back at baseline with no vipdrill rule left. Figures come from the lab's clock and keepalived's logs.
 */
export async function runScenario(engine: Engine, lab: LabContext, sc: Scenario, o: RunOptions): Promise<ScenarioResult> {
  const progress = o.progress;
  const signal = o.signal;
  const sleep = (ms: number) => systemClock.sleep(ms, signal);
  const events: RunEvent[] = [];
  const started = performance.now();
  const clientC = container(lab, 'client');
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
  const ctx: ConditionContext = { holderAtStart: '', authBaseline: new Map() };
  const check = async (c: Condition) => {
    const r = await evaluate(engine, lab, c, ctx);
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
    vrrp: [],
    events,
  };

  // 1. baseline
  try {
    const b = await waitCondition('baseline', baselineTimeoutMs);
    result.labStart = b.sample!.t;
    ctx.holderAtStart = b.sample!.holders[0]!;
    result.holderAtStart = ctx.holderAtStart;
    ctx.authBaseline = await authFailureCounts(engine, lab);
    emit('run.start', `${sc.name} (repeat ${o.repeat}/${o.repeats}) on lab ${lab.record.name}`, b.sample!.t);
    emit('baseline.ok', `baseline: ${b.seen}`, b.sample!.t);
  } catch (e) {
    result.reason = `the lab is not at its baseline (one VIP holder, tunnel reaching the LAN) before the run: ${errorMessage(e)}`;
    result.durationMs = performance.now() - started;
    emit('error', result.reason);
    return result;
  }

  // the data-plane probe runs for the whole run; a probe that cannot start is noted, not fatal
  let probe: ProbeHandle | undefined;
  let probeError: string | undefined;
  try {
    probe = await startProbe(engine, clientC, lab.topology.lanhost.lan, `${sc.name}-${o.repeat}`);
    emit('probe', `data-plane probe: client pings ${lab.topology.lanhost.lan} through the tunnel every ${probe.intervalMs} ms (pid ${probe.pid})`, await labNow(engine, clientC));
  } catch (e) {
    probeError = errorMessage(e);
    emit('probe', `data-plane probe unavailable: ${probeError}`);
  }
  const finishProbe = async (): Promise<ProbeReport | undefined> => {
    if (!probe) return undefined;
    try {
      return parseProbe(await stopProbe(engine, probe), probe.intervalMs);
    } catch (e) {
      probeError = errorMessage(e);
      return undefined;
    }
  };

  // 2. the timeline
  const registered = new Map<string, Registered>();
  /** lab-clock times of every inject: figures count from the last inject before the effect */
  const injections: number[] = [];
  const containerEvents: VrrpTransition[] = [];
  const pendingErrors: string[] = [];
  let failure: string | undefined;
  let error: string | undefined;
  const heal = async (id: string) => {
    const r = registered.get(id);
    if (!r) return;
    registered.delete(id);
    if (r.timer) clearTimeout(r.timer);
    await r.revert();
  };

  const runStep = async (st: Step, i: number) => {
    if ('fault' in st) {
      const now = await sample(engine, lab, false);
      if (now.holders.length !== 1) throw new Error(`cannot resolve master/backup for the fault: ${describeSample(now)}`);
      const master = now.holders[0] as Host;
      const backup = Object.keys(lab.topology.nodes).find((n) => n !== master) as Host;
      const id = st.id ?? `step${i}`;
      const fault = planFault({ engine, lab, master, backup, id: `vipdrill-${id}` }, st);
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
      if (st.flap) registered.delete(id);
      else if (st.for !== 'until-healed') {
        const r = registered.get(id)!;
        r.timer = setTimeout(() => {
          registered.delete(id);
          r.revert().catch((e: unknown) => pendingErrors.push(`revert of ${id} failed: ${errorMessage(e)}`));
        }, st.for);
      }
    } else if ('wait' in st) {
      try {
        const r = await waitCondition(st.wait, st.within);
        emit('wait.ok', `${st.wait}: ${r.seen}`, r.sample?.t ?? (await labNow(engine, clientC)), { step: i });
      } catch (e) {
        if (!(e instanceof TimeoutError)) throw e;
        failure = `step ${i + 1}: ${st.wait} not reached within ${formatMs(st.within)}: ${e.message}`;
        emit('wait.timeout', failure, await labNow(engine, clientC).catch(() => lastT), { step: i });
      }
    } else if ('check' in st) {
      const r = await check(st.check);
      const t = r.sample?.t ?? (await labNow(engine, clientC));
      if (r.ok) emit('check.pass', `${st.check}: ${r.seen}`, t, { step: i });
      else {
        failure = `step ${i + 1}: check ${st.check} failed: ${r.seen}`;
        emit('check.fail', failure, t, { step: i });
      }
    } else if ('heal' in st) {
      const ids = st.heal === 'all' ? [...registered.keys()].reverse() : [st.heal];
      for (const id of ids) await heal(id);
      emit('heal', `healed ${st.heal === 'all' ? `all (${ids.join(', ') || 'nothing active'})` : st.heal}`, await labNow(engine, clientC), { step: i });
    } else {
      await sleep(st.sleep);
      emit('sleep', `slept ${formatMs(st.sleep)}`, await labNow(engine, clientC), { step: i });
    }
  };

  try {
    for (const [i, st] of sc.steps.entries()) {
      if (signal?.aborted) throw new Error('interrupted');
      await runStep(st, i);
      if (failure) break;
    }
  } catch (e) {
    error = `the run could not continue: ${errorMessage(e)}`;
    emit('error', error);
  } finally {
    // final heal: every fault still registered, newest first; all are attempted
    const ids = [...registered.keys()].reverse();
    for (const id of ids) await heal(id).catch((e: unknown) => pendingErrors.push(`final heal of ${id} failed: ${errorMessage(e)}`));
    emit('heal.final', `final heal: ${ids.length > 0 ? ids.join(', ') : 'nothing left to revert'}`, await labNow(engine, clientC).catch(() => lastT));
  }
  if (pendingErrors.length > 0) {
    error ??= pendingErrors.join('; ');
    emit('error', pendingErrors.join('; '));
  }

  // 3. back at baseline, nothing of vipdrill's left (interrupted runs skip the wait: healed is enough)
  let end: Sample | undefined;
  if (signal?.aborted) {
    await finishProbe();
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
      await resetTunnel(engine, lab);
      const b = await waitCondition('baseline', baselineTimeoutMs);
      emit('baseline.ok', `baseline after restarting xl2tpd and charon (lab reset): ${b.seen}`, b.sample!.t);
    } catch (e2) {
      error ??= `the lab could not be reset to its baseline: ${errorMessage(e2)}`;
      emit('error', error);
    }
  }
  const leftovers = await leftoverFaultTables(engine, lab).catch((e: unknown) => [`(could not check: ${errorMessage(e)})`]);
  if (leftovers.length > 0) {
    error ??= `vipdrill fault rules left on ${leftovers.join(', ')}`;
    emit('error', error);
  }

  // 4. figures
  const probeReport = await finishProbe();
  const vrrp: VrrpTransition[] = [...containerEvents];
  for (const n of Object.keys(lab.topology.nodes)) {
    const r = await engine.exec(container(lab, n as Host), ['cat', '/var/log/vipdrill/vrrp.log']).catch(() => undefined);
    if (!r) continue;
    const all = parseVrrpLog(r.stdout, n);
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
  if (result.firstFaultAt !== undefined && result.holderAtFault) {
    // the fault that caused an effect is the last one injected before it (a scenario may first plant a
    // wrong secret, then crash the master: the takeover counts from the crash)
    const cause = (t: number) => injections.filter((x) => x <= t).at(-1) ?? result.firstFaultAt!;
    const tk = vipTakeoverMs(vrrp, result.holderAtFault, result.firstFaultAt);
    if (tk) {
      const from = cause(result.firstFaultAt + tk.ms / 1000);
      m.vipTakeoverMs = tk.ms - (from - result.firstFaultAt) * 1000;
      m.newHolder = tk.node;
      m.takeoverFaultAt = from;
    }
    const tr = tunnelRestored(tunnelSamples, result.firstFaultAt);
    m.tunnelSeenDown = tr.downAt !== undefined;
    if (tr.downAt !== undefined && tr.upAt !== undefined) {
      const from = cause(tr.downAt);
      m.tunnelRestoredMs = (tr.upAt - from) * 1000;
      m.outageFaultAt = from;
    }
  }
  if (probeReport) {
    const { outages, ...rest } = probeReport;
    m.probe = rest;
    m.outages = outages;
    const from = m.outageFaultAt ?? m.takeoverFaultAt ?? result.firstFaultAt;
    const o = from !== undefined ? outageAfter(probeReport, from) : undefined;
    if (o) m.outageMs = o.ms;
  } else if (probeError) m.probe = { intervalMs: 10, sent: 0, received: 0, thresholdMs: 0, error: probeError };
  const gaps = tunnelSamples.slice(1).map((s, k) => (s.t - tunnelSamples[k]!.t) * 1000);
  m.resolution.tunnel = gaps.length > 0 ? `client tunnel sampled by ping through ppp, median interval ${formatMs([...gaps].sort((a, b) => a - b)[Math.floor(gaps.length / 2)]!)}` : 'client tunnel not sampled';
  const auth = await authFailureCounts(engine, lab).catch(() => new Map<string, number>());
  for (const [k, n] of auth) {
    const d = n - (ctx.authBaseline.get(k) ?? 0);
    if (d > 0) m.authFailures[k] = d;
  }
  if (end) {
    m.finalHolder = end.holders[0];
    m.sessionNode = sessionNode(end);
  }

  // 5. expectations
  result.expectations = judge(sc, result);
  const failed = result.expectations.filter((x) => !x.passed);
  if (error) {
    result.verdict = 'error';
    result.reason = error;
  } else if (failure || failed.length > 0) {
    result.verdict = 'failed';
    result.reason = failure ?? failed.map((x) => `${x.name}: expected ${x.expected}, got ${x.actual}`).join('; ');
  } else result.verdict = 'passed';
  result.durationMs = performance.now() - started;
  emit('run.end', `${result.verdict}${result.reason ? `: ${result.reason}` : ''}`, result.labEnd);
  // one stream in lab-clock order (a timed revert may report after a step that it preceded)
  events.sort((x, y) => x.t - y.t || x.seq - y.seq).forEach((e, k) => (e.seq = k));
  return result;
}

/** Restart xl2tpd on the nodes and charon + xl2tpd on the client: a fresh dial, as after a reboot. */
async function resetTunnel(engine: Engine, lab: LabContext): Promise<void> {
  const restart = (h: Host, d: string) => engine.exec(container(lab, h), ['sh', '-c', `vipdrill-ctl kill ${d} TERM >/dev/null 2>&1; vipdrill-ctl start ${d}`]);
  for (const n of Object.keys(lab.topology.nodes)) await restart(n as Host, 'xl2tpd');
  await restart('client', 'xl2tpd');
  await restart('client', 'charon');
}

/** Overlaps shorter than three adverts (at least 500 ms) are a handover, not a split brain. */
export function splitBrainToleranceMs(advertIntSeconds: number): number {
  return Math.max(500, 3 * advertIntSeconds * 1000);
}

function judge(sc: Scenario, r: ScenarioResult): ExpectationResult[] {
  const x = sc.expect;
  const m = r.metrics;
  const out: ExpectationResult[] = [];
  const add = (name: string, expected: string, actual: string, passed: boolean) => out.push({ name, expected, actual, passed });
  const who = (w: string) => (w === 'original' ? r.holderAtStart : w === 'other' ? ['a', 'b'].find((n) => n !== r.holderAtStart) : w);
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
  if (x.splitBrain) {
    const seen = m.splitBrainMs > 0 || m.splitBrainSampled;
    add('splitBrain', x.splitBrain, seen ? `detected (${formatMs(m.splitBrainMs)} with both MASTER${m.splitBrainSampled ? ', two VIP holders sampled' : ''})` : 'none', seen === (x.splitBrain === 'detected'));
  }
  if (x.finalHolder) add('finalHolder', `${x.finalHolder} (${who(x.finalHolder)})`, m.finalHolder ?? 'no single holder', m.finalHolder === who(x.finalHolder));
  if (x.authFailure) {
    const seen = Object.keys(m.authFailures).length > 0;
    add('authFailure', x.authFailure, seen ? `detected (${Object.entries(m.authFailures).map(([k, n]) => `${n} on ${k}`).join(', ')})` : 'none', seen === (x.authFailure === 'detected'));
  }
  if (x.sessionOn) add('sessionOn', `${x.sessionOn} (${who(x.sessionOn)})`, m.sessionNode ?? 'no session', m.sessionNode === who(x.sessionOn));
  return out;
}
