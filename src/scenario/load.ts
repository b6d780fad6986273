import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ConfigError, VipdrillError, type ConfigIssue } from '../errors.js';
import { displayPath, loadProfile, loadTopology, parseWith, readYamlMapping } from '../topology/load.js';
import { labDir, packageRoot } from '../util/paths.js';
import type { Topology } from '../topology/schema.js';
import { NODE_ROLES, OTHER_HOSTS } from './roles.js';
import { DAEMONS, scenarioSchema, type Scenario, type Step } from './schema.js';

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
      const anyHost = ['kill-daemon', 'link-down', 'degrade', 'drop', 'blackout', 'rekey'].includes(st.fault);
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
  const abs = resolve(file);
  const parsed = parseWith(scenarioSchema, readYamlMapping(abs), abs);
  const issues = semanticIssues(parsed, abs);
  if (issues.length > 0) throw new ConfigError(issues);
  return { ...parsed, file: abs };
}

export interface Validation {
  file: string;
  ok: boolean;
  scenario?: Scenario;
  issues: ConfigIssue[];
}

/** Validate many files (each on its own: one broken file does not hide the others). */
export function validateScenarios(files: string[]): Validation[] {
  return files.map((f) => {
    try {
      const scenario = loadScenario(f);
      return { file: displayPath(resolve(f)), ok: true, scenario, issues: [] };
    } catch (e) {
      if (e instanceof ConfigError) return { file: displayPath(resolve(f)), ok: false, issues: e.issues };
      throw e;
    }
  });
}

/** Expand arguments: files as given; a directory means its *.yaml files; a suite file (*.txt) its lines. */
export function expandScenarioArgs(args: string[]): string[] {
  const out: string[] = [];
  for (const a of args) {
    if (!existsSync(a)) throw new ConfigError([{ file: a, path: '', message: 'file not found' }]);
    if (statSync(a).isDirectory()) {
      out.push(...readdirSync(a).filter((n) => n.endsWith('.yaml')).sort().map((n) => join(a, n)));
    } else out.push(a);
  }
  if (out.length === 0) throw new VipdrillError('CONFIG_INVALID', `no scenario files in ${args.join(', ')}`);
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
