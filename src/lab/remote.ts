import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { VipdrillError } from '../errors.js';
import { DEFAULT_LEASE, type LeaseOptions } from '../faults/leases.js';
import { resolveAccess, type SshAccess, type SshHost } from '../hosts/ssh.js';
import { displayPath } from '../topology/load.js';
import { inWindow, parseWindow } from '../topology/remote.js';
import type { Remote } from '../topology/schema.js';
import { labDir } from '../util/paths.js';
import type { Progress } from '../util/progress.js';
import { loadLabInputs, type LabContext } from './lab.js';
import { RemoteEngine } from './engines/remote.js';
import { newRunId } from './state.js';

/** What vipdrill-discover reports of one host (lab/agent/vipdrill-discover). */
export interface Discovery {
  user: string;
  uid: number;
  hostname: string;
  tools: Record<string, string | null>;
  layout: 'lab' | 'systemd' | 'unknown';
  systemd: boolean;
  versions: Record<string, string | null>;
  units: Record<string, string | null>;
  configs: Record<string, { sha256: string; secret: boolean; pairSha256?: string }>;
  keepalived: { advertInt: number | null; trackFiles: string[] } | null;
}

export interface RemoteLab {
  engine: RemoteEngine;
  lab: LabContext;
  discovery: Record<string, Discovery>;
  /** how the two nodes' stacks compare (file by file; secrets only as same or different) */
  comparison: string[];
  leases: LeaseOptions;
}

const DISCOVER_SOURCE = join(labDir, 'agent', 'vipdrill-discover');

/** The hosts' SSH access from a remote topology, paths resolved against the topology file. */
export function accessOf(remote: Remote, topologyFile: string): Map<string, { access: SshAccess; jump?: { label: string; access: SshAccess } }> {
  const jump = remote.jump ? { label: 'jump host', access: resolveAccess(remote.jump, topologyFile) } : undefined;
  return new Map(Object.entries(remote.hosts).map(([n, a]) => [n, { access: resolveAccess(a, topologyFile), ...(jump ? { jump } : {}) }]));
}

export function leaseOptionsOf(remote: Remote): LeaseOptions {
  const unleased = remote.crash && Object.keys(remote.crash).length > 0 ? { unleased: ['node-crash'] } : {};
  return { ...(remote.lease ? { ttlMs: remote.lease.ttl * 1000, renewMs: remote.lease.renew * 1000 } : DEFAULT_LEASE), ...unleased };
}

/** Refuse a drill outside the topology's maintenance window. */
export function assertInWindow(remote: Remote, file: string, now = new Date()): void {
  if (remote.window === undefined) return;
  const w = parseWindow(remote.window);
  if (typeof w === 'string') throw new VipdrillError('CONFIG_INVALID', `${file}: remote.window: ${w}`);
  if (!inWindow(w, now)) {
    const day = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'][now.getUTCDay()];
    throw new VipdrillError('REMOTE_REFUSED', `outside the maintenance window "${w.text}" of ${file} (now ${day} ${now.toISOString().slice(11, 16)} UTC): nothing was run`);
  }
}

/** Checks that need nothing changed: privileges, tools, the daemons' layout. Every problem of every host at once. */
async function checkHost(name: string, ssh: SshHost, role: 'node' | 'client' | 'lanhost'): Promise<{ discovery?: Discovery; problems: string[] }> {
  const problems: string[] = [];
  const who = `${ssh.address.user}@${ssh.address.host}`;
  if (ssh.become) {
    const r = await ssh.exec(['sudo', '-n', 'true'], { plain: true, timeoutMs: 15_000 });
    if (r.exitCode !== 0) {
      const why = r.stderr.trim() || `exit ${r.exitCode}`;
      problems.push(`${name}: ${who} cannot run sudo without a password (sudo -n true: ${why}). Fix: give ${ssh.address.user} passwordless sudo (a /etc/sudoers.d/ entry: ${ssh.address.user} ALL=(root) NOPASSWD: ALL), or connect as root`);
      return { problems };
    }
  }
  const r = await ssh.exec(['python3', '-'], { stdin: readFileSync(DISCOVER_SOURCE, 'utf8'), timeoutMs: 30_000 });
  if (r.exitCode === 127 || /python3: (command )?not found/.test(r.stderr)) return { problems: [`${name}: python3 is missing (the agent and the discovery run on it). Fix: apt-get install -y python3`] };
  if (r.exitCode !== 0) return { problems: [`${name}: discovery failed (exit ${r.exitCode}): ${r.stderr.trim().split('\n').slice(-2).join(' | ')}`] };
  const d = JSON.parse(r.stdout) as Discovery;
  if (d.uid !== 0) problems.push(`${name}: ${who} is not root (uid ${d.uid}) and the topology gives no become: sudo. Fix: add become: sudo to remote.hosts.${name}, or connect as root`);
  const need: Record<string, string> = { ip: 'iproute2', nft: 'nftables', tcpdump: 'tcpdump', ...(role === 'node' ? { tc: 'iproute2' } : {}) };
  for (const [tool, pkg] of Object.entries(need)) if (!d.tools[tool]) problems.push(`${name}: ${tool} is missing. Fix: apt-get install -y ${pkg}`);
  if (d.layout === 'unknown') problems.push(`${name}: unknown daemon layout: neither systemd nor vipdrill's lab supervisor runs the stack here, so vipdrill cannot stop, start or watch its daemons`);
  else if (d.layout === 'systemd' && role === 'node') problems.push(...systemdProblems(name, d));
  return { discovery: d, problems };
}

/** The stack's units the agent drives on a node systemd runs (lab/agent/vipdrill_systemd.py looks for the same). */
export const NODE_UNITS: [daemon: string, units: string[]][] = [
  ['keepalived', ['keepalived']],
  ['charon', ['strongswan', 'strongswan-starter', 'ipsec']],
  ['xl2tpd', ['xl2tpd']],
];

/** A systemd node: the journal to read, and a unit for each daemon of the stack. */
export function systemdProblems(name: string, d: Discovery): string[] {
  const problems: string[] = [];
  if (!d.tools.journalctl) problems.push(`${name}: journalctl is missing: the VRRP timeline and the daemons' logs are read from the journal. Fix: apt-get install -y systemd`);
  for (const [daemon, units] of NODE_UNITS) {
    if (!units.some((u) => u in d.units)) problems.push(`${name}: no systemd unit runs ${daemon} (looked for ${units.map((u) => `${u}.service`).join(', ')}; found: ${Object.keys(d.units).join(', ') || 'none'}). Fix: run ${daemon} as one of those units, as its Debian package does`);
  }
  return problems;
}

/** How the two nodes' configs compare: the same, or which files differ (secrets by hash only, never shown). */
export function compareNodes(d: Record<string, Discovery>, nodes: string[]): string[] {
  const [a, b] = nodes.map((n) => d[n]);
  if (!a || !b) return [];
  const out: string[] = [];
  for (const path of [...new Set([...Object.keys(a.configs), ...Object.keys(b.configs)])].sort()) {
    const x = a.configs[path];
    const y = b.configs[path];
    if (!x || !y) out.push(`${path}: only on ${x ? nodes[0] : nodes[1]}`);
    else if ((x.pairSha256 ?? x.sha256) !== (y.pairSha256 ?? y.sha256)) out.push(`${path}: differs between ${nodes.join(' and ')}${x.secret ? ' (a secret: contents not shown)' : x.pairSha256 ? ' (beyond priority, state, router id and the unicast addresses)' : ''}`);
  }
  for (const k of ['keepalived', 'strongswan', 'pppd']) if (a.versions[k] !== b.versions[k]) out.push(`${k} versions differ: ${a.versions[k] ?? 'missing'} on ${nodes[0]}, ${b.versions[k] ?? 'missing'} on ${nodes[1]}`);
  return out;
}

/**
 * Open a remote topology: connect to every host (host keys pinned), check privileges, tools and the
 * daemons' layout on each, and discover the stack read-only. Every problem of every host is reported
 * at once, before anything is written to any host.
 */
export async function openRemote(topologyFile: string, progress: Progress, profile?: string): Promise<RemoteLab> {
  const inputs = loadLabInputs(topologyFile, profile);
  const t = inputs.topology;
  const shown = displayPath(inputs.loaded.file);
  if (!t.remote) throw new VipdrillError('CONFIG_INVALID', `${shown} is a lab topology (no remote: block)`);
  assertInWindow(t.remote, shown);
  progress.step(`connecting over SSH to ${Object.entries(t.remote.hosts).map(([n, a]) => `${n} (${a.ssh})`).join(', ')}${t.remote.jump ? ` through ${t.remote.jump.ssh}` : ''}`);
  const engine = await RemoteEngine.connect(accessOf(t.remote, inputs.loaded.file), t.remote.crash ?? {});
  try {
    const nodes = Object.keys(t.nodes);
    const checks = await Promise.all(engine.names.map(async (n) => [n, await checkHost(n, engine.ssh(n), nodes.includes(n) ? 'node' : (n as 'client' | 'lanhost'))] as const));
    const problems = checks.flatMap(([, c]) => c.problems);
    if (problems.length > 0) throw new VipdrillError('REMOTE_REFUSED', `the hosts are not ready for a drill; nothing was changed on any of them:\n  - ${problems.join('\n  - ')}`);
    const discovery = Object.fromEntries(checks.map(([n, c]) => [n, c.discovery!]));
    for (const n of nodes) {
      const advert = discovery[n]!.keepalived?.advertInt;
      if (advert != null && advert !== inputs.profile.vrrp.advertInt) {
        throw new VipdrillError('REMOTE_REFUSED', `${n} runs keepalived with advert_int ${advert}, but the profile ${inputs.profile.name} says ${inputs.profile.vrrp.advertInt}: the calm window and the expected timings would be wrong. Fix: give a profile whose vrrp.advertInt is ${advert} (--profile)`);
      }
    }
    const record = { name: t.name, runId: newRunId(), engine: 'remote' as const, topologyFile: inputs.loaded.file, profile: inputs.profile.name, createdAt: new Date().toISOString(), phase: 'ready' as const, containers: Object.fromEntries(engine.names.map((n) => [n, n])) };
    return { engine, lab: { ...inputs, record }, discovery, comparison: compareNodes(discovery, nodes), leases: leaseOptionsOf(t.remote) };
  } catch (e) {
    await engine.close().catch(() => {});
    throw e;
  }
}
