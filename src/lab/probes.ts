import type { Engine } from './engine.js';

/** What one node reports through `vipdrill-ctl status`. */
export interface NodeStatus {
  name: string;
  container: string;
  containerState: string;
  vrrpState: string;
  holdsVip: boolean;
  holdsLanVip: boolean;
  daemons: Record<string, boolean>;
  addresses: { dev: string; cidr: string }[];
  /** the lab kernel's CLOCK_REALTIME when the sample was taken (seconds) */
  clock?: number;
}

export interface ClientStatus {
  ikeSa: boolean;
  childSa: boolean;
  l2tpTunnel: boolean;
  pppUp: boolean;
  tunnelIp: string | null;
  lanReachable: boolean;
  clock?: number;
  /** a lan-check sample: ikeSa/childSa/l2tpTunnel were not looked at */
  lanCheckOnly?: boolean;
}

export function parseKv(text: string): { map: Map<string, string>; addrs: { dev: string; cidr: string }[] } {
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

export function parseNodeStatus(name: string, container: string, containerState: string, text: string, vips: { wan: string; lan: string }): NodeStatus {
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

export function parseClientStatus(text: string): ClientStatus {
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

export async function nodeStatus(engine: Engine, name: string, container: string, vips: { wan: string; lan: string }): Promise<NodeStatus> {
  const state = (await engine.containerState(container)) ?? 'missing';
  if (state !== 'running') return parseNodeStatus(name, container, state, '', vips);
  const r = await engine.exec(container, ['/usr/local/sbin/vipdrill-ctl', 'status'], { timeoutMs: 20_000 });
  return parseNodeStatus(name, container, state, r.stdout, vips);
}

export async function clientStatus(engine: Engine, container: string, lanhost: string): Promise<ClientStatus> {
  const r = await engine.exec(container, ['/usr/local/sbin/vipdrill-ctl', 'client-status', lanhost], { timeoutMs: 20_000 });
  return parseClientStatus(r.stdout);
}

/** Only PPP and one ping through it: the cheap sample for tunnel-up/tunnel-down waits. */
export async function clientLanCheck(engine: Engine, container: string, lanhost: string): Promise<ClientStatus> {
  const r = await engine.exec(container, ['/usr/local/sbin/vipdrill-ctl', 'lan-check', lanhost], { timeoutMs: 20_000 });
  return parseClientStatus(r.stdout);
}

/** Resolve interface names by address (names do not follow attach order: LAB-FACTS §2). */
export async function ifaceByAddress(engine: Engine, container: string): Promise<Map<string, string>> {
  const r = await engine.exec(container, ['ip', '-o', '-4', 'addr', 'show']);
  const m = new Map<string, string>();
  for (const line of r.stdout.split('\n')) {
    const f = line.trim().split(/\s+/);
    // "2: eth0    inet 10.213.1.11/24 brd ..."
    const i = f.indexOf('inet');
    if (i > 0 && f[1] && f[i + 1]) m.set(f[i + 1]!.split('/')[0]!, f[1].replace(/@.*/, ''));
  }
  return m;
}
