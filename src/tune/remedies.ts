import { median } from 'simple-statistics';
import { VipdrillError } from '../errors.js';
import type { ScenarioResult } from '../run/result.js';
import { profileIssues } from '../topology/load.js';
import { profileSchema, type Profile } from '../topology/schema.js';
import { formatMs } from '../util/time.js';
import { nearestName } from '../util/names.js';
import { bootstrapDiffCi, summarize, type Interval, type MetricSummary } from './stats.js';
import { PARAMETERS, setPath } from './sweep.js';

/**
 * `vipdrill run <scenario> --try-remedies` (issue 14), the pure half: which profile changes the
 * findings of a scenario's repeats propose (each finding's remedy that names a profile field and a
 * value), and whether a change helped: the client's outage per repeat before and after, its median
 * with a seeded bootstrap interval, and the interval of the difference of the medians. The command
 * itself (the lab, the profile switch, the repeats) is try-remedies.ts.
 */

export interface Change {
  field: string;
  value: number | boolean;
}

export interface Candidate extends Change {
  /** the config line the remedy names (or the field's setting, for one asked with --remedy) */
  line: string;
  /** the findings that proposed it, or 'asked' (--remedy) */
  from: string[];
}

/** `field=value` of --remedy: a profile field a sweep can vary, and a number or true/false. */
export function parseChange(arg: string): Change {
  const m = /^([a-zA-Z]+\.[a-zA-Z]+)=(.+)$/.exec(arg.trim());
  if (!m) throw new VipdrillError('CONFIG_INVALID', `--remedy ${arg}: expected <profile field>=<value>, e.g. vrrp.garpMasterRefresh=2`);
  const [, field, raw] = m as unknown as [string, string, string];
  if (!PARAMETERS.includes(field)) {
    const near = nearestName(field, PARAMETERS);
    throw new VipdrillError('CONFIG_INVALID', `--remedy ${arg}: ${field} is not a profile field a remedy can set${near ? ` (did you mean "${near}"?)` : ''}; expected one of ${PARAMETERS.join(', ')}`);
  }
  const value = raw === 'true' ? true : raw === 'false' ? false : Number(raw);
  if (typeof value === 'number' && !Number.isFinite(value)) throw new VipdrillError('CONFIG_INVALID', `--remedy ${arg}: expected a number or true/false after =, got ${JSON.stringify(raw)}`);
  return { field, value };
}

const current = (p: Profile, field: string): unknown => (p[field.split('.')[0] as keyof Profile] as Record<string, unknown>)[field.split('.')[1]!];

/**
 * The changes to try: those asked for first, then every profile remedy of the repeats' findings (largest
 * impact first), each field once, skipping a value the profile already has.
 */
export function candidates(results: ScenarioResult[], profile: Profile, asked: Change[] = []): Candidate[] {
  const out: Candidate[] = [];
  const add = (c: Candidate) => {
    if (current(profile, c.field) === c.value) return;
    const same = out.find((x) => x.field === c.field);
    if (!same) out.push(c);
    else if (same.value === c.value) for (const f of c.from) if (!same.from.includes(f)) same.from.push(f);
  };
  for (const a of asked) add({ ...a, line: `${a.field}: ${a.value}`, from: ['asked'] });
  const findings = results.flatMap((r) => r.findings ?? []).sort((a, b) => b.impactMs - a.impactMs);
  for (const f of findings) for (const x of f.remedy) if (x.profile && x.value !== undefined) add({ field: x.profile, value: x.value, line: `${x.file}: ${x.line}`, from: [f.id] });
  return out;
}

/** The profile with one change, checked as a profile file is: a value the schema or the daemons refuse is the reason, not a run. */
export function changedProfile(base: Profile, c: Change): { profile: Profile } | { refused: string } {
  const typed = profileSchema.safeParse(setPath(base, c.field, c.value));
  if (!typed.success) return { refused: typed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ') };
  const issues = profileIssues(typed.data);
  if (issues.length > 0) return { refused: issues.map((i) => `${i.path}: ${i.message}`).join('; ') };
  return { profile: typed.data };
}

/** The client's outages of a repeat (ms): the fault's, the revert's, and all of them; none when the probe was not analysed. */
export function clientOutages(r: ScenarioResult): { fault: number; revert: number; total: number } | undefined {
  const os = r.metrics.outages;
  if (r.verdict === 'error' || os === undefined) return undefined;
  return { fault: r.metrics.outageMs ?? 0, revert: r.metrics.failbackOutageMs ?? 0, total: os.reduce((s, o) => s + o.ms, 0) };
}

export interface ArmStats {
  id: string;
  label: string;
  change?: Candidate;
  /** repeats measured, and those that could not be (errors: a starved or unstable lab) */
  n: number;
  errors: number;
  failed: number;
  total: MetricSummary | null;
  fault: MetricSummary | null;
  revert: MetricSummary | null;
  /** the total's median after less before, with its interval (null below 2 repeats on either side) */
  diff: Interval | null;
  verdict: 'helped' | 'worse' | 'unclear' | 'baseline' | 'not measured';
  detail: string;
}

export interface Arm {
  id: string;
  label: string;
  change?: Candidate;
  results: ScenarioResult[];
  /** why the change was not measured (refused by the schema, the switch failed) */
  skipped?: string;
}

const summary = (xs: number[], seed: number) => (xs.length > 0 ? summarize(xs, seed) : null);

/**
 * The smallest change of the median outage that counts as an effect (ms): below it the probe's edges and
 * the lab's jitter, not anything a client notices. A change helped when the whole 95 % interval of the
 * difference lies below −MIN_EFFECT_MS, and made it worse when it lies above +MIN_EFFECT_MS.
 */
export const MIN_EFFECT_MS = 100;

/** Each arm's outage distributions, and each change against the baseline (the first arm). */
export function compareArms(arms: Arm[], seed: number): ArmStats[] {
  const totals = (a: Arm) => a.results.map(clientOutages).filter((x) => x !== undefined);
  const before = totals(arms[0]!).map((x) => x.total);
  return arms.map((a, k) => {
    const xs = totals(a);
    const t = xs.map((x) => x.total);
    const base = { id: a.id, label: a.label, ...(a.change ? { change: a.change } : {}), n: xs.length, errors: a.results.length - xs.length, failed: a.results.filter((r) => r.verdict === 'failed').length, total: summary(t, seed + 10 * k), fault: summary(xs.map((x) => x.fault), seed + 10 * k + 3), revert: summary(xs.map((x) => x.revert), seed + 10 * k + 6) };
    if (k === 0) return { ...base, diff: null, verdict: 'baseline', detail: `${xs.length} repeat(s) on the profile as it is` };
    if (a.skipped) return { ...base, diff: null, verdict: 'not measured', detail: a.skipped };
    if (t.length < 2 || before.length < 2) return { ...base, diff: null, verdict: 'not measured', detail: `an interval needs 2 measured repeats on each side (before ${before.length}, after ${t.length})` };
    const diff = bootstrapDiffCi(before, t, (v) => median(v), { seed: seed + 10 * k + 9 });
    const range = `${signed(diff.estimate)} [${signed(diff.low)}, ${signed(diff.high)}]`;
    const effect = formatMs(MIN_EFFECT_MS);
    if (diff.high < -MIN_EFFECT_MS) return { ...base, diff, verdict: 'helped', detail: `the median outage changed by ${range}: shorter, the whole 95 % interval below −${effect}` };
    if (diff.low > MIN_EFFECT_MS) return { ...base, diff, verdict: 'worse', detail: `the median outage changed by ${range}: longer, the whole 95 % interval above +${effect}` };
    return { ...base, diff, verdict: 'unclear', detail: `the median outage changed by ${range}: the 95 % interval reaches within ${effect} of no change, so these repeats do not show an effect` };
  });
}

const signed = (x: number) => `${x < 0 ? '−' : '+'}${formatMs(Math.abs(x))}`;
const ms = (x: number | undefined | null) => (x === undefined || x === null ? '–' : formatMs(x));
const ci = (s: MetricSummary | null) => (s?.medianCi ? `${ms(s.medianCi.low)}–${ms(s.medianCi.high)}` : '–');

/** The table: one row per arm, the outage's median with its interval, the parts, and the verdict. */
export function armsTable(stats: ArmStats[]): string[] {
  return [
    '| | change | n | outage median [95 % CI] | max | fault outage median | revert outage median | failed | verdict |',
    '|---|---|---:|---|---:|---:|---:|---:|---|',
    ...stats.map((s) => `| ${s.id} | ${s.label} | ${s.n}${s.errors ? ` (+${s.errors} error)` : ''} | ${ms(s.total?.median)} [${ci(s.total)}] | ${ms(s.total?.max)} | ${ms(s.fault?.median)} | ${ms(s.revert?.median)} | ${s.failed} | ${s.verdict}: ${s.detail} |`),
  ];
}
