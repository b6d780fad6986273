import type { LabHosts } from '../hosts/lab-hosts.js';
import type { ClientStatus, NodeStatus } from '../lab/probes.js';
import type { Condition } from '../scenario/schema.js';

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
export async function sample(hosts: LabHosts, withClient: boolean | 'lan'): Promise<Sample> {
  const t = hosts.lab.topology;
  // every host at once, each over its live agent stream
  const [nodes, client] = await Promise.all([
    Promise.all(hosts.nodes.map((n) => hosts.host(n).status(t.vips))),
    // the client's ARP entry for the VIP too, where the client sits on the VIP's segment (behind NAT it is the router's)
    withClient ? hosts.host('client').client(t.lanhost.lan, withClient === true, t.client.nat ? undefined : t.vips.wan).catch(() => undefined) : Promise.resolve(undefined),
  ]);
  for (const n of nodes) if (n.clock !== undefined) hosts.noteStatus(n.name, n.vrrpState, n.clock);
  return sampleOf(nodes, client);
}

export function sampleOf(nodes: NodeStatus[], client: ClientStatus | undefined): Sample {
  const t = client?.clock ?? nodes.find((n) => n.clock)?.clock ?? 0;
  return { t, nodes, holders: nodes.filter((n) => n.holdsVip).map((n) => n.name), masters: nodes.filter((n) => n.vrrpState === 'MASTER').map((n) => n.name), ...(client ? { client } : {}) };
}

export interface ConditionContext {
  /** the VIP holder when the run started and when the first fault was injected */
  holderAtStart: string;
  holderAtFault?: string;
  /** the node that must hold the VIP at the baseline (the lab's keepalived preempts: the highest priority) */
  preferred?: string | undefined;
  /** auth failure lines counted at the start of the run, per container */
  authBaseline: Map<string, number>;
}

/** Evaluate a condition; returns whether it holds and a short description of what was seen. */
export async function evaluate(hosts: LabHosts, c: Condition, ctx: ConditionContext): Promise<{ ok: boolean; seen: string; sample?: Sample }> {
  if (c === 'auth-failure') {
    const counts = await authFailureCounts(hosts);
    const grown = [...counts].filter(([k, n]) => n > (ctx.authBaseline.get(k) ?? 0)).map(([k]) => k);
    return { ok: grown.length > 0, seen: grown.length > 0 ? `authentication failures logged on ${grown.join(', ')}` : 'no new authentication failure in the logs' };
  }
  const s = await sample(hosts, needsClient(c));
  const one = s.holders.length === 1 && s.masters.length === 1;
  const lan = s.client?.lanReachable === true;
  const ok = ((): boolean => {
    switch (c) {
      case 'baseline':
        return one && s.nodes.every((n) => n.vrrpState === 'MASTER' || n.vrrpState === 'BACKUP') && lan && (ctx.preferred === undefined || s.holders[0] === ctx.preferred);
      case 'single-holder':
        return s.holders.length === 1;
      case 'split-brain':
        return s.holders.length > 1 || s.masters.length > 1;
      case 'vip-moved':
        return s.holders.length === 1 && s.holders[0] !== (ctx.holderAtFault ?? ctx.holderAtStart);
      case 'vip-on-original':
        return s.holders.length === 1 && s.holders[0] === ctx.holderAtStart;
      case 'tunnel-up':
        return lan;
      case 'tunnel-down':
        return !lan;
      default:
        // vip-on-<node>
        return s.holders.length === 1 && s.holders[0] === c.slice('vip-on-'.length);
    }
  })();
  const waitsFor = c === 'baseline' && ctx.preferred !== undefined && one && s.holders[0] !== ctx.preferred ? ` (${ctx.preferred}, the highest priority, preempts: it must take the VIP back)` : '';
  return { ok, seen: describeSample(s) + waitsFor, sample: s };
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

export async function authFailureCounts(hosts: LabHosts): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  const names = [...hosts.nodes, 'client'];
  const counts = await Promise.all(names.map((h) => hosts.host(h).countLines(['charon.log', 'pppd.log'], AUTH_PATTERNS).catch(() => undefined)));
  names.forEach((h, i) => counts[i] !== undefined && out.set(h, counts[i]));
  return out;
}

/** What vipdrill left on each host: fault tables, netem qdiscs, fault or probe processes (invariants: none). */
export async function leftovers(hosts: LabHosts): Promise<{ rules: string[]; processes: string[] }> {
  const rules: string[] = [];
  const processes: string[] = [];
  await Promise.all(
    [...hosts.hosts.values()].map(async (h) => {
      if ((await h.containerState()) !== 'running') return;
      const l = await h.leftovers();
      if (l.tables.length > 0 || l.netem.length > 0) rules.push(`${h.name} (${[...l.tables, ...l.netem].join('; ')})`);
      for (const id of l.leases ?? []) processes.push(`${h.name}: lease ${id} still armed`);
      for (const p of l.processes) processes.push(`${h.name}: ${p}`);
    }),
  );
  return { rules, processes };
}
