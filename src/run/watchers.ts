import * as fs from 'node:fs';
import * as path from 'node:path';
import { errorMessage } from '../errors.js';
import type { LabHosts } from '../hosts/lab-hosts.js';
import { clientWanDev, nodeWanMacs } from './evidence.js';
import { DEFAULT_PROBE_INTERVAL_MS } from '../analysis/dataplane.js';
import { parseCounters, type CounterSnapshot } from '../analysis/symmetry.js';

/**
 * The run's watchers on the lab, each through a host's agent: the data-plane probes (ping loops), the
 * ARP capture on the client's segment, and the nodes' routing counters. What they record is parsed by
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
  private stopped: Promise<{ raw: Partial<Record<Direction, { text: string; handle: ProbeHandle }>>; arpText: string }> | undefined;

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
    try {
      w.macs = await nodeWanMacs(hosts);
      w.arp = await startArpWatch(hosts, 'client', await clientWanDev(hosts), tag);
    } catch (e) {
      note(`ARP watch unavailable: ${e instanceof Error ? e.message : String(e)}`);
    }
    await w.snapshot('start', 0);
    return w;
  }

  /** A routing-counter snapshot (at every step boundary); an unreadable lab gives an empty one. */
  async snapshot(label: string, fallbackT: number): Promise<void> {
    this.snapshots.push(await readCounters(this.hosts, label).catch(() => ({ t: fallbackT, label, nodes: {} })));
  }

  /** Stop every recorder once; returns the probes' raw output (by direction) and the ARP capture's. */
  stop(): Promise<{ raw: Partial<Record<Direction, { text: string; handle: ProbeHandle }>>; arpText: string }> {
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
      return { raw, arpText };
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
