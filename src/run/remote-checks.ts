import type { ConfigIssue } from '../errors.js';
import type { Host } from '../hosts/host.js';
import { HOST_PATHS } from '../hosts/paths.js';
import type { Scenario } from '../scenario/schema.js';
import { displayPath } from '../topology/load.js';
import { allowedKinds, parseSshTarget } from '../topology/remote.js';
import type { Topology } from '../topology/schema.js';

/**
 * What a scenario may not do on real hosts, found before anything connects: a fault kind the
 * topology does not allow, and a fault that would cut vipdrill's own SSH to a host (its agent's stream
 * and the renewals of its leases go over it).
 */
export function remoteScenarioIssues(s: Scenario, t: Topology): ConfigIssue[] {
  const r = t.remote;
  if (!r) return [];
  const out: ConfigIssue[] = [];
  const allowed = allowedKinds(r);
  const add = (path: string, message: string) => out.push({ file: displayPath(s.file), path, message });
  const nodes = Object.keys(t.nodes);
  const hostsOf = (target: string | undefined) => (target === undefined || target === 'master' || target === 'backup' ? nodes : [target]);
  s.steps.forEach((st, i) => {
    if (!('fault' in st)) return;
    if (st.fault === 'node-crash' && !r.crash) {
      add(`steps[${i}].fault`, 'node-crash on real hosts needs the commands that power a node off and on (remote.crash.<node>: { off, on }, e.g. through IPMI or the hypervisor); none are given, so it is refused');
      return;
    }
    if (!allowed.includes(st.fault)) {
      add(`steps[${i}].fault`, `${st.fault} is not allowed on the hosts of ${t.name}: remote.allow permits ${allowed.join(', ')}`);
      return;
    }
    if (st.fault === 'partition') add(`steps[${i}].fault`, `partition drops everything in and out of a node, vipdrill's SSH to it included; on real hosts use drop or cut-client, which leave the management path alone`);
    if (st.fault === 'link-down') {
      for (const h of hostsOf(st.target)) {
        const ip = st.iface === 'wan' ? (t.nodes[h]?.wan ?? (h === 'client' ? t.client.wan : undefined)) : (t.nodes[h]?.lan ?? (h === 'lanhost' ? t.lanhost.lan : undefined));
        const via = r.hosts[h] ? parseSshTarget(r.hosts[h].ssh).host : undefined;
        if (ip && via === ip) add(`steps[${i}].iface`, `the ${st.iface} link of ${h} carries vipdrill's SSH to it (${via}): taking it down would cut the drill's own control of ${h}; reach ${h} over another interface, or take down the other link`);
      }
    }
  });
  return out;
}

/** Faults that move the VIP through keepalived's operator track file. */
const TRACK_FILE_KINDS = new Set(['drain', 'demote', 'takeover']);

/**
 * Drain, demotion and takeover write the operator track file, so each node's keepalived.conf must track
 * it: what is missing is named, with what to add.
 */
export function trackFileIssues(scenarios: Scenario[], trackFiles: Record<string, string[]>): string[] {
  const kinds = [...new Set(scenarios.flatMap((s) => s.steps.flatMap((st) => ('fault' in st && TRACK_FILE_KINDS.has(st.fault) ? [st.fault] : []))))];
  if (kinds.length === 0) return [];
  return Object.entries(trackFiles)
    .filter(([, files]) => !files.includes(HOST_PATHS.operatorTrack))
    .map(
      ([n, files]) =>
        `${n}: ${kinds.join(', ')} move the VIP through keepalived's track file ${HOST_PATHS.operatorTrack}, which ${n}'s keepalived.conf does not track (${files.length ? `it tracks ${files.join(', ')}` : 'it tracks no file'}). Add: vrrp_track_file tf_operator { file ${HOST_PATHS.operatorTrack} weight 1 init_file 0 overwrite } and, in the vrrp_instance, track_file { tf_operator }`,
    );
}

export interface ClockOffset {
  /** the host's clock minus the reference host's (ms) */
  offsetMs: number;
  /** half the round trip of the best exchange (ms): the offset is known to within this */
  uncertaintyMs: number;
}

/**
 * Each host's clock offset to the reference host (the client), from round-trip exchanges: ask the
 * reference, the host, the reference again; the host's reading is compared with the midpoint of the
 * two reference readings. The exchange with the tightest bracket of `rounds` is kept.
 */
export async function clockOffsets(hosts: Map<string, Host>, ref = 'client', rounds = 5): Promise<Record<string, ClockOffset>> {
  const r = hosts.get(ref);
  const out: Record<string, ClockOffset> = {};
  if (!r) return out;
  for (const [name, h] of hosts) {
    if (name === ref) {
      out[name] = { offsetMs: 0, uncertaintyMs: 0 };
      continue;
    }
    let best: ClockOffset | undefined;
    for (let k = 0; k < rounds; k++) {
      const c0 = await r.now();
      const t = await h.now();
      const c1 = await r.now();
      const o = { offsetMs: (t - (c0 + c1) / 2) * 1000, uncertaintyMs: ((c1 - c0) / 2) * 1000 };
      if (!best || o.uncertaintyMs < best.uncertaintyMs) best = o;
    }
    out[name] = { offsetMs: Math.round(best!.offsetMs * 100) / 100, uncertaintyMs: Math.round(best!.uncertaintyMs * 100) / 100 };
  }
  return out;
}
