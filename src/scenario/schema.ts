import { z } from 'zod';
import { NODE_NAME } from './roles.js';

/**
 * Scenario files (scenarios/*.yaml): a declarative drill. A timeline of steps (fault, wait, heal,
 * sleep, expect) runs against a lab; expectations judge the measured outcome. The JSON Schema for
 * editors (scenarios/scenario.schema.json) is generated from this file (npm run schema).
 */

const DURATION = /^\d+(\.\d+)?\s*(ms|s|m|h)$/;

/** "500ms", "5s", "2m", "3h" or a number of seconds, within [minMs, maxMs]; parsed to milliseconds. */
export const duration = (minMs: number, maxMs: number) =>
  z
    .union([z.number(), z.string().regex(DURATION)], { error: `expected a duration like "500ms", "5s" or "2m" (${minMs / 1000} s to ${maxMs / 1000} s)` })
    .transform((v) => (typeof v === 'number' ? v * 1000 : toMs(v)))
    .refine((ms) => ms >= minMs && ms <= maxMs, { error: `expected a duration from ${minMs / 1000} s to ${maxMs / 1000} s` });

function toMs(v: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h)$/.exec(v.trim())!;
  const n = Number(m[1]);
  return m[2] === 'ms' ? n : m[2] === 's' ? n * 1000 : m[2] === 'm' ? n * 60_000 : n * 3_600_000;
}

/** How long a fault lasts: a duration, or until a `heal` step (or the final heal) reverts it. */
const lasting = z.union([z.literal('until-healed'), duration(1, 3_600_000)], { error: 'expected a duration like "5s" or "until-healed"' });

/**
 * A node of the pair by its name in the topology, or by role at the moment the fault is injected
 * (master: the VIP holder, backup: the other node). Whether a name is one of the topology's nodes is
 * checked against the topology (scenario/load.ts), before anything runs.
 */
const nodeTarget = z.string({ error: 'expected a node of the topology by name, or master/backup' }).regex(NODE_NAME, { error: 'expected a node of the topology by name (lowercase letters, digits, dashes), or master/backup' });
const host = z.string({ error: 'expected a host: a node of the topology by name, master, backup, client or lanhost' }).regex(NODE_NAME, { error: 'expected a host: a node of the topology by name, master, backup, client or lanhost' });
const containerTarget = host;

/** Daemons the lab image runs, per role (pppd on a node is spawned by xl2tpd per session). */
export const DAEMONS = { node: ['keepalived', 'charon', 'xl2tpd', 'pppd'], client: ['charon', 'xl2tpd', 'pppd'] } as const;
const daemon = z.enum(['keepalived', 'charon', 'xl2tpd', 'pppd'], { error: 'expected a daemon the lab image runs: keepalived, charon, xl2tpd or pppd' });

const percent = (what: string) => z.number({ error: `expected ${what} in percent (0 to 100)` }).min(0).max(100);

const common = {
  /** a name for `heal: <id>`; defaults to the step index */
  id: z.string().regex(/^[a-z0-9-]+$/, { error: 'expected a short id of lowercase letters, digits and dashes' }).optional(),
  for: lasting,
  /** flap: inject for `for`, revert, wait `up`, `times` times in all */
  flap: z.strictObject({ times: z.int({ error: 'expected a whole number from 2 to 50' }).min(2).max(50), up: duration(100, 600_000) }).optional(),
};

const f = <K extends string, S extends z.ZodRawShape>(kind: K, shape: S) => z.strictObject({ fault: z.literal(kind), ...common, ...shape });

export const faultStep = z.discriminatedUnion(
  'fault',
  [
    f('kill-daemon', {
      target: containerTarget,
      daemon,
      signal: z.enum(['KILL', 'TERM'], { error: 'expected KILL or TERM' }).default('KILL'),
      /** true: the supervisor restarts it after its delay; false: it stays dead until the revert */
      restart: z.boolean().default(true),
    }),
    f('node-crash', { target: nodeTarget }),
    f('node-stop', { target: nodeTarget, grace: duration(0, 120_000).default(10_000) }),
    f('node-freeze', { target: nodeTarget }),
    f('node-restart', { target: nodeTarget }),
    f('link-down', { target: containerTarget, iface: z.enum(['wan', 'lan'], { error: 'expected wan or lan' }) }),
    f('drop', {
      from: host,
      to: host,
      direction: z.enum(['one-way', 'both'], { error: 'expected one-way or both' }).default('both'),
      proto: z.enum(['all', 'vrrp', 'ike', 'esp', 'l2tp', 'icmp'], { error: 'expected all, vrrp, ike, esp, l2tp or icmp' }).default('all'),
    }),
    f('partition', { target: nodeTarget }),
    f('split-brain', {}),
    f('cut-client', { target: nodeTarget.default('master') }),
    f('degrade', {
      target: containerTarget,
      iface: z.enum(['wan', 'lan'], { error: 'expected wan or lan' }).default('wan'),
      loss: percent('loss').default(0),
      delay: duration(0, 10_000).default(0),
      duplicate: percent('duplication').default(0),
    }),
    /** busy loops on a lab host: the CPU the daemons share is taken (a busy neighbour, a starved CI runner) */
    f('cpu-load', {
      target: containerTarget.default('lanhost'),
      cpus: z.int({ error: 'expected a whole number of busy loops from 1 to 8' }).min(1).max(8).default(1),
    }),
    f('drain', { target: nodeTarget.default('master'), grace: duration(0, 600_000).default(5000) }),
    f('demote', { target: nodeTarget.default('master') }),
    f('takeover', { target: nodeTarget.default('backup') }),
    f('rekey', { target: z.literal('client', { error: 'expected client (the IKE initiator)' }).default('client') }),
    f('notify-fail', { target: nodeTarget.default('backup') }),
    f('notify-twice', { target: nodeTarget.default('backup') }),
    f('secret-mismatch', { target: nodeTarget.default('backup'), secret: z.enum(['chap', 'psk'], { error: 'expected chap or psk' }) }),
    f('misroute', {}),
    /**
     * calibration: drop ICMP through the client's tunnel (both ways, both probes) for exactly `for`,
     * applied and removed inside the lab; the measured outage is compared with the applied window
     */
    z.strictObject({
      fault: z.literal('blackout'),
      id: common.id,
      target: z.literal('client', { error: 'expected client (the blackout is timed in the client)' }).default('client'),
      for: duration(10, 60_000),
      flap: z.never({ error: 'a blackout does not flap: use several blackout steps' }).optional(),
    }),
  ],
  { error: 'expected a fault kind: kill-daemon, node-crash, node-stop, node-freeze, node-restart, link-down, drop, partition, split-brain, cut-client, degrade, drain, demote, takeover, rekey, notify-fail, notify-twice, secret-mismatch, misroute, blackout' },
);
export type FaultStep = z.output<typeof faultStep>;
export type FaultKind = FaultStep['fault'];

export const CONDITIONS = ['baseline', 'single-holder', 'split-brain', 'vip-moved', 'vip-on-original', 'tunnel-up', 'tunnel-down', 'auth-failure'] as const;
export type Condition = (typeof CONDITIONS)[number] | `vip-on-${string}`;
const condition = z.union([z.enum(CONDITIONS), z.string().regex(/^vip-on-[a-z][a-z0-9-]{0,30}$/).transform((x) => x as `vip-on-${string}`)], { error: `expected a condition: ${CONDITIONS.join(', ')}, or vip-on-<node>` });

const waitStep = z.strictObject({ wait: condition, within: duration(100, 1_800_000) });
const healStep = z.strictObject({ heal: z.union([z.literal('all'), z.string().regex(/^[a-z0-9-]+$/)], { error: 'expected all or the id of a fault step' }) });
const sleepStep = z.strictObject({ sleep: duration(1, 600_000) });
/** assert a condition now (no waiting), or that it held throughout since the last fault */
const checkStep = z.strictObject({ check: condition });

const STEP_KINDS = { fault: faultStep, wait: waitStep, heal: healStep, sleep: sleepStep, check: checkStep } as const;
const STEP_ERROR = 'expected a step: a mapping with one of fault, wait (with within), heal, sleep or check';

/** The steps as one union: what editors see in the JSON Schema. */
export const stepUnion = z.union([faultStep, waitStep, healStep, sleepStep, checkStep], { error: STEP_ERROR });

/**
 * Parsing picks the step kind by its key first, so errors point at the field that is wrong
 * (steps[2].target) instead of "matches none of five shapes".
 */
export const step = z.unknown().transform((v, ctx): z.output<typeof stepUnion> => {
  const kind = v !== null && typeof v === 'object' && !Array.isArray(v) ? (Object.keys(STEP_KINDS) as (keyof typeof STEP_KINDS)[]).find((k) => k in v) : undefined;
  if (!kind) {
    ctx.issues.push({ code: 'custom', message: STEP_ERROR, input: v });
    return z.NEVER;
  }
  const r = STEP_KINDS[kind].safeParse(v);
  if (!r.success) {
    for (const i of r.error.issues) ctx.issues.push({ ...i, input: v } as never);
    return z.NEVER;
  }
  return r.data;
});
export type Step = z.output<typeof stepUnion>;

const limit = (what: string) => z.strictObject({ max: duration(1, 3_600_000) }, { error: `expected { max: <duration> } for ${what}` });

export const expectationsSchema = z.strictObject({
  /** the VIP left the node that held it when the first fault was injected */
  vipMoved: z.boolean().optional(),
  /** first fault -> the new holder's MASTER transition, from keepalived's own notify lines */
  vipTakeover: limit('vipTakeover').optional(),
  /** first fault -> the client reaches the LAN through the tunnel again */
  tunnelRestored: limit('tunnelRestored').optional(),
  /** the data-plane probe's outage around the fault (a 20 ms probe); min > 0 requires an outage */
  outage: z
    .strictObject({ min: duration(0, 3_600_000).default(0), max: duration(1, 3_600_000) }, { error: 'expected { max: <duration> } and optionally min: <duration>' })
    .optional(),
  /** the longest outage a revert caused (a returning master preempting, a healed link): none, or at most max */
  failbackOutage: limit('failbackOutage').optional(),
  /** probes lost outside the outages (a calm lab: 0) */
  probeLoss: z.strictObject({ max: z.int({ error: 'expected a whole number of probes' }).min(0) }, { error: 'expected { max: <probes> }' }).optional(),
  /** both nodes MASTER at the same time (from both nodes' VRRP logs) */
  splitBrain: z.enum(['none', 'detected'], { error: 'expected none or detected' }).optional(),
  /** who holds the VIP at the end of the run */
  finalHolder: z.string({ error: 'expected a node of the topology, original or other' }).regex(NODE_NAME, { error: 'expected a node of the topology, original or other' }).optional(),
  /** an IKE or CHAP authentication failure in the client or node logs */
  authFailure: z.enum(['none', 'detected'], { error: 'expected none or detected' }).optional(),
  /** which way client <-> LAN traffic went: through one node both ways, or not (nft counters per node) */
  routing: z.enum(['symmetric', 'asymmetric'], { error: 'expected symmetric or asymmetric' }).optional(),
  /** after the failover the client authenticated again (CHAP) on the new holder and got an address */
  reauthenticated: z.boolean().optional(),
  /**
   * calibration: outage — the probe's outage matches a blackout's applied window within one probe
   * interval plus 5 ms; takeover — the takeover from notify lines matches keepalived's own log line;
   * calm — no fault: the probe keeps an interval of at most 10 ms with no outage
   */
  calibrate: z.enum(['outage', 'takeover', 'calm'], { error: 'expected outage, takeover or calm' }).optional(),
  /** which node carries the client's PPP session at the end */
  sessionOn: z.string({ error: 'expected a node of the topology, original or other' }).regex(NODE_NAME, { error: 'expected a node of the topology, original or other' }).optional(),
});
export type Expectations = z.output<typeof expectationsSchema>;

/** The scenario's fields; scenarioSchema adds the rules across fields (the JSON Schema is made from this). */
export const scenarioObject = z.strictObject({
  // it names the scenario's folder in a run: a safe path name (src/util/paths.ts SAFE_NAME)
  name: z.string().max(64, { error: 'expected a name of at most 64 characters' }).regex(/^[a-z0-9-]+$/, { error: 'expected a name of lowercase letters, digits and dashes' }),
  description: z.string({ error: 'expected a sentence saying what the drill shows' }),
  /** lab/topologies/<name>.yaml or a path; default: default */
  topology: z.string().optional(),
  /** lab/profiles/<name>.yaml or a path; default: the topology's */
  profile: z.string().optional(),
  repeat: z.int({ error: 'expected a whole number from 1 to 100' }).min(1).max(100).default(1),
  steps: z.array(step, { error: 'expected a list of steps' }).min(1, { error: 'expected at least one step' }).max(1000, { error: 'expected at most 1000 steps' }),
  expect: expectationsSchema.default({}),
});

export const scenarioSchema = scenarioObject
  // rules across fields, decided here once (validate, up, run and report all parse through this schema)
  .superRefine((sc, ctx) => {
    const e = sc.expect;
    const faults = sc.steps.filter((st) => 'fault' in st).length;
    const issue = (path: (string | number)[], message: string) => ctx.addIssue({ code: 'custom', path, message, input: sc });
    if (e.outage && e.outage.min > e.outage.max) issue(['expect', 'outage', 'min'], `expected min ≤ max, got min ${e.outage.min} ms above max ${e.outage.max} ms`);
    if (e.vipMoved === false && e.vipTakeover) issue(['expect', 'vipTakeover'], 'contradicts vipMoved: false (a VIP that must not move has no takeover to bound)');
    if (e.calibrate === 'calm' && faults > 0) issue(['expect', 'calibrate'], `calibrate: calm measures a lab with no fault, but this scenario injects ${faults}`);
    if ((e.calibrate === 'outage' || e.calibrate === 'takeover') && faults === 0) issue(['expect', 'calibrate'], `calibrate: ${e.calibrate} needs a fault to measure (a blackout or a node crash), and this scenario has none`);
    if (faults === 0 && (e.vipMoved === true || e.vipTakeover || e.tunnelRestored)) issue(['expect'], 'vipMoved: true, vipTakeover and tunnelRestored count from the first fault, and this scenario has none');
  });
export type Scenario = z.output<typeof scenarioSchema> & { file: string };

/**
 * Faults that are conditions: they last while applied and provoke nothing at a known moment (CPU load
 * beside the daemons, an impaired link). A takeover or an outage that comes during one is counted from
 * its own start, not from the condition's inject (analysis/figures.ts).
 */
export const CONDITION_FAULTS: ReadonlySet<string> = new Set<FaultStep['fault']>(['cpu-load', 'degrade']);
