import { container, devOf } from '../faults/lab-shell.js';
import type { Host } from '../faults/types.js';
import type { Engine } from '../lab/engine.js';
import type { LabContext } from '../lab/lab.js';
import { parseStampedLog, type LogLine } from './reconnect.js';

/** Evidence read from the lab after a run: daemon logs (lab-clock stamped), sessions, MACs. */

const LOG_DIR = '/var/log/vipdrill';

/** Lines of `<epoch> …` logs in [from, to] (filtered inside the lab: charon logs a DPD line a second). */
async function window(engine: Engine, c: string, file: string, from: number, to: number): Promise<string> {
  const r = await engine.exec(c, ['sh', '-c', `[ -r ${LOG_DIR}/${file} ] && awk -v f=${from} -v t=${to} '$1 + 0 >= f && $1 + 0 <= t' ${LOG_DIR}/${file} || true`]).catch(() => undefined);
  return r?.stdout ?? '';
}

/** The client's charon, xl2tpd, pppd and call-watchdog lines in the window. */
export async function clientLogs(engine: Engine, lab: LabContext, from: number, to: number): Promise<LogLine[]> {
  const c = container(lab, 'client');
  const out: LogLine[] = [];
  for (const [file, source] of [['charon.log', 'charon'], ['xl2tpd.log', 'xl2tpd'], ['pppd.log', 'pppd'], ['redial.log', 'redial']] as const) {
    out.push(...parseStampedLog(await window(engine, c, file, from, to), source));
  }
  return out.sort((a, b) => a.t - b.t);
}

/** keepalived's own "Entering MASTER STATE" lines of a node (stamped by the supervisor), after `from`. */
export async function keepalivedMasterLines(engine: Engine, lab: LabContext, node: string, from: number, to: number): Promise<number[]> {
  const text = await window(engine, container(lab, node as Host), 'keepalived.log', from, to);
  return parseStampedLog(text, 'charon').filter((l) => /Entering MASTER STATE/.test(l.text)).map((l) => l.t);
}

/** pppd sessions per node (processes), and whether each node could be read. */
export async function sessionCounts(engine: Engine, lab: LabContext): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const n of Object.keys(lab.topology.nodes)) {
    const r = await engine.exec(container(lab, n as Host), ['sh', '-c', 'pidof pppd | wc -w']).catch(() => undefined);
    out[n] = r && r.exitCode === 0 ? Number(r.stdout.trim()) || 0 : -1;
  }
  return out;
}

/** Node pppd lines in the window: CHAP answered for the client, and pppd's accounting at session end. */
export async function nodePppLines(engine: Engine, lab: LabContext, from: number, to: number): Promise<{ node: string; line: LogLine }[]> {
  const out: { node: string; line: LogLine }[] = [];
  for (const n of Object.keys(lab.topology.nodes)) {
    for (const l of parseStampedLog(await window(engine, container(lab, n as Host), 'pppd.log', from, to), 'pppd')) out.push({ node: n, line: l });
  }
  return out.sort((a, b) => a.line.t - b.line.t);
}

/** MAC address of each node's wan interface (to name ARP claims). */
export async function nodeWanMacs(engine: Engine, lab: LabContext): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const [n, node] of Object.entries(lab.topology.nodes)) {
    const r = await engine.exec(container(lab, n as Host), ['bash', '-c', `${devOf(node.wan)}; cat /sys/class/net/$dev/address`]).catch(() => undefined);
    if (r && r.exitCode === 0) out[n] = r.stdout.trim();
  }
  return out;
}

/** The client's wan device (where it ARPs for the VIP). */
export async function clientWanDev(engine: Engine, lab: LabContext): Promise<string> {
  const r = await engine.exec(container(lab, 'client'), ['bash', '-c', `${devOf(lab.topology.client.wan)}; echo $dev`]);
  if (r.exitCode !== 0) throw new Error(r.stderr.trim());
  return r.stdout.trim();
}

/** Processes a fault or a probe of vipdrill's may leave running (an invariant after every run: none). */
export async function leftoverProcesses(engine: Engine, lab: LabContext): Promise<string[]> {
  const left: string[] = [];
  for (const [h, c] of Object.entries(lab.record.containers)) {
    if ((await engine.containerState(c)) !== 'running') continue;
    const r = await engine.exec(c, ['sh', '-c', "ps -eo pid=,args= | grep -E 'probe-loop|ping -D -n -O|tcpdump -l -n -e|nft -e -i' | grep -v grep || true"]).catch(() => undefined);
    for (const l of (r?.stdout ?? '').split('\n').filter(Boolean)) left.push(`${h}: ${l.trim()}`);
  }
  return left;
}
