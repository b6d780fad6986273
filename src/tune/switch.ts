import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { stringify } from 'yaml';
import { errorMessage, TimeoutError, VipdrillError } from '../errors.js';
import type { LabHosts } from '../hosts/lab-hosts.js';
import type { Engine } from '../lab/engine.js';
import { describeNodes, nodesStatus, renderConfigs, resolveIfaces, stackWaitOptions, waitForPair, waitForTunnel, writeConfig, type LabContext } from '../lab/lab.js';
import { awaitCalm, calmWindowMs } from '../run/stability.js';
import { isVrrpTransition } from '../run/events.js';
import { writeLab } from '../lab/state.js';
import type { Profile } from '../topology/schema.js';
import type { Progress } from '../util/progress.js';
import { formatMs } from '../util/time.js';
import { displayPath } from '../topology/load.js';
import { readTimers, type TimerCheck } from './timers.js';
import { changedFiles, describeStep, planNode, restartAll, type NodeStep } from './apply.js';

/**
 * A tune point on a running lab: render the stack for the point's profile, write it, have the pair take
 * the files that changed (reloaded where the daemon can, see apply.ts), then once the pair is calm restart
 * the client's daemons, as a real client redials, wait for the baseline, and read the timers in force back
 * from the daemons. No new lab, no container restart.
 */

/**
 * The client's daemons that read the profile's settings at start: they restart, so the client dials with
 * the point's timers, unless nothing of the client's changed and the pair only reloaded keepalived
 * without moving the VIP (an advert interval, a priority): then the client's tunnel and timers are the
 * point's already, and a redial would only add an IKE negotiation (10-20 s under TCG) to the switch.
 */
const CLIENT_RESTART = ['charon', 'xl2tpd'] as const;

export interface SwitchResult {
  /** wall time from the first file written to the tunnel back (ms) */
  ms: number;
  /** where that time went (ms): the stack rendered and written, the pair restarted and calm, the client back */
  steps: { write: number; pair: number; client: number };
  /** what each node did to take the point's files (apply.ts): reloads where the daemon allows */
  nodes: Record<string, string[]>;
  /** VRRP transitions the agents pushed from the files written to the pair calm (0: the VIP never moved) */
  vrrpTransitions: number;
  /** the client kept its tunnel (see CLIENT_RESTART), or redialled with the point's files */
  client: 'kept' | 'redialled';
  timers: TimerCheck;
  /** the profile file the lab now runs (its record names it, so status, heal and reap read the same) */
  profileFile: string;
}

/** Write a profile as YAML that `vipdrill up --profile <file>` accepts. */
export function writeProfile(file: string, p: Profile, header: string[] = []): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, [...header.map((l) => `# ${l}`), stringify(p, { lineWidth: 0 })].join('\n'));
}

async function restart(hosts: LabHosts, host: string, daemons: readonly string[], progress: Progress): Promise<void> {
  for (const daemon of daemons) await apply(hosts, host, { kind: 'restart', daemon }, progress);
}

async function apply(hosts: LabHosts, host: string, step: NodeStep, progress: Progress): Promise<void> {
  const h = hosts.host(host);
  let warning: string | undefined;
  try {
    if (step.kind === 'reload-conns') await h.act('fault', { argv: ['ike-reload'] });
    else if (step.kind === 'reload-keepalived') await h.act('kill-daemon', { daemon: 'keepalived', signal: 'HUP' });
    else {
      const { result } = await h.act<{ killed?: boolean; graceS?: number }>('restart-daemon', { daemon: step.daemon });
      // the agent gives a daemon a grace after SIGTERM, then SIGKILL (a charon hung in its shutdown once)
      if (result.killed) warning = `${step.daemon} on ${host} still ran ${result.graceS ?? '?'} s after SIGTERM: killed (SIGKILL) and started again`;
    }
  } catch (e) {
    throw new VipdrillError('ENGINE_FAILED', `${describeStep(step)} on ${host} for the new profile failed: ${errorMessage(e)}`);
  }
  if (warning) progress.step(`  warning: ${warning}`);
}

/**
 * The client's tunnel after its daemons restarted. If the IKE SA is not up within a minute (its first
 * exchange lost to a node still settling), the client redials once, as a real one would, before the
 * switch is an error.
 */
async function dial(hosts: LabHosts, progress: Progress, signal?: AbortSignal): Promise<void> {
  try {
    await waitForTunnel(hosts, { ...stackWaitOptions(progress, 60_000), signal });
  } catch (e) {
    if (!(e instanceof TimeoutError)) throw e;
    progress.step(`  the client tunnel did not come up (${e.message}); redialling: restarting ${CLIENT_RESTART.join(', ')} on the client`);
    await restart(hosts, 'client', CLIENT_RESTART, progress);
    await waitForTunnel(hosts, { ...stackWaitOptions(progress, 120_000), signal });
  }
}

/**
 * Switch the running lab `lab` (its LabContext is updated in place: every later repeat reads the new
 * profile) to `profile`, saved at `profileFile`. A point whose timers the daemons do not run is an error
 * (TIMERS_MISMATCH) carrying what was read. `signal` (Ctrl-C) ends its waits at once.
 */
export async function switchProfile(engine: Engine, hosts: LabHosts, lab: LabContext, profile: Profile, profileFile: string, progress: Progress, signal?: AbortSignal): Promise<SwitchResult> {
  const t0 = performance.now();
  // what the daemons run now; unknown (an interrupted switch, an older record): the whole stack restarts
  const from = lab.record.applied;
  writeProfile(profileFile, profile, [`the profile of a vipdrill tune point (${new Date().toISOString()})`]);
  lab.profile = profile;
  lab.record.profile = profileFile;
  delete lab.record.applied;
  writeLab(lab.record);
  // every agent at once (a sweep's first switch would otherwise start them one by one, each a few seconds under TCG)
  await hosts.connect();
  const since = await hosts.host('client').now();
  const ifaces = await resolveIfaces(hosts, lab);
  const configs = renderConfigs(lab, ifaces);
  const before = from ? renderConfigs({ ...lab, profile: from }, ifaces) : undefined;
  const nodes = hosts.nodes;
  const plans = Object.fromEntries(nodes.map((n) => [n, before && from ? planNode(before[n]!, configs[n]!, from, profile) : restartAll()]));
  await Promise.all([...nodes, 'client'].map((h) => writeConfig(engine, lab.record.containers[h]!, configs[h]!)));
  const written = performance.now();
  progress.detail(`  profile written in ${formatMs(written - t0)}; ${nodes.map((n) => `${n}: ${plans[n]!.steps.map(describeStep).join(', ') || 'nothing changed'}`).join('; ')}`);
  await Promise.all(nodes.map(async (n) => { for (const step of plans[n]!.steps) await apply(hosts, n, step, progress); }));
  const waitOpts = { ...stackWaitOptions(progress, 120_000), signal };
  await waitForPair(hosts, waitOpts);
  // where keepalived restarted, or a health check saw a daemon restart, the VIP can move twice (the old
  // master's priority-0 advert or FAULT, then its preemption once it is back). A client that dials in between negotiates IKE with one node and
  // retransmits to the other for minutes, so the client dials only once the pair has been calm.
  const settling = await hosts.host(nodes[0]!).now();
  // counted from now: a reload's effect on VRRP, if any, comes after the signal was delivered
  const calm = await awaitCalm(hosts, { requiredMs: calmWindowMs(lab.topology, profile), since: settling, calmFrom: settling, tunnelOk: () => Promise.resolve(true), ...(signal ? { signal } : {}) });
  lab.record.applied = profile;
  writeLab(lab.record);
  const pair = await nodesStatus(hosts);
  const paired = performance.now();
  const vrrpTransitions = hosts.events(since, calm.to + 1).filter(isVrrpTransition).length;
  const reloadOnly = nodes.every((n) => plans[n]!.steps.every((st) => st.kind === 'reload-keepalived'));
  const clientSame = before !== undefined && changedFiles(before.client!, configs.client!).length === 0;
  const keep = reloadOnly && clientSame && vrrpTransitions === 0 && (await hosts.host('client').client(lab.topology.lanhost.lan, false)).lanReachable;
  progress.detail(`  pair calm for ${formatMs(calm.requiredMs)} (${describeNodes(pair)}) after ${formatMs(paired - written)}, ${vrrpTransitions} VRRP transition(s); ${keep ? "the client keeps its tunnel (none of its files changed, and the VIP did not move)" : `restarting ${CLIENT_RESTART.join(', ')} on the client`}`);
  if (!keep) {
    await restart(hosts, 'client', CLIENT_RESTART, progress);
    await dial(hosts, progress, signal);
  }
  const ms = performance.now() - t0;
  const steps = { write: written - t0, pair: paired - written, client: t0 + ms - paired };
  const backup = pair.find((n) => !n.holdsVip)!.name;
  // a client that kept its tunnel logged its options at its last dial, before this switch
  const timers = await readTimers(hosts, profile, backup, ifaces[backup]!.wan!, keep ? 0 : since);
  if (!timers.ok) throw new TimersMismatchError(timers);
  const applied = Object.fromEntries(nodes.map((n) => [n, plans[n]!.steps.map(describeStep)]));
  return { ms, steps, nodes: applied, vrrpTransitions, client: keep ? 'kept' : 'redialled', timers, profileFile };
}

/**
 * Put a lab's own profile back after a sweep or a remedy trial switched it. After an interrupt there is
 * no time for a switch (20-60 s under TCG, past the 30 s an interrupt may take): the lab keeps the
 * profile it was switched to, which its record names, and the message says so and how to get back.
 */
export async function restoreProfile(engine: Engine, hosts: LabHosts, lab: LabContext, original: { profile: Profile; file: string }, profileFile: string, progress: Progress, signal?: AbortSignal): Promise<void> {
  if (lab.profile === original.profile) return;
  if (signal?.aborted) {
    progress.step(`interrupted: lab ${lab.record.name} keeps the profile it was switched to (${displayPath(lab.record.profile)}), not its own (${displayPath(original.file)}); 'vipdrill down --name ${lab.record.name}' then 'vipdrill up -t ${displayPath(lab.record.topologyFile)} --name ${lab.record.name} --engine ${lab.record.engine} --profile ${displayPath(original.file)}' bring it back`);
    return;
  }
  progress.step(`restoring lab ${lab.record.name}'s own profile (${displayPath(original.file)})`);
  await switchProfile(engine, hosts, lab, original.profile, profileFile, progress).catch((e: unknown) => progress.step(`warning: could not restore the profile: ${errorMessage(e)}`));
  lab.record.profile = original.file;
}

export class TimersMismatchError extends VipdrillError {
  override name = 'TimersMismatchError';
  constructor(readonly timers: TimerCheck) {
    super('TIMERS_MISMATCH', `the daemons do not run the point's timers: ${timers.problems.join('; ')}`);
  }
}
