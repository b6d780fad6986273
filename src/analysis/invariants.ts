import type { Invariant } from '../run/result.js';
import type { SampleView } from './figures.js';

/** Checked after every repeat: the lab is back where the next one can start, and vipdrill left nothing. */
export function invariants(last: SampleView | undefined, left: { rules: string[]; processes: string[] }): Invariant[] {
  return [
    { name: 'single-vip-holder', ok: last?.holders.length === 1, detail: last ? `VIP held by ${last.holders.join(', ') || 'nobody'}` : 'the lab could not be sampled' },
    { name: 'client-tunnel-up', ok: last?.client?.lanReachable === true, detail: last?.client ? (last.client.lanReachable ? 'the client reaches the LAN through the tunnel' : 'the client does not reach the LAN') : 'the client could not be sampled' },
    { name: 'no-vipdrill-rule-left', ok: left.rules.length === 0, detail: left.rules.length === 0 ? 'no vipdrill nft table or netem qdisc in any container' : `left on ${left.rules.join(', ')}` },
    { name: 'no-fault-process-left', ok: left.processes.length === 0, detail: left.processes.length === 0 ? 'no probe, capture or fault process of vipdrill running' : left.processes.join('; ') },
  ];
}
