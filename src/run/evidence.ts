import type { LabHosts } from '../hosts/lab-hosts.js';
import type { HostLog } from '../hosts/paths.js';
import { parseStampedLog, type LogLine } from '../analysis/reconnect.js';

/** Evidence read from the lab after a run through the hosts' agents: stamped daemon logs, sessions, MACs. */

/** Lines of a stamped log in [from, to] (filtered on the host: charon logs a DPD line a second); '' if unreadable. */
async function window(hosts: LabHosts, host: string, file: HostLog, from: number, to: number): Promise<string> {
  return hosts.host(host).logWindow(file, from, to).catch(() => '');
}

/** The client's charon, xl2tpd, pppd and call-watchdog lines in the window. */
export async function clientLogs(hosts: LabHosts, from: number, to: number): Promise<LogLine[]> {
  const files = [['charon.log', 'charon'], ['xl2tpd.log', 'xl2tpd'], ['pppd.log', 'pppd'], ['redial.log', 'redial']] as const;
  const texts = await Promise.all(files.map(([f]) => window(hosts, 'client', f, from, to)));
  return texts.flatMap((t, i) => parseStampedLog(t, files[i]![1])).sort((a, b) => a.t - b.t);
}

/** keepalived's own "Entering MASTER STATE" lines of a node (stamped by the supervisor), after `from`. */
export async function keepalivedMasterLines(hosts: LabHosts, node: string, from: number, to: number): Promise<number[]> {
  const text = await window(hosts, node, 'keepalived.log', from, to);
  return parseStampedLog(text, 'charon').filter((l) => /Entering MASTER STATE/.test(l.text)).map((l) => l.t);
}

/** pppd sessions per node (processes); -1 for a node that could not be read. */
export async function sessionCounts(hosts: LabHosts): Promise<Record<string, number>> {
  const n = await Promise.all(hosts.nodes.map((x) => hosts.host(x).sessions().catch(() => -1)));
  return Object.fromEntries(hosts.nodes.map((x, i) => [x, n[i]!]));
}

/** Node pppd lines in the window: CHAP answered for the client, and pppd's accounting at session end. */
export async function nodePppLines(hosts: LabHosts, from: number, to: number): Promise<{ node: string; line: LogLine }[]> {
  const texts = await Promise.all(hosts.nodes.map((n) => window(hosts, n, 'pppd.log', from, to)));
  return texts.flatMap((t, i) => parseStampedLog(t, 'pppd').map((l) => ({ node: hosts.nodes[i]!, line: l }))).sort((a, b) => a.line.t - b.line.t);
}

/** The interface holding `addr` on a host, with its MAC (interface names do not follow attach order). */
async function ifaceOf(hosts: LabHosts, host: string, addr: string): Promise<{ dev: string; mac?: string }> {
  const s = await hosts.host(host).status(hosts.lab.topology.vips);
  const a = s.addresses.find((x) => x.cidr.split('/')[0] === addr);
  if (!a) throw new Error(`${host} has no interface with ${addr}`);
  return { dev: a.dev, ...((a as { mac?: string }).mac ? { mac: (a as { mac?: string }).mac! } : {}) };
}

/** Each node's wan interface: its device (where VRRP is captured) and its MAC (to name ARP claims). */
export async function nodeWanIfaces(hosts: LabHosts): Promise<Record<string, { dev: string; mac?: string }>> {
  const out: Record<string, { dev: string; mac?: string }> = {};
  await Promise.all(
    Object.entries(hosts.lab.topology.nodes).map(async ([n, node]) => {
      const i = await ifaceOf(hosts, n, node.wan).catch(() => undefined);
      if (i) out[n] = i;
    }),
  );
  return out;
}

/** The client's wan device (where it ARPs for the VIP). */
export async function clientWanDev(hosts: LabHosts): Promise<string> {
  return (await ifaceOf(hosts, 'client', hosts.lab.topology.client.wan)).dev;
}
