import { readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ConfigError, VipdrillError, type ConfigIssue } from '../errors.js';
import { displayPath, loadProfile, loadTopology, parseWith, readYamlMapping } from '../topology/load.js';
import { labDir, packageRoot } from '../util/paths.js';
import type { Topology } from '../topology/schema.js';
import { NODE_ROLES, OTHER_HOSTS } from './roles.js';
import { DAEMONS, scenarioSchema, type Scenario, type Step } from './schema.js';
import { loadSweep } from '../tune/sweep.js';

export function topologyPathOf(nameOrPath: string | undefined): string {
  const n = nameOrPath ?? 'default';
  return n.includes('/') || n.endsWith('.yaml') ? resolve(n) : join(labDir, 'topologies', `${n}.yaml`);
}

/**
 * Every host a scenario names must be one of the topology's nodes or a role word: fault targets, drop
 * ends, vip-on-<node> conditions, finalHolder and sessionOn. Checked when a scenario is loaded (against
 * its own topology) and again against the lab's topology when it runs on a lab (`run --lab`).
 */
export function targetIssues(s: Pick<Scenario, 'steps' | 'expect'>, t: Topology): { path: string; message: string }[] {
  const nodes = Object.keys(t.nodes);
  const out: { path: string; message: string }[] = [];
  const list = (xs: readonly string[]) => xs.join(', ');
  const check = (path: string, v: string | undefined, allowed: readonly string[], what: string) => {
    if (v !== undefined && !allowed.includes(v)) out.push({ path, message: `expected ${what} of topology "${t.name}" (${list(allowed)}), got "${v}"` });
  };
  s.steps.forEach((st: Step, i) => {
    const at = `steps[${i}]`;
    if ('fault' in st) {
      const x = st as { target?: string; from?: string; to?: string };
      // faults on any lab host, and faults on a node of the pair only
      const anyHost = ['kill-daemon', 'link-down', 'degrade', 'cpu-load', 'drop', 'blackout', 'rekey'].includes(st.fault);
      const hosts = anyHost ? [...nodes, ...NODE_ROLES, ...OTHER_HOSTS] : [...nodes, ...NODE_ROLES];
      check(`${at}.target`, x.target, hosts, anyHost ? 'a node, a role or a host' : 'a node or a role');
      check(`${at}.from`, x.from, [...nodes, ...NODE_ROLES, ...OTHER_HOSTS], 'a host');
      check(`${at}.to`, x.to, [...nodes, ...NODE_ROLES, ...OTHER_HOSTS], 'a host');
    }
    const c = 'wait' in st ? st.wait : 'check' in st ? st.check : undefined;
    if (c?.startsWith('vip-on-') && c !== 'vip-on-original') check(`${at}.${'wait' in st ? 'wait' : 'check'}`, c.slice('vip-on-'.length), nodes, 'a node');
  });
  check('expect.finalHolder', s.expect.finalHolder, [...nodes, 'original', 'other'], 'a node, original or other');
  check('expect.sessionOn', s.expect.sessionOn, [...nodes, 'original', 'other'], 'a node, original or other');
  return out;
}

/** Checks across steps: ids, heal targets, daemons per role, interfaces per host, topology and profile. */
function semanticIssues(s: Omit<Scenario, 'file'>, file: string): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const add = (path: string, message: string) => issues.push({ file: displayPath(file), path, message });
  const ids = new Set<string>();
  let faults = 0;
  s.steps.forEach((st: Step, i) => {
    const at = `steps[${i}]`;
    if ('fault' in st) {
      faults++;
      if (st.id) {
        if (ids.has(st.id)) add(`${at}.id`, `duplicate id "${st.id}"; expected ids unique within the scenario`);
        ids.add(st.id);
      }
      if (st.fault === 'kill-daemon') {
        if (st.target === 'lanhost') add(`${at}.target`, 'the LAN host runs no daemons; expected a node (by name, master or backup) or client');
        else if (st.target === 'client' && !(DAEMONS.client as readonly string[]).includes(st.daemon)) add(`${at}.daemon`, `the client does not run ${st.daemon}; expected one of ${DAEMONS.client.join(', ')}`);
        if (st.daemon === 'pppd' && st.restart === false) add(`${at}.restart`, 'pppd is started by xl2tpd per session, not by the supervisor; expected restart: true (the default)');
      }
      if (st.fault === 'link-down' || st.fault === 'degrade') {
        if (st.target === 'client' && st.iface === 'lan') add(`${at}.iface`, 'the client has only a wan interface; expected wan');
        if (st.target === 'lanhost' && st.iface === 'wan') add(`${at}.iface`, 'the LAN host has only a lan interface; expected lan');
      }
      if (st.fault === 'drop' && st.from === st.to) add(`${at}.to`, `from and to are both ${st.from}; expected two different hosts`);
      if (st.fault === 'degrade' && st.loss === 0 && st.delay === 0 && st.duplicate === 0) add(`${at}`, 'a degradation with no loss, delay or duplicate does nothing; expected at least one of them above 0');
      if (st.flap && st.for === 'until-healed') add(`${at}.for`, 'a flapping fault needs a duration for each down period; expected a duration like "2s"');
    } else if ('heal' in st) {
      if (st.heal !== 'all' && !ids.has(st.heal)) add(`${at}.heal`, `no earlier fault step has id "${st.heal}"; expected all or one of: ${[...ids].join(', ') || '(none)'}`);
    } else if (('wait' in st && st.wait === 'vip-moved') || ('check' in st && st.check === 'vip-moved')) {
      if (faults === 0) add(`${at}`, 'vip-moved compares with the VIP holder when the first fault was injected; expected a fault step before it');
    }
  });
  if (faults === 0 && s.expect.calibrate !== 'calm') add('steps', 'a scenario without a fault step drills nothing; expected at least one fault (or expect.calibrate: calm)');
  try {
    const t = loadTopology(topologyPathOf(s.topology)).topology;
    for (const i of targetIssues(s, t)) add(i.path, i.message);
  } catch (e) {
    if (e instanceof ConfigError) add('topology', `cannot load topology "${s.topology ?? 'default'}": ${e.issues.map((x) => `${x.file} ${x.path}: ${x.message}`).join('; ')}`);
    else throw e;
  }
  if (s.profile) {
    try {
      loadProfile(s.profile);
    } catch (e) {
      if (e instanceof ConfigError) add('profile', e.issues.map((x) => x.message).join('; '));
      else throw e;
    }
  }
  return issues;
}

/** Load and check one scenario file; every problem is a ConfigError naming file, field and expectation. */
export function loadScenario(file: string): Scenario {
  // `-` is standard input
  const abs = file === '-' ? '-' : resolve(file);
  const parsed = parseWith(scenarioSchema, readYamlMapping(abs), abs);
  const issues = semanticIssues(parsed, abs);
  if (issues.length > 0) throw new ConfigError(issues);
  return { ...parsed, file: abs };
}

export interface Validation {
  file: string;
  ok: boolean;
  /** what the file is, told apart by its top-level keys: steps (scenario), nodes or networks (topology), vrrp or ike (profile), parameters (sweep) */
  kind: 'scenario' | 'topology' | 'profile' | 'sweep';
  scenario?: Scenario;
  /** a line for a valid file: what it holds */
  summary?: string;
  issues: ConfigIssue[];
}

function kindOf(file: string): Validation['kind'] {
  let data: Record<string, unknown>;
  try {
    data = readYamlMapping(file);
  } catch {
    return 'scenario'; // its own loading says what is wrong
  }
  if ('steps' in data) return 'scenario';
  if ('parameters' in data) return 'sweep';
  if ('nodes' in data || 'networks' in data) return 'topology';
  if ('vrrp' in data || 'ike' in data || 'ppp' in data) return 'profile';
  return 'scenario';
}

/** Validate one file: a scenario, a topology or a profile, through the loader that `up` and `run` use. */
export function validateFile(f: string): Validation {
  const file = f === '-' ? '<stdin>' : displayPath(resolve(f));
  const kind = kindOf(f);
  try {
    if (kind === 'topology') {
      const t = loadTopology(f).topology;
      return { file, ok: true, kind, summary: `topology ${t.name}: nodes ${Object.keys(t.nodes).join(', ')}, profile ${t.profile}`, issues: [] };
    }
    if (kind === 'profile') {
      const p = loadProfile(f);
      return { file, ok: true, kind, summary: `profile ${p.name}: VRRPv${p.vrrp.version}, advert_int ${p.vrrp.advertInt} s`, issues: [] };
    }
    if (kind === 'sweep') {
      const { sweep, points } = loadSweep(f);
      return { file, ok: true, kind, summary: `sweep ${sweep.name}: ${points.length} points × ${sweep.scenarios.length} scenario(s) × ${sweep.repeats} repeats`, issues: [] };
    }
    const scenario = loadScenario(f);
    return { file, ok: true, kind, scenario, summary: `${scenario.name}: ${scenario.steps.length} steps`, issues: [] };
  } catch (e) {
    if (e instanceof ConfigError) return { file, ok: false, kind, issues: e.issues };
    // a file must never crash validation: what went wrong is its result
    return { file, ok: false, kind, issues: [{ file, path: '', message: `could not be read: ${e instanceof Error ? e.message : String(e)}` }] };
  }
}

/** Validate many files (each on its own: one broken or missing file does not hide the others). */
export function validateScenarios(files: string[]): Validation[] {
  return files.map(validateFile);
}

/**
 * Expand arguments: files as given (a missing one too: its validation says so); a directory means its
 * *.yaml and *.yml files (not recursively, so a directory loop cannot trap it).
 */
export function expandScenarioArgs(args: string[]): string[] {
  const out: string[] = [];
  for (const a of args) {
    let dir = false;
    try {
      dir = statSync(a).isDirectory();
    } catch {
      dir = false;
    }
    if (dir) {
      const found = readdirSync(a).filter((n) => n.endsWith('.yaml') || n.endsWith('.yml')).sort().map((n) => join(a, n));
      if (found.length === 0) throw new VipdrillError('CONFIG_INVALID', `${a}: a directory with no .yaml or .yml files`);
      out.push(...found);
    } else out.push(a);
  }
  return out;
}

/** A suite file (scenarios/suites/<name>.yaml): `scenarios:` lists scenario files relative to scenarios/. */
export function loadSuite(nameOrPath = 'default'): string[] {
  const file = nameOrPath.includes('/') || nameOrPath.endsWith('.yaml') ? resolve(nameOrPath) : join(packageRoot, 'scenarios', 'suites', `${nameOrPath}.yaml`);
  const data = readYamlMapping(file);
  const list = data.scenarios;
  if (!Array.isArray(list) || list.length === 0 || !list.every((x) => typeof x === 'string')) {
    throw new ConfigError([{ file: displayPath(file), path: 'scenarios', message: 'expected a non-empty list of scenario file names (relative to scenarios/)' }]);
  }
  return (list).map((n) => join(packageRoot, 'scenarios', n));
}
