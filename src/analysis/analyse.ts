import type { HostEvent, RunEvent } from '../run/events.js';
import type { ScenarioResult } from '../run/result.js';
import type { Scenario } from '../scenario/schema.js';
import type { Profile, Topology } from '../topology/schema.js';
import { analysisViolations } from './checks.js';
import { findingsOf } from './findings/index.js';
import { computeFigures, type FigureInputs } from './figures.js';
import { judge } from './judge.js';
import { starvation } from './starvation.js';
import { warningsOf } from './warnings.js';

/**
 * A repeat's analysis, start to verdict, as one pure function of what the run recorded: the runner's
 * events, the hosts' pushed events, and the evidence read after the run. The runner calls it; `vipdrill
 * report` calls it again on events.jsonl (where the evidence is one `evidence` line), so every figure
 * and verdict of result.json can be rebuilt from the stream.
 */

/** What the run read from the lab for its figures (FigureInputs without the result it fills), as JSON. */
export type Evidence = Omit<FigureInputs, 'result' | 'lab' | 'events' | 'authBaseline' | 'authCounts' | 'calibrate' | 'hostLagMs'> & {
  authBaseline: Record<string, number>;
  authCounts: Record<string, number>;
  /** a failed wait or check of the timeline (a failed expectation unless the lab was starved) */
  failure?: string;
  /** what kept the run from a verdict (a fault that failed, an invariant broken, no baseline at the end) */
  error?: string;
  starvedThresholds: { p90Ms: number; maxMs: number };
};

/** The `evidence` line of events.jsonl: the result as the timeline left it, and what analysis needs besides the events. */
export interface EvidenceLine {
  source: 'evidence';
  t: number;
  scenario: Scenario;
  lab: { topology: Topology; profile: Profile };
  /** the result before analysis, without its events (the stream holds them) */
  result: Omit<ScenarioResult, 'events' | 'hostEvents'>;
  evidence: Evidence;
}

export interface AnalysisInput {
  scenario: Scenario;
  lab: { topology: Topology; profile: Profile };
  /** the result as the timeline left it: its events are the runner's, up to the end of the timeline */
  result: ScenarioResult;
  hostEvents: HostEvent[];
  evidence: Evidence;
}

/** Figures, starvation, expectations and the verdict of one repeat; returns the result (a copy) with them. */
export function analyse(x: AnalysisInput): ScenarioResult {
  const result: ScenarioResult = structuredClone(x.result);
  const { evidence: ev, scenario: sc, lab } = x;
  const events = result.events;
  let lastT = events.reduce((m, e) => Math.max(m, e.t), 0);
  const emit = (kind: RunEvent['kind'], message: string, t: number, data?: Record<string, unknown>) => {
    events.push({ seq: events.length, t, kind, message, ...(data ? { data } : {}) });
    lastT = Math.max(lastT, t);
  };
  const nodes = Object.keys(lab.topology.nodes);
  // the hosts' own record of the run, and whether they were starved while it mattered (the takeover's band reads the lag)
  result.hostEvents = x.hostEvents;
  if (result.firstFaultAt !== undefined) result.starvation = starvation(x.hostEvents, result.firstFaultAt, result.labEnd, ev.starvedThresholds);
  const phaseEvents = computeFigures({
    ...ev,
    result,
    lab,
    ...(result.starvation ? { hostLagMs: result.starvation.lagMaxMs } : {}),
    ...(sc.expect.calibrate ? { calibrate: sc.expect.calibrate } : {}),
    events,
    authBaseline: new Map(Object.entries(ev.authBaseline)),
    authCounts: new Map(Object.entries(ev.authCounts)),
  });
  for (const p of phaseEvents) emit('phase', p.message, p.t, { phase: p.phase });

  result.expectations = judge(sc, result, nodes);
  const failed = result.expectations.filter((e) => !e.ok && !e.undecided);
  const undecided = result.expectations.filter((e) => e.undecided);
  const { failure, error } = ev;
  // what the figures say about why: every verdict gets them (a failure most of all)
  const findings = findingsOf({ result, profile: lab.profile, topology: lab.topology });
  if (findings.length > 0) result.findings = findings;
  // a figure that breaks the analysis' own rules is not reported as a measurement
  const violations = analysisViolations(result);
  if (violations.length > 0) result.analysisErrors = violations;
  if (error) {
    result.verdict = 'error';
    result.reason = error;
  } else if (violations.length > 0) {
    result.verdict = 'error';
    result.reason = `analysis error (a defect of vipdrill, not of the lab): ${violations.join('; ')}`;
  } else if (undecided.length > 0 && !failure && failed.length === 0) {
    result.verdict = 'error';
    result.reason = `could not decide: ${undecided.map((e) => `${e.name}: ${e.detail}`).join('; ')}`;
  } else if ((failure || failed.length > 0) && result.starvation?.starved) {
    // a starved lab cannot fail an expectation: what it measured is the starvation's
    result.verdict = 'error';
    result.reason = `${result.starvation.detail}; not judged: ${failure ?? failed.map((e) => `${e.name}: ${e.detail}`).join('; ')}`;
  } else if (failure || failed.length > 0) {
    result.verdict = 'failed';
    result.reason = failure ?? failed.map((e) => `${e.name}: ${e.detail}`).join('; ');
  } else {
    result.verdict = 'passed';
    delete result.reason;
    const warnings = warningsOf(sc, result, findings);
    if (warnings.length > 0) result.warnings = warnings;
  }
  emit('run.end', `${result.verdict}${result.reason ? `: ${result.reason}` : ''}${result.warnings ? ` with warnings: ${result.warnings.join('; ')}` : ''}`, result.labEnd || lastT);
  // one stream in lab-clock order (a timed revert may report after a step that it preceded)
  events.sort((a, b) => a.t - b.t || a.seq - b.seq).forEach((e, k) => (e.seq = k));
  return result;
}
