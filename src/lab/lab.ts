import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { withSshd } from '../stack/sshd.js';
import { labSshKeys, writeRemoteTopology } from './ssh-access.js';
import { readImage } from './vm/image.js';
import { VipdrillError } from '../errors.js';
import { loadProfile, loadTopology, type LoadedTopology } from '../topology/load.js';
import { asSystemdNode, SYSTEMD_UP } from '../stack/systemd.js';
import type { Profile, Topology } from '../topology/schema.js';
import { compareByoSecurity, byoFiles } from '../stack/byo.js';
import { renderClient, renderDaemonConf, renderLanhost, renderNatRouter, renderNode, type ContainerConfig } from '../stack/render.js';
import type { Ifaces } from '../stack/types.js';
import { waitFor, type Clock } from '../util/time.js';
import type { Progress } from '../util/progress.js';
import { LABEL_LAB, LABEL_ROLE, LABEL_RUN, type Engine, type Role } from './engine.js';
import { ensureLabImage } from './images.js';
import { LabHosts } from '../hosts/lab-hosts.js';
import type { ClientStatus, NodeStatus } from './probes.js';
import { labSecrets, newRunId, writeLab, type LabRecord } from './state.js';
import { assertNoSubnetConflicts } from './subnet-guard.js';

export type WaitUntil = 'vrrp' | 'tunnel';

export interface UpOptions {
  topologyFile: string;
  profile?: string;
  name?: string;
  waitUntil: WaitUntil;
  timeoutMs?: number;
  progress: Progress;
  clock?: Clock;
  /** run sshd in every container and write a remote topology for them (drills over SSH alone) */
  ssh?: boolean;
  /** the nodes boot systemd and run the stack as Debian's own units, as a staging pair does (src/stack/systemd.ts) */
  systemd?: boolean;
  /** called as soon as the lab record exists, before anything is created (so it can be reaped) */
  onRecord?: (r: LabRecord) => void;
}

export interface StageTiming {
  stage: string;
  ms: number;
}

export interface LabContext {
  record: LabRecord;
  topology: Topology;
  profile: Profile;
  loaded: LoadedTopology;
}

export interface UpResult extends LabContext {
  stages: StageTiming[];
  warnings: string[];
  /** with --ssh: the remote topology written for the lab's containers */
  remoteTopology?: string;
}

/** SYS_NICE: keepalived's vrrp_rt_priority (profile vrrp.rtPriority) sets SCHED_RR. */
const CAPS = ['NET_ADMIN', 'NET_RAW', 'SYS_NICE'];

export function containerName(lab: string, logical: string): string {
  return `${lab}-${logical}`;
}

export function networkName(lab: string, net: 'wan' | 'lan' | 'home'): string {
  return `${lab}-${net}`;
}

export function loadLabInputs(topologyFile: string, profileName?: string, name?: string): { loaded: LoadedTopology; topology: Topology; profile: Profile } {
  const loaded = loadTopology(topologyFile);
  const topology = { ...loaded.topology, name: name ?? loaded.topology.name };
  const profile = loadProfile(profileName ?? topology.profile);
  return { loaded, topology, profile };
}

/**
 * Bring a lab up on `engine`: image, networks, containers, rendered stack, then wait (with deadlines)
 * until exactly one node holds the VIPs and, with waitUntil=tunnel, the client's IKE SA, L2TP tunnel
 * and PPP are up and a ping through ppp0 reaches the LAN host.
 */
export async function up(engine: Engine, opts: UpOptions): Promise<UpResult> {
  const { loaded, topology: t, profile } = loadLabInputs(opts.topologyFile, opts.profile, opts.name);
  const progress = opts.progress;
  const stages: StageTiming[] = [];
  const warnings: string[] = [];
  let t0 = performance.now();
  const stage = (name: string) => {
    const ms = performance.now() - t0;
    stages.push({ stage: name, ms });
    progress.step(`✓ ${name} (${(ms / 1000).toFixed(1)} s)`);
    t0 = performance.now();
  };

  const existing = await engine.list({ [LABEL_LAB]: t.name });
  if (existing.containers.length > 0 || existing.networks.length > 0) {
    throw new VipdrillError('LAB_EXISTS', `lab "${t.name}" already has ${existing.containers.length} container(s) and ${existing.networks.length} network(s) in engine ${engine.info.name}; run 'vipdrill down --name ${t.name}' first, or pick another --name`);
  }

  assertNoSubnetConflicts(
    [
      { field: 'networks.wan.subnet', subnet: t.networks.wan.subnet },
      { field: 'networks.lan.subnet', subnet: t.networks.lan.subnet },
      ...(t.client.nat ? [{ field: 'client.nat.subnet', subnet: t.client.nat.subnet }] : []),
    ],
    await engine.routes(),
    await engine.labBridges(),
    engine.info.name === 'vm' ? 'lab VM' : 'host',
  );

  const byo = byoFiles(loaded);
  const { tag: image, imported } = await ensureLabImage(engine, progress);
  stage('image');

  const record: LabRecord = {
    name: t.name,
    runId: newRunId(),
    engine: engine.info.name,
    topologyFile: loaded.file,
    profile: profile.name,
    image,
    ...(imported && engine.vm ? { imageImported: true } : {}),
    createdAt: new Date().toISOString(),
    phase: 'starting',
    controllerPid: process.pid,
    containers: {},
    ...(engine.vm ? { vm: engine.vm } : {}),
    ...(opts.systemd ? { nodeInit: 'systemd' as const } : {}),
  };
  const secrets = labSecrets(t.name);
  const labels = (role?: Role): Record<string, string> => ({ [LABEL_LAB]: t.name, [LABEL_RUN]: record.runId, ...(role ? { [LABEL_ROLE]: role } : {}) });
  const nodes = Object.keys(t.nodes);
  for (const n of nodes) record.containers[n] = containerName(t.name, n);
  record.containers.client = containerName(t.name, 'client');
  record.containers.lanhost = containerName(t.name, 'lanhost');
  const nat = t.client.nat;
  if (nat) record.containers.nat = containerName(t.name, 'nat');
  opts.onRecord?.(record);
  writeLab(record);

  progress.step('creating networks and containers');
  const wan = networkName(t.name, 'wan');
  const lan = networkName(t.name, 'lan');
  await engine.createNetwork({ name: wan, subnet: t.networks.wan.subnet, labels: labels() });
  await engine.createNetwork({ name: lan, subnet: t.networks.lan.subnet, labels: labels() });
  const home = networkName(t.name, 'home');
  if (nat) await engine.createNetwork({ name: home, subnet: nat.subnet, labels: labels() });
  const devices = (await engine.hasDevice('/dev/ppp')) ? ['/dev/ppp'] : [];
  const sysctls = {
    'net.ipv4.ip_forward': '1',
    'net.ipv4.ip_nonlocal_bind': '1',
    'net.ipv4.conf.all.rp_filter': '0',
    'net.ipv4.conf.default.rp_filter': '0',
  };
  const spec = (logical: string, role: Role, networks: { network: string; ipv4: string }[]) => ({
    name: record.containers[logical]!,
    hostname: logical,
    image,
    labels: labels(role),
    networks,
    capAdd: CAPS,
    devices: role === 'lanhost' || role === 'router' ? [] : devices,
    sysctls: (role === 'lanhost' ? {} : role === 'router' ? { 'net.ipv4.ip_forward': '1' } : sysctls) as Record<string, string>,
    ...(role === 'node' && record.nodeInit ? { init: record.nodeInit } : {}),
  });
  for (const n of nodes) {
    const node = t.nodes[n]!;
    await engine.createContainer(spec(n, 'node', [{ network: wan, ipv4: node.wan }, { network: lan, ipv4: node.lan }]));
  }
  if (nat) {
    // the client behind a NAT router: its own address on the home network, the router on both
    await engine.createContainer(spec('nat', 'router', [{ network: home, ipv4: nat.inside }, { network: wan, ipv4: nat.outside }]));
    await engine.createContainer(spec('client', 'client', [{ network: home, ipv4: t.client.wan }]));
  } else await engine.createContainer(spec('client', 'client', [{ network: wan, ipv4: t.client.wan }]));
  await engine.createContainer(spec('lanhost', 'lanhost', [{ network: lan, ipv4: t.lanhost.lan }]));
  for (const c of Object.values(record.containers)) await engine.startContainer(c);
  const ctx: LabContext = { record, topology: t, profile, loaded };
  // every host's agent from here on: boot waits, interface look-ups and status samples go through it
  await using hosts = new LabHosts(engine, ctx);
  await hosts.connect();
  stage('networks and containers');

  const ifaces = await resolveIfaces(hosts, ctx);
  const configs = renderConfigs(ctx, ifaces, secrets, byo);
  if (opts.ssh) {
    const keys = labSshKeys(t.name, Object.keys(configs));
    for (const l of Object.keys(configs)) configs[l] = withSshd(configs[l]!, { hostPrivate: keys.hosts[l]!.private, clientPublic: keys.clientPublic });
  }
  warnings.push(...compareByoSecurity(configs, nodes));
  for (const w of warnings) progress.step(`warning: ${w}`);
  const start = async (logical: string) => {
    const c = record.containers[logical]!;
    await engine.putFiles(c, [{ path: '/etc/vipdrill/ready', content: `${record.runId}\n`, mode: 0o644 }]);
    if (configs[logical]!.init === 'systemd') await startSystemdStack(engine, c);
    await hosts.host(logical).waitBooted();
  };
  for (const logical of Object.keys(configs)) await writeConfig(engine, record.containers[logical]!, configs[logical]!);
  // the pair and the LAN first; the client dials once the VIP is up, as a real client would
  for (const logical of [...nodes, 'lanhost', ...(nat ? ['nat'] : [])]) await start(logical);
  stage('stack configured');

  const waitOpts = stackWaitOptions(progress, opts.timeoutMs, opts.clock);
  await waitForPair(hosts, waitOpts);
  stage('vrrp: one VIP holder');
  await start('client');
  if (opts.waitUntil === 'tunnel') await waitForTunnel(hosts, waitOpts, stage);
  record.phase = 'ready';
  record.applied = ctx.profile;
  delete record.controllerPid;
  writeLab(record);
  const vm = engine.vm;
  const remoteTopology = opts.ssh ? writeRemoteTopology(record, t, vm ? { port: vm.sshPort, identity: join(vm.imageDir, 'id_ed25519'), hostKey: readImage(vm.imageDir).hostKey } : undefined) : undefined;
  if (remoteTopology) progress.step(`remote topology for the lab's containers over SSH: ${remoteTopology}`);
  return { ...ctx, stages, warnings, ...(remoteTopology ? { remoteTopology } : {}) };
}

/** Interface names inside each container, resolved by address (they do not follow attach order). */
export async function resolveIfaces(hosts: LabHosts, ctx: LabContext): Promise<Record<string, Ifaces>> {
  const t = ctx.topology;
  const nat = t.client.nat;
  const ifaces: Record<string, Ifaces> = {};
  // every host's addresses at once (one status each, in parallel: each is a round trip to a loaded lab)
  const statuses = await Promise.all(Object.entries(ctx.record.containers).map(async ([logical, c]) => [logical, c, await hosts.host(logical).status(t.vips)] as const));
  for (const [logical, c, st] of statuses) {
    const byAddr = new Map(st.addresses.map((a) => [a.cidr.split('/')[0]!, a.dev]));
    const want = logical === 'client' ? { wan: t.client.wan } : logical === 'lanhost' ? { lan: t.lanhost.lan } : logical === 'nat' ? { wan: nat!.outside, lan: nat!.inside } : t.nodes[logical]!;
    ifaces[logical] = {};
    for (const net of ['wan', 'lan'] as const) {
      const addr = (want as Partial<Record<'wan' | 'lan', string>>)[net];
      if (!addr) continue;
      const dev = byAddr.get(addr);
      if (!dev) throw new VipdrillError('ENGINE_FAILED', `container ${c} has no interface with ${addr} (saw ${[...byAddr.entries()].map(([a, d]) => `${d}=${a}`).join(', ')})`);
      ifaces[logical][net] = dev;
    }
  }
  return ifaces;
}

/** Every container's rendered stack for the lab's topology and profile (a node's own files applied over it). */
export function renderConfigs(ctx: LabContext, ifaces: Record<string, Ifaces>, secrets = labSecrets(ctx.topology.name), byo = byoFiles(ctx.loaded)): Record<string, ContainerConfig> {
  const t = ctx.topology;
  const input = { topology: t, profile: ctx.profile, secrets, ifaces };
  const configs: Record<string, ContainerConfig> = {};
  for (const n of Object.keys(t.nodes)) {
    const cfg = byo.apply(renderNode(input, n), n, ifaces[n]!, t);
    configs[n] = ctx.record.nodeInit === 'systemd' ? asSystemdNode(cfg) : cfg;
  }
  configs.client = renderClient(input);
  configs.lanhost = renderLanhost(input);
  if (t.client.nat) configs.nat = renderNatRouter(input);
  return configs;
}

/** Write one container's rendered stack: its files, its daemons' descriptions and their order, its boot script. */
export async function writeConfig(engine: Engine, container: string, cfg: ContainerConfig): Promise<void> {
  // systemd's units, not the supervisor's descriptions (their folder would make the agent take the lab layout)
  if (cfg.init === 'systemd') return engine.putFiles(container, [...cfg.files, renderBootScript(cfg.setup)]);
  const order = { path: '/etc/vipdrill/daemons/order', content: cfg.daemons.map((d) => d.name).join('\n') + '\n', mode: 0o644 };
  await engine.putFiles(container, [...cfg.files, ...cfg.daemons.map(renderDaemonConf), order, renderBootScript(cfg.setup)]);
}

/** Start a systemd node's stack once its files are written: the units that started at boot had none. */
async function startSystemdStack(engine: Engine, container: string): Promise<void> {
  const r = await engine.exec(container, [SYSTEMD_UP]);
  if (r.exitCode !== 0) throw new VipdrillError('ENGINE_FAILED', `${container}: starting the stack's systemd units failed (exit ${r.exitCode}): ${(r.stderr || r.stdout).trim().slice(-600)}`);
}

type WaitOptions = Parameters<typeof waitFor>[4];

/** Deadlines and progress for the waits of a stack coming up. */
export function stackWaitOptions(progress: Progress, timeoutMs = 180_000, clock?: Clock): WaitOptions {
  return { timeoutMs, intervalMs: 250, maxIntervalMs: 1000, clock, onStillWaiting: (last: string, ms: number) => progress.step(`  still waiting (${(ms / 1000).toFixed(0)} s): ${last}`) };
}

/** Until exactly one node holds the VIPs: one MASTER, the others BACKUP. */
export async function waitForPair(hosts: LabHosts, o: WaitOptions): Promise<NodeStatus[]> {
  return waitFor(
    'exactly one node to hold the VIPs (one MASTER, the other BACKUP)',
    () => nodesStatus(hosts),
    (ns) => ns.filter((n) => n.holdsVip).length === 1 && ns.filter((n) => n.vrrpState === 'MASTER').length === 1 && ns.filter((n) => n.vrrpState === 'BACKUP').length === ns.length - 1,
    describeNodes,
    o,
  );
}

/** Until the client's IKE SA, L2TP tunnel and PPP are up and a ping through ppp0 reaches the LAN host. */
export async function waitForTunnel(hosts: LabHosts, o: WaitOptions, stage: (name: string) => void = () => {}): Promise<void> {
  const cs = () => hosts.host('client').client(hosts.lab.topology.lanhost.lan, true);
  await waitFor('the client IKE SA and its transport-mode CHILD_SA', cs, (s) => s.ikeSa && s.childSa, describeClient, o);
  stage('ike: SA established');
  await waitFor('the client L2TP tunnel', cs, (s) => s.l2tpTunnel, describeClient, o);
  stage('l2tp: tunnel up');
  await waitFor('PPP on the client (ppp0 with an address)', cs, (s) => s.pppUp, describeClient, o);
  stage('ppp: up');
  await waitFor('a ping from the client through ppp0 to the LAN host', cs, (s) => s.lanReachable, describeClient, o);
  stage('lan: reachable through the tunnel');
}

/**
 * The per-boot setup the supervisor runs before any daemon, at the first start and again after every
 * container restart (a crashed node that comes back): lab traffic never leaves the lab, so no
 * default route anywhere; then the rendered setup (firewall, routes).
 */
export function renderBootScript(setup: string[]): { path: string; content: string; mode: number } {
  return { path: '/etc/vipdrill/boot.sh', content: ['# Rendered by vipdrill; run by vipdrill-supervisor at each container start.', 'ip route del default 2>/dev/null || true', ...setup, ''].join('\n'), mode: 0o755 };
}

export function describeNodes(ns: NodeStatus[]): string {
  return ns.map((n) => `${n.name}=${n.vrrpState}${n.holdsVip ? '(VIP)' : ''}`).join(' ');
}

export function describeClient(s: ClientStatus): string {
  return `ike=${s.ikeSa ? 'up' : 'down'} child=${s.childSa ? 'up' : 'down'} l2tp=${s.l2tpTunnel ? 'up' : 'down'} ppp=${s.pppUp ? 'up' : 'down'} lan=${s.lanReachable ? 'reachable' : 'unreachable'}`;
}

/** Every node's status, sampled at once through its agent. */
export function nodesStatus(hosts: LabHosts): Promise<NodeStatus[]> {
  return Promise.all(hosts.nodes.map((n) => hosts.host(n).status(hosts.lab.topology.vips)));
}

export interface LabStatus {
  lab: string;
  engine: string;
  engineInfo: Engine['info'];
  runId: string;
  phase: LabRecord['phase'];
  profile: string;
  vipHolder: string | null;
  vipHolders: string[];
  nodes: { name: string; vrrpState: string; holdsVip: boolean; containerState: string; daemons: Record<string, boolean> }[];
  client: ClientStatus & { containerState: string };
}

export async function status(engine: Engine, record: LabRecord): Promise<LabStatus> {
  await using hosts = new LabHosts(engine, { ...loadLabInputs(record.topologyFile, record.profile, record.name), record });
  const t = hosts.lab.topology;
  const ns = await nodesStatus(hosts);
  const holders = ns.filter((n) => n.holdsVip).map((n) => n.name);
  const clientState = await hosts.host('client').containerState();
  const client: ClientStatus =
    clientState === 'running'
      ? await hosts.host('client').client(t.lanhost.lan, true)
      : { ikeSa: false, childSa: false, l2tpTunnel: false, pppUp: false, tunnelIp: null, lanReachable: false };
  return {
    lab: record.name,
    engine: engine.info.name,
    engineInfo: engine.info,
    runId: record.runId,
    phase: record.phase,
    profile: record.profile,
    vipHolder: holders.length === 1 ? holders[0]! : null,
    vipHolders: holders,
    nodes: ns.map((n) => ({ name: n.name, vrrpState: n.vrrpState, holdsVip: n.holdsVip, containerState: n.containerState, daemons: n.daemons })),
    client: { ...client, containerState: clientState },
  };
}

/** Remove every container and network of a lab (by label), reporting all failures together. */
export async function removeLabObjects(engine: Engine, labName: string | undefined): Promise<{ containers: number; networks: number }> {
  const objs = await engine.list({ [LABEL_LAB]: labName });
  const errors: string[] = [];
  for (const c of objs.containers) await engine.removeContainer(c.id).catch((e: Error) => errors.push(`container ${c.name}: ${e.message}`));
  for (const n of objs.networks) await engine.removeNetwork(n.id).catch((e: Error) => errors.push(`network ${n.name}: ${e.message}`));
  if (errors.length > 0) throw new VipdrillError('ENGINE_FAILED', `cleanup incomplete:\n  ${errors.join('\n  ')}`);
  return { containers: objs.containers.length, networks: objs.networks.length };
}

export function readTopologyText(file: string): string {
  return readFileSync(file, 'utf8');
}
