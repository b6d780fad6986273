import { z } from 'zod';
import { ConfigError } from '../errors.js';
import type { ScenarioResult, SuiteResult } from '../run/result.js';
import { formatPath } from '../topology/load.js';
import { readInputFile } from '../util/input.js';
import { SAFE_NAME } from '../util/paths.js';

/**
 * A run folder's files read through schemas: a truncated, empty, `{}`, `[]` or `null` file, a field of
 * the wrong type or an unknown schema version is a ConfigError naming the file (exit 2), never a crash
 * in a renderer. The schemas check what the reports rely on and let the rest through.
 */

/** A run's files may be larger than a config file (a long drill's stream), never unbounded. */
export const MAX_RUN_FILE_BYTES = 64 * 1024 * 1024;

const num = z.number({ error: 'expected a number' });
const str = z.string({ error: 'expected a string' });

const runFileSchema = z.looseObject({
  schema: str,
  runId: str,
  startedAt: str,
  durationMs: num,
  labs: z.array(z.looseObject({ name: str, topology: str, profile: str, tunables: z.record(z.string(), z.string()), versions: z.record(z.string(), z.string()) })).optional(),
  labErrors: z.array(z.looseObject({ scenarios: z.array(str), error: str })).optional(),
});

const resultFileSchema = z.looseObject({
  schema: str,
  scenario: str.regex(SAFE_NAME, { error: (i) => `expected a name of at most 64 characters of [a-z0-9._-], got ${JSON.stringify(String(i.input)).slice(0, 80)}` }),
  description: str,
  file: str,
  repeat: z.number().int().positive(),
  repeats: z.number().int().positive(),
  profile: str,
  verdict: z.enum(['passed', 'failed', 'error'], { error: 'expected passed, failed or error' }),
  reason: str.optional(),
  warnings: z.array(str).optional(),
  findings: z.array(z.looseObject({ id: str, mechanism: str, impactMs: num, evidence: z.array(z.looseObject({ t: num, what: str })), remedy: z.array(z.looseObject({ file: str, line: str, why: str })) })).optional(),
  startedAt: str,
  labStart: num,
  labEnd: num,
  durationMs: num,
  metrics: z.looseObject({ splitBrainMs: num, handoverOverlapMs: num, resolution: z.looseObject({}) }),
  expectations: z.array(z.looseObject({ name: str, ok: z.boolean(), detail: str })),
  invariants: z.array(z.looseObject({ name: str, ok: z.boolean(), detail: str })).optional(),
  vrrp: z.array(z.looseObject({ t: num, node: str, state: str })),
  events: z.array(z.looseObject({ t: num, kind: str, message: str })),
});

export const SCHEMAS = { run: 'vipdrill.run/1', result: 'vipdrill.result/1' } as const;

function readJson<S extends z.ZodType>(file: string, schema: S, version: string): z.output<S> {
  const text = readInputFile(file, file, MAX_RUN_FILE_BYTES);
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    throw new ConfigError([{ file, path: '', message: `not valid JSON (${(e as Error).message})${text.trim() === '' ? ': the file is empty' : ''}` }]);
  }
  if (data === null || typeof data !== 'object' || Array.isArray(data)) throw new ConfigError([{ file, path: '', message: `expected a JSON object, got ${data === null ? 'null' : Array.isArray(data) ? 'a list' : typeof data}` }]);
  const v = (data as { schema?: unknown }).schema;
  if (v !== undefined && v !== version) throw new ConfigError([{ file, path: 'schema', message: `unknown schema version ${JSON.stringify(v)}: this vipdrill reads ${version}` }]);
  const r = schema.safeParse(data);
  if (!r.success) throw new ConfigError(r.error.issues.slice(0, 10).map((i) => ({ file, path: formatPath(i.path), message: i.code === 'invalid_type' && (i as { input?: unknown }).input === undefined ? `missing: ${i.message}` : i.message })));
  return r.data;
}

export function readRunFile(file: string): Omit<SuiteResult, 'results'> {
  return readJson(file, runFileSchema, SCHEMAS.run) as unknown as Omit<SuiteResult, 'results'>;
}

export function readResultFile(file: string): ScenarioResult {
  return readJson(file, resultFileSchema, SCHEMAS.result) as unknown as ScenarioResult;
}

/** events.jsonl as text, through the same limits. */
export function readStreamFile(file: string): string {
  return readInputFile(file, file, MAX_RUN_FILE_BYTES);
}
