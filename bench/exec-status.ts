/**
 * The status sample as it was before the agents: one `docker exec vipdrill-ctl` per host, parsed from
 * key=value lines. Kept only so that `npm run bench` measures the agents against it.
 */
import type { Engine } from '../src/lab/engine.js';
import type { ClientStatus, NodeStatus } from '../src/lab/probes.js';

function parseKv(text: string): { map: Map<string, string>; addrs: { dev: string; cidr: string }[] } {
  const map = new Map<string, string>();
  const addrs: { dev: string; cidr: string }[] = [];
  for (const line of text.split('\n')) {
    const i = line.indexOf('=');
    if (i < 0) continue;
    const k = line.slice(0, i).trim();
    const v = line.slice(i + 1).trim();
    if (k === 'addr') {
      const [dev, cidr] = v.split(/\s+/);
      if (dev && cidr) addrs.push({ dev, cidr });
    } else map.set(k, v);
  }
  return { map, addrs };
}

function parseNodeStatus(name: string, container: string, containerState: string, text: string, vips: { wan: string; lan: string }): NodeStatus {
  const { map, addrs } = parseKv(text);
  const daemons: Record<string, boolean> = {};
  for (const [k, v] of map) if (k.startsWith('daemon.')) daemons[k.slice(7)] = v.startsWith('running');
  // processes not run by the supervisor (pppd, one per PPP session, spawned by xl2tpd)
  for (const [k, v] of map) if (k.startsWith('process.')) daemons[k.slice(8)] = v.startsWith('running');
  const has = (ip: string) => addrs.some((a) => a.cidr.split('/')[0] === ip);
  const keepalivedUp = daemons.keepalived ?? false;
  return {
    name,
    container,
    containerState,
    vrrpState: containerState !== 'running' ? containerState.toUpperCase() : keepalivedUp ? (map.get('vrrp.state') ?? 'INIT') : 'STOPPED',
    holdsVip: has(vips.wan),
    holdsLanVip: has(vips.lan),
    daemons,
    addresses: addrs,
    clock: map.has('clock') ? Number(map.get('clock')) : undefined,
  };
}

function parseClientStatus(text: string): ClientStatus {
  const { map } = parseKv(text);
  const up = (k: string) => map.get(k) === 'up';
  return {
    ikeSa: up('ike'),
    childSa: up('child'),
    l2tpTunnel: up('l2tp'),
    pppUp: up('ppp'),
    tunnelIp: map.get('tunnelip') ?? null,
    lanReachable: up('lan'),
    clock: map.has('clock') ? Number(map.get('clock')) : undefined,
    // lan-check output has no ike/l2tp lines: those fields were not looked at
    ...(map.has('ike') ? {} : { lanCheckOnly: true }),
  };
}

async function nodeStatus(engine: Engine, name: string, container: string, vips: { wan: string; lan: string }): Promise<NodeStatus> {
  const state = (await engine.containerState(container)) ?? 'missing';
  if (state !== 'running') return parseNodeStatus(name, container, state, '', vips);
  const r = await engine.exec(container, ['/usr/local/sbin/vipdrill-ctl', 'status'], { timeoutMs: 20_000 });
  return parseNodeStatus(name, container, state, r.stdout, vips);
}

/** Only PPP and one ping through it: the cheap sample for tunnel-up/tunnel-down waits. */
export async function clientLanCheck(engine: Engine, container: string, lanhost: string): Promise<ClientStatus> {
  const r = await engine.exec(container, ['/usr/local/sbin/vipdrill-ctl', 'lan-check', lanhost], { timeoutMs: 20_000 });
  return parseClientStatus(r.stdout);
}

/** Every node's status and the client's lan check, one exec each. */
export function execStatus(engine: Engine, ctx: { record: { containers: Record<string, string> }; topology: { nodes: Record<string, unknown>; vips: { wan: string; lan: string }; lanhost: { lan: string } } }): Promise<unknown> {
  const c = ctx.record.containers;
  return Promise.all([...Object.keys(ctx.topology.nodes).map((n) => nodeStatus(engine, n, c[n]!, ctx.topology.vips)), clientLanCheck(engine, c.client!, ctx.topology.lanhost.lan)]);
}
