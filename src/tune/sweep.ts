import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { ConfigError, type ConfigIssue } from '../errors.js';
import { duration } from '../scenario/schema.js';
import { displayPath, loadProfile, parseWith, profileIssues, readYamlMapping } from '../topology/load.js';
import { profileSchema, type Profile } from '../topology/schema.js';
import { nearestName } from '../util/names.js';
import { packageRoot, SAFE_NAME } from '../util/paths.js';

/**
 * Sweep files (lab/sweeps/*.yaml): which profile fields to vary, over which scenarios, how often, and the
 * false-failover check at every point. This is the input side of `vipdrill tune` (issue 12): files are
 * read and checked through the same input layer as scenarios, and every point is expanded and checked
 * before anything runs. The tuner is run.ts.
 */

/** Every profile field a sweep may vary: the numeric and boolean leaves of the profile schema. */
export const PARAMETERS: readonly string[] = (() => {
  const out: string[] = [];
  for (const [section, obj] of Object.entries(profileSchema.shape)) {
    const shape = (obj as { shape?: Record<string, z.ZodType> }).shape;
    if (!shape) continue;
    for (const [k, v] of Object.entries(shape)) {
      const json = z.toJSONSchema(v, { io: 'input', unrepresentable: 'any' }) as { type?: string; anyOf?: { type?: string; const?: unknown }[] };
      const types = [json.type, ...(json.anyOf ?? []).map((x) => x.type ?? typeof x.const)];
      if (types.some((t) => t === 'number' || t === 'integer' || t === 'boolean')) out.push(`${section}.${k}`);
    }
  }
  return out;
})();

const value = z.union([z.number(), z.boolean()], { error: 'expected a number or true/false' });

export const sweepSchema = z.strictObject({
  /** names the sweep's folder in a run: a safe path name */
  name: z.string({ error: 'expected a name' }).regex(SAFE_NAME, { error: 'expected a name of at most 64 characters of [a-z0-9._-]' }),
  description: z.string().optional(),
  /** a profile under lab/profiles/ (by name) or a path: the point every parameter varies around */
  base: z.string({ error: 'expected a profile name (lab/profiles/<name>.yaml) or a path' }),
  /** scenarios measured at every point: names under scenarios/ or paths */
  scenarios: z.array(z.string(), { error: 'expected a list of scenario names' }).min(1, { error: 'expected at least one scenario' }).default(['node-crash']),
  /** profile field -> the values it takes (every combination, unless oneAtATime) */
  parameters: z.record(z.string(), z.array(value, { error: 'expected a list of values' }).min(1, { error: 'expected at least one value' })),
  /** vary one parameter at a time around base instead of the grid */
  oneAtATime: z.boolean().default(false),
  repeats: z.int({ error: 'expected a whole number from 1 to 1000' }).min(1).max(1000).default(10),
  falseFailover: z
    .strictObject({
      calm: duration(1000, 24 * 3_600_000).default(60_000),
      load: z.strictObject({ cpu: z.int({ error: 'expected a whole number of CPU hogs from 0 to 8' }).min(0).max(8).default(0) }).default({ cpu: 0 }),
      degrade: z
        .strictObject({ loss: z.number({ error: 'expected a loss percentage' }).min(0).max(100).default(0), delay: duration(0, 10_000).default(0) })
        .default({ loss: 0, delay: 0 }),
      maxRate: z.number({ error: 'expected a rate from 0 to 1' }).min(0).max(1).default(0.01),
    })
    .default({ calm: 60_000, load: { cpu: 0 }, degrade: { loss: 0, delay: 0 }, maxRate: 0.01 }),
  /** stop (resumably) once this much time was spent */
  budget: duration(60_000, 7 * 24 * 3_600_000).optional(),
});
export type Sweep = z.output<typeof sweepSchema>;

export interface Point {
  id: string;
  parameters: Record<string, number | boolean>;
  profile: Profile;
}

/** At most this many points (× scenarios × repeats is what a sweep costs). */
export const MAX_POINTS = 256;

/** The profile with one field (`section.key`) set. */
export function setPath(profile: Profile, path: string, v: number | boolean): Profile {
  const [section, key] = path.split('.') as [keyof Profile, string];
  return { ...profile, [section]: { ...(profile[section] as Record<string, unknown>), [key]: v } };
}

/** The sweep's points: every combination of the parameters' values, or one parameter at a time around base. */
export function expandPoints(sweep: Sweep, base: Profile): Point[] {
  const params = Object.entries(sweep.parameters);
  const combos: Record<string, number | boolean>[] = [];
  if (sweep.oneAtATime) {
    combos.push({});
    for (const [k, vs] of params) for (const v of vs) if (v !== (base[k.split('.')[0] as keyof Profile] as Record<string, unknown>)[k.split('.')[1]!]) combos.push({ [k]: v });
  } else {
    let acc: Record<string, number | boolean>[] = [{}];
    for (const [k, vs] of params) acc = acc.flatMap((c) => vs.map((v) => ({ ...c, [k]: v })));
    combos.push(...acc);
  }
  return combos.map((c) => ({
    id: Object.entries(c).map(([k, v]) => `${k}=${v}`).join(',') || 'base',
    parameters: c,
    profile: Object.entries(c).reduce((p, [k, v]) => setPath(p, k, v), base),
  }));
}

/** A scenario named by a sweep: scenarios/<name>.yaml, or a path. */
export function sweepScenarioPath(nameOrPath: string): string {
  return nameOrPath.includes('/') || nameOrPath.endsWith('.yaml') ? resolve(nameOrPath) : join(packageRoot, 'scenarios', `${nameOrPath}.yaml`);
}

/**
 * Read and check a sweep file, and expand its points: unknown parameters (with "did you mean"), a base
 * profile or scenario that does not exist, too many points, and every point whose settings the daemons
 * would silently change (sub-second adverts with VRRPv2, a DPD timeout below the delay) are refused
 * before anything runs, each with its reason.
 */
export function loadSweep(file: string): { sweep: Sweep; base: Profile; points: Point[] } {
  const abs = file === '-' ? '-' : resolve(file);
  const shown = displayPath(abs);
  const sweep = parseWith(sweepSchema, readYamlMapping(abs), abs);
  const issues: ConfigIssue[] = [];
  const add = (path: string, message: string) => issues.push({ file: shown, path, message });
  for (const k of Object.keys(sweep.parameters)) {
    if (PARAMETERS.includes(k)) continue;
    if (/down_?timer_?adverts/i.test(k)) {
      add(`parameters.${k}`, "keepalived's down_timer_adverts needs keepalived 2.2.8 or later, and the lab image runs Debian bookworm's 2.2.7, which would ignore it: the master-down interval stays 3 adverts + skew here");
      continue;
    }
    const near = nearestName(k, PARAMETERS);
    add(`parameters.${k}`, `not a profile field a sweep can vary${near ? ` (did you mean "${near}"?)` : ''}; expected one of ${PARAMETERS.join(', ')}`);
  }
  let base: Profile | undefined;
  try {
    base = loadProfile(sweep.base);
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    add('base', e.issues.map((i) => i.message).join('; '));
  }
  sweep.scenarios.forEach((s, i) => {
    if (!existsSync(sweepScenarioPath(s))) add(`scenarios[${i}]`, `no scenario ${JSON.stringify(s)} (expected a name under scenarios/ or a path)`);
  });
  if (issues.length > 0 || !base) throw new ConfigError(issues);
  const points = expandPoints(sweep, base);
  if (points.length > MAX_POINTS) add('parameters', `${points.length} points; expected at most ${MAX_POINTS} (use oneAtATime: true, or fewer values)`);
  for (const p of points) {
    const typed = profileSchema.safeParse(p.profile);
    if (!typed.success) for (const i of typed.error.issues) add(`parameters (point ${p.id})`, `${i.path.join('.')}: ${i.message}`);
    else for (const i of profileIssues(typed.data)) add(`parameters (point ${p.id})`, `${i.path}: ${i.message}`);
  }
  if (issues.length > 0) throw new ConfigError(issues);
  return { sweep, base, points };
}

/** The JSON Schema of sweep files, for editors. */
export function sweepJsonSchema(): Record<string, unknown> {
  return { $id: 'https://vipdrill.dev/schemas/sweep.schema.json', title: 'vipdrill sweep', ...z.toJSONSchema(sweepSchema, { io: 'input', unrepresentable: 'any' }) };
}
