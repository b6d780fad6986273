import type { Finding } from '../analysis/findings/index.js';
import type { EngineInfo } from '../lab/engine.js';
import type { ArpReport } from '../analysis/arp.js';
import type { ProbeReport } from '../analysis/dataplane.js';
import type { TakeoverCheck, VrrpTransition } from '../analysis/metrics.js';
import type { PhaseName, Reconnect } from '../analysis/reconnect.js';
import type { Symmetry } from '../analysis/symmetry.js';
import type { Starvation } from '../analysis/starvation.js';
import type { HostEvent, RunEvent } from './events.js';
import type { CalmWindow } from './stability.js';

/** What one repeat of a scenario produced: result.json. Every figure comes from src/analysis. */

export type Verdict = 'passed' | 'failed' | 'error';

export interface ExpectationResult {
  name: string;
  ok: boolean;
  /** "expected …, got …" */
  detail: string;
  expected: string;
  actual: string;
  /** the measurement cannot tell whether it held (its uncertainty straddles the limit): the run could not decide */
  undecided?: boolean;
  /** a duration limit: the limit, the measured value and limit − value (negative: over the limit), ms */
  limitMs?: number;
  valueMs?: number;
  marginMs?: number;
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
  /**
   * a takeover no fault provoked: it came while only conditions (CPU load, an impaired link) were
   * applied, so it is a false failover and has no takeover time (counting from the load's start would
   * give minutes); the outage and the reconnect count from the outage's own start instead
   */
  unprovokedTakeover?: { node: string; t: number; during: string; sinceConditionMs: number };
  /**
   * the fault -> the client's tunnel reaching the LAN again, after it was seen down (ms): by the forward
   * probe (its first probe through after the fault's outage) when it saw that outage, else by the status
   * samples' ping through ppp
   */
  tunnelRestoredMs?: number;
  tunnelRestoredBy?: 'probe' | 'sampling';
  /** data-plane probe (ping every 10 ms through the tunnel, lab clock): the gap around the fault */
  outageMs?: number;
  /** every gap of the forward probe, each attributed to the fault, a revert, or nothing known */
  outages?: AttributedOutage[];
  /** the failback, measured like the failover: the longest outage a revert caused, each way (ms) */
  failbackOutageMs?: number;
  failbackReverseOutageMs?: number;
  /** the revert -> the node that held the VIP at the fault is MASTER again (keepalived's line, ms) */
  failbackTakeoverMs?: number;
  failback?: Failback;
  probe?: Omit<ProbeReport, 'outages'> & { error?: string };
  /** lab-clock time each figure counts from: the last inject before the effect, or the effect's own start when that inject is a condition */
  takeoverFaultAt?: number;
  outageFaultAt?: number;
  /** the client's tunnel was seen down after the first fault, by the probe or by sampling */
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
  /** clocks: on real hosts, how well the hosts' clocks are known against the client's (figures across hosts) */
  resolution: { vrrp: string; tunnel: string; probe?: string; clocks?: string };
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
  /** what the figures say about why the repeat was slow or hazardous: mechanism, evidence, remedy (src/analysis/findings) */
  findings?: Finding[];
  /** a passed repeat that is not a healthy failover (src/analysis/warnings.ts): shown prominently, counted apart */
  warnings?: string[];
  /** rules of the analysis this repeat's figures broke (src/analysis/checks.ts): its verdict is then an error */
  analysisErrors?: string[];
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
  /**
   * what the analysis was computed from (src/analysis/analyse.ts): written as the `evidence` line of
   * events.jsonl, not into result.json
   */
  evidence?: EvidenceLine;
}

export type { RunEvent } from './events.js';
import type { AttributedOutage, Failback } from '../analysis/failback.js';
import type { EvidenceLine } from '../analysis/analyse.js';

/** A fault timed inside the lab (blackout): `on`/`off` are the midpoints of the lab-clock brackets around its two nft commits. */
export interface BlackoutWindow {
  on: number;
  off: number;
  nominalMs: number;
  appliedMs: number;
  uncertaintyMs: number;
  onBracket: [number, number];
  offBracket: [number, number];
}

/** run.json: the whole run. */
export interface LabInfo {
  name: string;
  engine: EngineInfo;
  topology: string;
  profile: string;
  profileDescription: string;
  /** the tunables that decide failover times */
  tunables: Record<string, string>;
  /** Debian package versions in the lab image */
  versions: Record<string, string>;
  /** a drill on real hosts (a remote topology): the hosts, their stack, their clocks against the client's */
  remote?: {
    hosts: Record<string, { ssh: string; hostname: string; layout: string; versions: Record<string, string> }>;
    /** each host's clock minus the client's, and to within how much it is known (ms) */
    clocks: Record<string, { offsetMs: number; uncertaintyMs: number }>;
    /** how the two nodes' stacks differ (secrets by hash only) */
    comparison: string[];
    leaseTtlS: number;
  };
}

export interface HostInfo {
  hostname: string;
  os: string;
  kernel: string;
  cpus: number;
  memoryGiB: number;
  node: string;
  /** the host's 1, 5 and 15 min load averages when the run started and when it ended */
  loadAvg?: number[];
  loadAvgAtEnd?: number[];
}

export interface SuiteResult {
  schema: 'vipdrill.run/1';
  runId: string;
  dir: string;
  startedAt: string;
  durationMs: number;
  engine?: EngineInfo;
  host: HostInfo;
  labs: LabInfo[];
  results: ScenarioResult[];
  /** labs that could not be brought up, with why (their scenarios count as errors) */
  labErrors: { scenarios: string[]; error: string }[];
  counts: Record<Verdict, number>;
  /** of the passed, how many passed with warnings */
  warned?: number;
  /** 0 all passed, 1 an expectation failed, 2 could not run or decide */
  exitCode: 0 | 1 | 2;
}

