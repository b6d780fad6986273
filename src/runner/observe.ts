import type { Engine } from '../lab/engine.js';
import { nodesStatus, type LabContext } from '../lab/lab.js';
import { clientLanCheck, clientStatus, type ClientStatus, type NodeStatus } from '../lab/probes.js';
import type { Condition } from '../scenario/schema.js';
import { ARP_FAULT_TABLE, FAULT_TABLE } from '../faults/lab-shell.js';

/** One look at the lab: VRRP state and VIPs per node, and (when asked) the client's tunnel. Lab clock. */
export interface Sample {
  t: number;
  nodes: NodeStatus[];
  holders: string[];
  masters: string[];
  client?: ClientStatus;
}

const needsClient = (c: Condition): boolean | 'lan' => (c === 'baseline' ? true : c === 'tunnel-up' || c === 'tunnel-down' ? 'lan' : false);

/** withClient: 'full' (IKE, L2TP, PPP, LAN: slow under emulation), 'lan' (PPP and a ping), or none. */
export async function sample(engine: Engine, lab: LabContext, withClient: boolean | 'lan'): Promise<Sample> {
  const nodes = await nodesStatus(engine, lab);
  const probe = withClient === 'lan' ? clientLanCheck : clientStatus;
  const client = withClient ? await probe(engine, lab.record.containers.client!, lab.topology.lanhost.lan).catch(() => undefined) : undefined;
  const t = client?.clock ?? nodes.find((n) => n.clock)?.clock ?? 0;
  return { t, nodes, holders: nodes.filter((n) => n.holdsVip).map((n) => n.name), masters: nodes.filter((n) => n.vrrpState === 'MASTER').map((n) => n.name), ...(client ? { client } : {}) };
}

export interface ConditionContext {
  /** the VIP holder when the run started and when the first fault was injected */
  holderAtStart: string;
  holderAtFault?: string;
  /** auth failure lines counted at the start of the run, per container */
  authBaseline: Map<string, number>;
}

/** Evaluate a condition; returns whether it holds and a short description of what was seen. */
export async function evaluate(engine: Engine, lab: LabContext, c: Condition, ctx: ConditionContext): Promise<{ ok: boolean; seen: string; sample?: Sample }> {
  if (c === 'auth-failure') {
    const counts = await authFailureCounts(engine, lab);
    const grown = [...counts].filter(([k, n]) => n > (ctx.authBaseline.get(k) ?? 0)).map(([k]) => k);
    return { ok: grown.length > 0, seen: grown.length > 0 ? `authentication failures logged on ${grown.join(', ')}` : 'no new authentication failure in the logs' };
  }
  const s = await sample(engine, lab, needsClient(c));
  const one = s.holders.length === 1 && s.masters.length === 1;
  const lan = s.client?.lanReachable === true;
  const ok = ((): boolean => {
    switch (c) {
      case 'baseline':
        return one && s.nodes.every((n) => n.vrrpState === 'MASTER' || n.vrrpState === 'BACKUP') && lan;
      case 'single-holder':
        return s.holders.length === 1;
      case 'split-brain':
        return s.holders.length > 1 || s.masters.length > 1;
      case 'vip-moved':
        return s.holders.length === 1 && s.holders[0] !== (ctx.holderAtFault ?? ctx.holderAtStart);
      case 'vip-on-original':
        return s.holders.length === 1 && s.holders[0] === ctx.holderAtStart;
      case 'vip-on-a':
      case 'vip-on-b':
        return s.holders.length === 1 && s.holders[0] === c.slice(-1);
      case 'tunnel-up':
        return lan;
      case 'tunnel-down':
        return !lan;
    }
  })();
  return { ok, seen: describeSample(s), sample: s };
}

export function describeSample(s: Sample): string {
  const nodes = s.nodes.map((n) => `${n.name}=${n.containerState === 'running' ? n.vrrpState : n.containerState}${n.holdsVip ? '(VIP)' : ''}`).join(' ');
  const c = s.client;
  if (!c) return nodes;
  // a lan-check sample has no IKE/L2TP fields: show only what was looked at
  const ikeL2tp = c.lanCheckOnly ? '' : `ike=${c.ikeSa ? 'up' : 'down'} l2tp=${c.l2tpTunnel ? 'up' : 'down'} `;
  return `${nodes}; client ${ikeL2tp}ppp=${c.pppUp ? 'up' : 'down'} lan=${c.lanReachable ? 'reachable' : 'unreachable'}`;
}

/** Authentication failures as logged by charon (IKE) and pppd (CHAP), counted per container. */
const AUTH_PATTERNS = [
  'AUTHENTICATION_FAILED',
  'INVALID_HASH_INFORMATION',
  'invalid HASH_V1 payload',
  'integrity check failed',
  'CHAP authentication failed',
  'failed CHAP authentication',
  'CHAP peer authentication failed',
  'No CHAP secret found',
];

export async function authFailureCounts(engine: Engine, lab: LabContext): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  const pattern = AUTH_PATTERNS.map((p) => `-e '${p}'`).join(' ');
  for (const h of [...Object.keys(lab.topology.nodes), 'client']) {
    const c = lab.record.containers[h]!;
    const r = await engine.exec(c, ['sh', '-c', `cat /var/log/vipdrill/charon.log /var/log/vipdrill/pppd.log 2>/dev/null | grep -c ${pattern} || true`]).catch(() => undefined);
    if (r) out.set(h, Number(r.stdout.trim()) || 0);
  }
  return out;
}

/** Hosts that still carry vipdrill's fault table (an invariant after every run: none). */
export async function leftoverFaultTables(engine: Engine, lab: LabContext): Promise<string[]> {
  const left: string[] = [];
  for (const [h, c] of Object.entries(lab.record.containers)) {
    if ((await engine.containerState(c)) !== 'running') continue;
    const r = await engine.exec(c, ['sh', '-c', `{ nft list table ${FAULT_TABLE} || nft list table ${ARP_FAULT_TABLE}; } >/dev/null 2>&1 && echo yes || echo no; tc qdisc show | grep -c netem || true`]);
    const [table, netem] = r.stdout.trim().split('\n');
    if (table === 'yes' || Number(netem) > 0) left.push(h);
  }
  return left;
}

/**
 * Which node carries the client's PPP session (a pppd process for it): the one node with pppd in the
 * per-node counts when there is exactly one, else the sample's. The counts are taken after the baseline
 * came back; the baseline sample queries the nodes before the client and can straddle a failback's
 * reconnect (the node's pppd not yet spawned, the client's session already up through it).
 */
export function sessionNode(s: Sample, counts: Record<string, number> = {}): string | undefined {
  const carrying = Object.entries(counts).filter(([, n]) => n > 0).map(([k]) => k);
  if (carrying.length === 1) return carrying[0];
  return s.nodes.find((n) => n.daemons.pppd === true)?.name;
}
