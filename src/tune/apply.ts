import { BYO_PATHS, renderDaemonConf, type ContainerConfig } from '../stack/render.js';
import type { Profile } from '../topology/schema.js';

/**
 * How a node takes a new profile with the least disturbance to the pair. Restarting every daemon of
 * both nodes (as a sweep's switch did first) stops charon long enough for keepalived's health check to
 * fail: the master went to FAULT, the VIP moved to the peer and came back by preemption, and the pair's
 * calm took 10-28 s of a switch under TCG. Each daemon here takes only the files that changed, and the
 * gentlest way its upstream allows:
 * - keepalived reloads on SIGHUP and keeps each instance's state across it (its restore_vrrp_state): no
 *   VIP move. The VRRP version and the realtime priority are set up at start, so a change of either
 *   restarts it. So does any change while its VRRP process runs realtime (`vrrp.rtPriority`): keepalived
 *   2.2.7 (bookworm) then fails to set the process's RLIMIT_RTTIME on reload ("child process cannot set
 *   realtime rlimit"), the kernel kills it, and the respawned process drops the VIPs and elects anew
 *   (the master back after 1-3.5 s; seen in the lab on every reload, 2026-12-08).
 * - charon loads changed connections with `swanctl --load-all`: the SAs up keep their settings, new ones
 *   take the new (the client dials anew after the pair). Its strongswan.conf settings need a restart.
 * - pppd reads its options and secrets at each call, so those files need nothing.
 * - xl2tpd has no reload: a changed xl2tpd.conf restarts it.
 * A changed file this list does not know restarts the whole stack, as before; so does a keepalived
 * restart (below).
 *
 * The plan compares the stack rendered for the profile the daemons took last (the lab record's
 * `applied`) with the one for the new profile. Where that is unknown (a switch interrupted while it
 * applied, a record of an earlier version) the whole stack restarts.
 */

export type NodeStep = { kind: 'restart'; daemon: string } | { kind: 'reload-keepalived' } | { kind: 'reload-conns' };

export interface NodePlan {
  /** in the order to run them: restarts first, keepalived last (its health check watches the others) */
  steps: NodeStep[];
  /** the files that differ, for the progress line */
  changed: string[];
}

const STACK = ['charon', 'xl2tpd', 'keepalived'] as const;
const READ_PER_CALL = new Set<string>([BYO_PATHS.pppOptions, BYO_PATHS.chapSecrets]);

/** Paths whose content or mode differ between two renderings of one container (the daemons' descriptors included). */
export function changedFiles(before: ContainerConfig, after: ContainerConfig): string[] {
  const files = (c: ContainerConfig) => new Map([...c.files, ...c.daemons.map(renderDaemonConf)].map((f) => [f.path, `${f.mode}:${f.content}`]));
  const a = files(before);
  const b = files(after);
  return [...new Set([...a.keys(), ...b.keys()])].filter((p) => a.get(p) !== b.get(p)).sort();
}

/** What one node must do to run `to` after running `from` (see above). */
export function planNode(before: ContainerConfig, after: ContainerConfig, from: Profile, to: Profile): NodePlan {
  const changed = changedFiles(before, after);
  const restart = new Set<string>();
  let keepalived = false;
  let conns = false;
  for (const path of changed) {
    const daemon = /^\/etc\/vipdrill\/daemons\/([a-z0-9_-]+)\.conf$/.exec(path)?.[1];
    if (daemon) restart.add(daemon);
    else if (path === BYO_PATHS.keepalived) keepalived = true;
    else if (path === BYO_PATHS.swanctl) conns = true;
    else if (path === BYO_PATHS.xl2tpd) restart.add('xl2tpd');
    else if (!READ_PER_CALL.has(path)) STACK.forEach((d) => restart.add(d));
  }
  if (keepalived && (from.vrrp.version !== to.vrrp.version || from.vrrp.rtPriority > 0 || to.vrrp.rtPriority > 0)) restart.add('keepalived');
  // keepalived restarted moves the VIP (twice, with preemption) while the nodes' charon keep the client's
  // SAs: in CI the client then once hung in its charon's shutdown, once needed a redial (70 s), and once
  // lost probes every few hundred ms in the next drill. A restart of the whole stack, as before, clears the
  // nodes' SAs with it, and was rehearsed many times: where the VIP moves anyway, the node restarts it all.
  if (restart.has('keepalived')) STACK.forEach((d) => restart.add(d));
  // the stack's daemons in their start order first, then any other whose descriptor changed; keepalived last
  const order = [...STACK.filter((d) => restart.has(d)), ...[...restart].filter((d) => !(STACK as readonly string[]).includes(d))];
  const steps: NodeStep[] = order.filter((d) => d !== 'keepalived').map((daemon) => ({ kind: 'restart', daemon }));
  if (conns && !restart.has('charon')) steps.push({ kind: 'reload-conns' });
  if (restart.has('keepalived')) steps.push({ kind: 'restart', daemon: 'keepalived' });
  else if (keepalived) steps.push({ kind: 'reload-keepalived' });
  return { steps, changed };
}

/** The plan when what the daemons run is unknown: the whole stack restarts. */
export function restartAll(): NodePlan {
  return { steps: STACK.map((daemon) => ({ kind: 'restart', daemon })), changed: [] };
}

export function describeStep(s: NodeStep): string {
  return s.kind === 'restart' ? `restart ${s.daemon}` : s.kind === 'reload-conns' ? 'charon loads its connections again' : 'keepalived reloads (SIGHUP)';
}
