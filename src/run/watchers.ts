import * as fs from 'node:fs';
import * as path from 'node:path';
import { errorMessage } from '../errors.js';
import type { LabHosts } from '../hosts/lab-hosts.js';
import { clientWanDev, nodeWanIfaces } from './evidence.js';
import { parseAdverts, type Advert } from '../analysis/adverts.js';
import { DEFAULT_PROBE_INTERVAL_MS } from '../analysis/dataplane.js';
import { parseCounters, type CounterSnapshot } from '../analysis/symmetry.js';

/**
 * The run's watchers on the lab, each through a host's agent: the data-plane probes (ping loops), the
 * ARP capture on the client's segment, the VRRP capture on each node's wan, and the nodes' routing counters. What they record is parsed by
 * the pure functions in src/analysis.
 */

export interface ProbeHandle {
  host: string;
  direction: 'forward' | 'reverse';
  target: string;
  /** the agent's recorder */
  tag: string;
  intervalMs: number;
}

/** Start a ping loop on `host` towards `target` through its agent (which restarts ping when it exits). */
export async function startProbe(hosts: LabHosts, host: string, target: string, runTag: string, direction: 'forward' | 'reverse', intervalMs = DEFAULT_PROBE_INTERVAL_MS): Promise<ProbeHandle> {
  const tag = `probe-${direction}-${runTag}`;
  await hosts.host(host).startProbe(tag, target, intervalMs);
  return { host, direction, target, tag, intervalMs };
}

/** Stop the probe and read ping's output. */
export async function stopProbe(hosts: LabHosts, h: ProbeHandle): Promise<string> {
  return hosts.host(h.host).stopRecorder(h.tag);
}

export interface ArpWatch {
  host: string;
  tag: string;
}

export async function startArpWatch(hosts: LabHosts, host: string, dev: string, runTag: string): Promise<ArpWatch> {
  const tag = `arp-${runTag}`;
  await hosts.host(host).startCapture(tag, dev);
  return { host, tag };
}

export async function stopArpWatch(hosts: LabHosts, w: ArpWatch): Promise<string> {
  return hosts.host(w.host).stopRecorder(w.tag);
}

export async function readCounters(hosts: LabHosts, label: string): Promise<CounterSnapshot> {
  const nodes: CounterSnapshot['nodes'] = {};
  let t = 0;
  const read = await Promise.all(hosts.nodes.map((n) => hosts.host(n).counters().catch(() => null)));
  hosts.nodes.forEach((n, i) => {
    const r = read[i];
    nodes[n] = r ? parseCounters(r.text) : null;
    if (r) t = Math.max(t, r.t);
  });
  return { t, label, nodes };
}


type Direction = 'forward' | 'reverse';

interface Stopped {
  raw: Partial<Record<Direction, { text: string; handle: ProbeHandle }>>;
  arpText: string;
  adverts: Record<string, Advert[]>;
}

/**
 * Everything a repeat watches while it runs, started together and stopped once: both data-plane probes,
 * the ARP capture, and the counter snapshots. A watcher that cannot start is noted (`notes`), not fatal.
 * `stop()` (or `await using`) ends every recorder the agents run for it, whatever happened in between.
 */
export class Watchers implements AsyncDisposable {
  readonly probeErrors: Partial<Record<Direction, string>> = {};
  readonly snapshots: CounterSnapshot[] = [];
  macs: Record<string, string> = {};
  private probes: ProbeHandle[] = [];
  private arp: ArpWatch | undefined;
  /** per node: its VRRP capture's recorder tag, and its own wan address (its own adverts are left out) */
  private vrrp: { node: string; tag: string; own: string }[] = [];
  private stopped: Promise<Stopped> | undefined;

  private constructor(private readonly hosts: LabHosts) {}

  /** Start the probes (client -> LAN host, LAN host -> the client's tunnel address) and the ARP capture. */
  static async start(hosts: LabHosts, tag: string, tunnelIp: string | undefined, note: (what: string, t?: number) => void): Promise<Watchers> {
    const w = new Watchers(hosts);
    const lan = hosts.lab.topology.lanhost.lan;
    for (const [direction, h, target] of [['forward', 'client', lan], ['reverse', 'lanhost', tunnelIp]] as const) {
      try {
        if (!target) throw new Error('the client had no tunnel address at the start');
        const p = await startProbe(hosts, h, target, tag, direction);
        w.probes.push(p);
        note(`${direction} probe: ${direction === 'forward' ? 'client' : 'LAN host'} pings ${target} through the tunnel every ${p.intervalMs} ms (agent recorder ${p.tag})`, await hosts.host(h).now());
      } catch (e) {
        w.probeErrors[direction] = e instanceof Error ? e.message : String(e);
        note(`${direction} probe unavailable: ${w.probeErrors[direction]}`);
      }
    }
    // ARP claims for the VIP on the client's segment, and the nodes' MACs to name them
    const wan = await nodeWanIfaces(hosts);
    try {
      w.macs = Object.fromEntries(Object.entries(wan).flatMap(([n, i]) => (i.mac ? [[n, i.mac]] : [])));
      w.arp = await startArpWatch(hosts, 'client', await clientWanDev(hosts), tag);
    } catch (e) {
      note(`ARP watch unavailable: ${e instanceof Error ? e.message : String(e)}`);
    }
    // the VRRP adverts each node receives: the takeover measured from the master's last advert
    await Promise.all(
      hosts.nodes.map(async (n) => {
        const vtag = `vrrp-${tag}-${n}`;
        try {
          if (!wan[n]) throw new Error(`no wan interface with ${hosts.lab.topology.nodes[n]!.wan}`);
          await hosts.host(n).startCapture(vtag, wan[n].dev, 'vrrp');
          w.vrrp.push({ node: n, tag: vtag, own: hosts.lab.topology.nodes[n]!.wan });
        } catch (e) {
          note(`VRRP capture on ${n} unavailable: ${errorMessage(e)}`);
        }
      }),
    );
    await w.snapshot('start', 0);
    return w;
  }

  /** A routing-counter snapshot (at every step boundary); an unreadable lab gives an empty one. */
  async snapshot(label: string, fallbackT: number): Promise<void> {
    this.snapshots.push(await readCounters(this.hosts, label).catch(() => ({ t: fallbackT, label, nodes: {} })));
  }

  /** Stop every recorder once; returns the probes' raw output (by direction), the ARP capture's, and the adverts each node received. */
  stop(): Promise<Stopped> {
    this.stopped ??= (async () => {
      const raw: Partial<Record<Direction, { text: string; handle: ProbeHandle }>> = {};
      for (const p of this.probes.splice(0)) {
        try {
          raw[p.direction] = { text: await stopProbe(this.hosts, p), handle: p };
        } catch (e) {
          this.probeErrors[p.direction] = e instanceof Error ? e.message : String(e);
        }
      }
      const arpText = this.arp ? await stopArpWatch(this.hosts, this.arp).catch(() => '') : '';
      this.arp = undefined;
      // a crashed node's capture died with it: what it had is gone, and only the others' count
      const adverts: Record<string, Advert[]> = {};
      await Promise.all(
        this.vrrp.splice(0).map(async (v) => {
          const text = await this.hosts.host(v.node).stopRecorder(v.tag).catch(() => undefined);
          if (text !== undefined) adverts[v.node] = parseAdverts(text).filter((a) => a.src !== v.own);
        }),
      );
      return { raw, arpText, adverts };
    })();
    return this.stopped;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}

/** VIPDRILL_KEEP_PROBE_LOGS=<dir>: keep ping's raw output (a debugging aid); a directory that cannot be written costs nothing. */
export function keepProbeLog(scenario: string, direction: string, raw: string, note: (why: string) => void): void {
  const keep = process.env.VIPDRILL_KEEP_PROBE_LOGS;
  if (!keep) return;
  try {
    fs.mkdirSync(keep, { recursive: true });
    fs.writeFileSync(path.join(keep, `${scenario}-${direction}-${Date.now()}.log`), raw);
  } catch (e) {
    note(`could not keep the ${direction} probe log in ${keep}: ${errorMessage(e)}`);
  }
}
