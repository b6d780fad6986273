import { existsSync, readdirSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { isMap, isScalar, LineCounter, parseDocument, type Document } from 'yaml';
import type { z } from 'zod';
import { ConfigError, type ConfigIssue } from '../errors.js';
import { broadcast, cidrContains, cidrsOverlap, firstHost, FORBIDDEN_DEFAULTS, formatIpv4, parseCidr, parseIpv4 } from '../util/ip.js';
import { readInputFile } from '../util/input.js';
import { nearestName } from '../util/names.js';
import { labDir } from '../util/paths.js';
import { remoteIssues } from './remote.js';
import { profileSchema, topologySchema, type Profile, type Topology } from './schema.js';

/** A path shown in messages: relative to the working directory when that is shorter. */
export function displayPath(file: string): string {
  if (file === '-') return '<stdin>';
  const rel = relative(process.cwd(), file);
  return rel && !rel.startsWith('..') && rel.length < file.length ? rel : file;
}

export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out ? `.${String(p)}` : String(p);
  return out;
}

/** YAML limits: aliases (an alias bomb expands exponentially) and nesting depth. */
export const YAML_LIMITS = { maxAliasCount: 100, maxDepth: 64 };

/** The nesting depth of plain data, without recursion (a deep document must not overflow the stack). */
function depthOf(data: unknown, limit: number): number {
  let max = 0;
  const stack: [unknown, number][] = [[data, 1]];
  while (stack.length > 0) {
    const [v, d] = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    max = Math.max(max, d);
    if (max > limit) return max;
    for (const x of Object.values(v as Record<string, unknown>)) stack.push([x, d + 1]);
  }
  return max;
}

/**
 * Read a YAML file into plain data, through the input layer (src/util/input.ts: regular file, 1 MiB,
 * UTF-8): one document, at most 100 aliases, at most 64 levels deep. Syntax errors and non-mapping
 * documents are ConfigErrors with the line and column.
 */
export function readYamlMapping(file: string): Record<string, unknown> {
  const shown = displayPath(file);
  const text = readInputFile(file, shown);
  const fail = (message: string): never => {
    throw new ConfigError([{ file: shown, path: '', message }]);
  };
  let data: unknown;
  const lines = new LineCounter();
  let doc: Document;
  try {
    doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true, lineCounter: lines });
    if (doc.errors.some((e) => /call stack/i.test(e.message))) return fail(`nested too deeply: the limit is ${YAML_LIMITS.maxDepth} levels`);
    if (doc.errors.length > 0) {
      throw new ConfigError(
        doc.errors.map((e) => ({ file: shown, path: '', message: `invalid YAML${e.linePos ? ` at line ${e.linePos[0].line}:${e.linePos[0].col}` : ''}: ${e.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '')}` })),
      );
    }
    data = doc.toJS({ maxAliasCount: YAML_LIMITS.maxAliasCount });
  } catch (e) {
    if (e instanceof ConfigError) throw e;
    if (e instanceof RangeError) return fail(`nested too deeply: the limit is ${YAML_LIMITS.maxDepth} levels`);
    const m = e instanceof Error ? e.message : String(e);
    if (/alias/i.test(m)) return fail(`too many YAML aliases (an alias bomb?): the limit is ${YAML_LIMITS.maxAliasCount}`);
    return fail(`invalid YAML: ${m.split('\n')[0]}`);
  }
  if (depthOf(data, YAML_LIMITS.maxDepth) > YAML_LIMITS.maxDepth) return fail(`nested too deeply: the limit is ${YAML_LIMITS.maxDepth} levels`);
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    return fail(`expected a mapping (key: value lines) at the top level, got ${Array.isArray(data) ? 'a list' : data === null ? 'an empty document' : typeof data}`);
  }
  const mapping = data as Record<string, unknown>;
  POSITIONS.set(mapping, (path: readonly PropertyKey[], key?: string) => positionOf(doc, lines, path, key));
  return mapping;
}

/** Where each mapping read by readYamlMapping came from: field path -> line:column, for error messages. */
const POSITIONS = new WeakMap<object, (path: readonly PropertyKey[], key?: string) => string | undefined>();

/** The line:column of a field (or of the key that is unknown, or of the nearest parent that exists). */
function positionOf(doc: Document, lines: LineCounter, path: readonly PropertyKey[], key?: string): string | undefined {
  for (let n = path.length; n >= 0; n--) {
    const node = doc.getIn(path.slice(0, n) as unknown[], true) as { range?: [number, number, number] } | undefined;
    if (!node?.range) continue;
    let at = node.range[0];
    if (key !== undefined && n === path.length && isMap(node)) {
      const pair = node.items.find((p) => isScalar(p.key) && p.key.value === key);
      const k = pair?.key as { range?: [number, number, number] } | undefined;
      if (k?.range) at = k.range[0];
    }
    const p = lines.linePos(at);
    return `${p.line}:${p.col}`;
  }
  return undefined;
}

function locate(data: unknown, path: readonly PropertyKey[], key?: string): string | undefined {
  if (data === null || typeof data !== 'object') return undefined;
  const f = POSITIONS.get(data);
  if (!f) return undefined;
  return f(path, key);
}

/** The keys a schema accepts at `path` (through defaults, optionals, arrays and records), for "did you mean". */
function knownKeys(schema: z.ZodType, path: readonly PropertyKey[]): string[] {
  let cur: unknown = schema;
  const unwrap = (x: unknown): unknown => {
    for (let k = 0; k < 20; k++) {
      const def = (x as { def?: { innerType?: unknown; in?: unknown; schema?: unknown; type?: string } } | undefined)?.def;
      if (!def) return x;
      if (def.type === 'object' || def.type === 'array' || def.type === 'record') return x;
      const next = def.innerType ?? def.in ?? def.schema;
      if (!next) return x;
      x = next;
    }
    return x;
  };
  for (const p of path) {
    cur = unwrap(cur);
    const def = (cur as { def?: { type?: string; shape?: Record<string, unknown>; element?: unknown; valueType?: unknown } } | undefined)?.def;
    if (def?.type === 'object') cur = def.shape?.[String(p)];
    else if (def?.type === 'array') cur = def.element;
    else if (def?.type === 'record') cur = def.valueType;
    else return [];
  }
  const def = (unwrap(cur) as { def?: { type?: string; shape?: Record<string, unknown> } } | undefined)?.def;
  return def?.type === 'object' ? Object.keys(def.shape ?? {}) : [];
}

/** " (did you mean X?)" for an unknown key close to a known one, else the keys it could be. */
function suggest(unknown: string[], known: string[]): string {
  const k = unknown[0];
  if (!k || known.length === 0) return '';
  const best = nearestName(k, known);
  return best ? ` (did you mean "${best}"?)` : `; expected one of ${known.join(', ')}`;
}

function describeReceived(issue: z.core.$ZodIssue): string {
  if (issue.code === 'unrecognized_keys') return `unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => JSON.stringify(k)).join(', ')}`;
  return issue.message;
}

function hasPath(data: unknown, path: readonly PropertyKey[]): boolean {
  let cur: unknown = data;
  for (const k of path) {
    if (cur === null || typeof cur !== 'object' || !(k in cur)) return false;
    cur = (cur as Record<PropertyKey, unknown>)[k];
  }
  return cur !== undefined;
}

export function parseWith<S extends z.ZodType>(schema: S, data: unknown, file: string): z.output<S> {
  const r = schema.safeParse(data);
  if (r.success) return r.data;
  const shown = displayPath(file);
  throw new ConfigError(
    r.error.issues.map((i) => {
      const path = formatPath(i.path);
      const missing = i.code === 'invalid_type' && !hasPath(data, i.path);
      const unknown = i.code === 'unrecognized_keys' ? i.keys : [];
      const message = missing ? `missing: ${i.message}` : unknown.length > 0 ? `${describeReceived(i)}${suggest(unknown, knownKeys(schema, i.path))}` : describeReceived(i);
      const at = locate(data, i.path, unknown[0]);
      return { file: at ? `${shown}:${at}` : shown, path, message };
    }),
  );
}

/** Ranges a lab subnet must not touch. */
const RESERVED_RANGES: [string, string][] = [
  ['0.0.0.0/8', '"this network"'],
  ['127.0.0.0/8', 'loopback'],
  ['169.254.0.0/16', 'link-local'],
  ['224.0.0.0/4', 'multicast'],
  ['240.0.0.0/4', 'reserved, and 255.255.255.255 broadcast'],
];

/** Checks that need more than one field: address plans, overlaps, forbidden ranges. */
export function semanticIssues(t: Topology, file: string): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const add = (path: string, message: string) => issues.push({ file: displayPath(file), path, message });
  const subnets = {
    'networks.wan.subnet': parseCidr(t.networks.wan.subnet)!,
    'networks.lan.subnet': parseCidr(t.networks.lan.subnet)!,
    'pool.subnet': parseCidr(t.pool.subnet)!,
    ...(t.client.nat ? { 'client.nat.subnet': parseCidr(t.client.nat.subnet)! } : {}),
  } as Record<string, ReturnType<typeof parseCidr> & object>;
  const entries = Object.entries(subnets);
  for (const [path, c] of t.remote ? [] : entries) {
    for (const f of FORBIDDEN_DEFAULTS) {
      if (cidrsOverlap(c, parseCidr(f)!)) add(path, `${c.text} overlaps the documentation range ${f}, which these hosts route; choose another subnet`);
    }
    // ranges no lab network may use: the kernel treats them specially, and a bridge on them breaks the host
    for (const [range, what] of RESERVED_RANGES) {
      if (cidrsOverlap(c, parseCidr(range)!)) add(path, `${c.text} overlaps ${range} (${what}); expected a private unicast subnet such as 10.213.1.0/24`);
    }
  }
  for (let i = 0; i < entries.length; i++) {
    for (let j = i + 1; j < entries.length; j++) {
      const [pa, a] = entries[i]!;
      const [pb, b] = entries[j]!;
      if (cidrsOverlap(a, b)) add(pb, `${b.text} overlaps ${pa} (${a.text}); expected separate subnets`);
    }
  }
  const seen = new Map<string, string>();
  const inSubnet = (path: string, addr: string, net: string) => {
    const c = subnets[net]!;
    const ip = parseIpv4(addr)!;
    if (!cidrContains(c, ip)) add(path, `${addr} is outside ${net} (${c.text}); expected an address inside it`);
    else if (ip === c.network || ip === broadcast(c)) add(path, `${addr} is the network or broadcast address of ${c.text}; expected a host address`);
    else if (!t.remote && net !== 'pool.subnet' && ip === firstHost(c)) add(path, `${addr} is ${formatIpv4(firstHost(c))}, the gateway address the engine gives the network bridge; expected another host address`);
    const key = `${net}:${addr}`;
    if (seen.has(key)) add(path, `${addr} is already used by ${seen.get(key)}; expected a unique address`);
    seen.set(key, path);
  };
  inSubnet('vips.wan', t.vips.wan, 'networks.wan.subnet');
  inSubnet('vips.lan', t.vips.lan, 'networks.lan.subnet');
  for (const [name, n] of Object.entries(t.nodes)) {
    inSubnet(`nodes.${name}.wan`, n.wan, 'networks.wan.subnet');
    inSubnet(`nodes.${name}.lan`, n.lan, 'networks.lan.subnet');
  }
  if (t.client.nat) {
    inSubnet('client.wan', t.client.wan, 'client.nat.subnet');
    inSubnet('client.nat.inside', t.client.nat.inside, 'client.nat.subnet');
    inSubnet('client.nat.outside', t.client.nat.outside, 'networks.wan.subnet');
  } else inSubnet('client.wan', t.client.wan, 'networks.wan.subnet');
  inSubnet('lanhost.lan', t.lanhost.lan, 'networks.lan.subnet');
  inSubnet('pool.local', t.pool.local, 'pool.subnet');
  inSubnet('pool.first', t.pool.first, 'pool.subnet');
  inSubnet('pool.last', t.pool.last, 'pool.subnet');
  const first = parseIpv4(t.pool.first)!;
  const last = parseIpv4(t.pool.last)!;
  const local = parseIpv4(t.pool.local)!;
  if (first > last) add('pool.last', `${t.pool.last} comes before pool.first (${t.pool.first}); expected first <= last`);
  if (local >= first && local <= last) add('pool.local', `${t.pool.local} lies inside the client range ${t.pool.first}-${t.pool.last}; expected an address outside it`);
  if (t.nodes && Object.keys(t.nodes).length === 2) {
    const [a, b] = Object.values(t.nodes);
    if (a!.priority === b!.priority) add('nodes', `both nodes have priority ${a!.priority}; expected different priorities so the master is predictable`);
  }
  return issues;
}

export interface LoadedTopology {
  file: string;
  topology: Topology;
  /** BYO config paths resolved against the topology file's folder */
  configFiles: Partial<Record<keyof NonNullable<Topology['config']>, string>>;
}

export function loadTopology(file: string): LoadedTopology {
  const abs = resolve(file);
  const topology = parseWith(topologySchema, readYamlMapping(abs), abs);
  const issues = [...semanticIssues(topology, abs), ...remoteIssues(topology, displayPath(abs))];
  // the topology's profile is one of lab/profiles/ by name: a name the run can show and compare (a
  // profile file elsewhere is given with --profile)
  const profiles = readdirSync(join(labDir, 'profiles')).filter((f) => f.endsWith('.yaml')).map((f) => f.slice(0, -5));
  if (!profiles.includes(topology.profile)) issues.push({ file: displayPath(abs), path: 'profile', message: `no profile named ${JSON.stringify(topology.profile)} under lab/profiles/; expected one of ${profiles.join(', ')} (a profile file elsewhere goes with --profile)` });
  const configFiles: LoadedTopology['configFiles'] = {};
  for (const [k, p] of Object.entries(topology.config ?? {})) {
    if (p === undefined) continue;
    const full = isAbsolute(p) ? p : join(dirname(abs), p);
    const perNode = full.includes('{node}') ? Object.keys(topology.nodes).map((n) => full.replaceAll('{node}', n)) : [full];
    for (const f of perNode) {
      if (!existsSync(f)) issues.push({ file: displayPath(abs), path: `config.${k}`, message: `${displayPath(f)}: file not found (paths are relative to the topology file; {node} expands to each node name)` });
    }
    configFiles[k as keyof LoadedTopology['configFiles']] = full;
  }
  if (issues.length > 0) throw new ConfigError(issues);
  return { file: abs, topology, configFiles };
}

export function defaultTopologyPath(): string {
  return join(labDir, 'topologies', 'default.yaml');
}

/** A profile by name (lab/profiles/<name>.yaml) or by path. */
export function loadProfile(nameOrPath: string): Profile {
  const file = nameOrPath.includes('/') || nameOrPath.endsWith('.yaml') ? resolve(nameOrPath) : join(labDir, 'profiles', `${nameOrPath}.yaml`);
  if (!existsSync(file) && !nameOrPath.includes('/')) {
    throw new ConfigError([{ file: displayPath(file), path: '', message: `no profile named "${nameOrPath}"; expected one of lab/profiles/*.yaml or a path to a profile file` }]);
  }
  const profile = parseWith(profileSchema, readYamlMapping(file), file);
  const issues = profileIssues(profile).map((i) => ({ file: displayPath(file), ...i }));
  if (issues.length > 0) throw new ConfigError(issues);
  return profile;
}

/**
 * Settings the daemons would silently change, so a profile (or a sweep's point) holding them is refused:
 * keepalived rounds VRRPv2 adverts to whole seconds, RFC 5798 has no VRRPv3 authentication, and
 * strongSwan raises a DPD timeout below the DPD delay to it.
 */
export function profileIssues(profile: Profile): { path: string; message: string }[] {
  const issues: { path: string; message: string }[] = [];
  const add = (path: string, message: string) => issues.push({ path, message });
  if (profile.vrrp.version === 2 && !Number.isInteger(profile.vrrp.advertInt)) add('vrrp.advertInt', `VRRPv2 adverts are whole seconds (keepalived rounds ${profile.vrrp.advertInt}); expected an integer or vrrp.version: 3`);
  if (profile.vrrp.version === 3 && profile.vrrp.auth !== null) add('vrrp.auth', 'VRRPv3 has no authentication (RFC 5798); expected null or vrrp.version: 2');
  if (profile.ike.dpdDelay > 0 && profile.ike.dpdTimeout > 0 && profile.ike.dpdTimeout < profile.ike.dpdDelay) add('ike.dpdTimeout', `${profile.ike.dpdTimeout} s is shorter than ike.dpdDelay (${profile.ike.dpdDelay} s); expected dpdTimeout >= dpdDelay`);
  return issues;
}
