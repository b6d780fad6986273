import { iface, prefixLen, type RenderInput } from './types.js';

/** Trim trailing zeros of a decimal so keepalived gets 0.1, not 0.10000000000000001. */
function num(n: number): string {
  return String(Number(n.toFixed(2)));
}

/** CPU time (µs) a realtime VRRP process may run between blocking calls: 1 s, far above its need on hardware, and enough under TCG. */
export const RT_LIMIT_US = 1_000_000;

export function renderKeepalived(input: RenderInput, node: string): string {
  const { topology: t, profile: p } = input;
  const me = t.nodes[node]!;
  const peerName = Object.keys(t.nodes).find((n) => n !== node)!;
  const peer = t.nodes[peerName]!;
  const wan = iface(input, node, 'wan');
  const lan = iface(input, node, 'lan');
  const h = p.health;
  const check = (name: string, cmd: string) =>
    [`vrrp_script chk_${name} {`, `    script "${cmd}"`, `    interval ${h.interval}`, `    timeout ${h.timeout}`, `    fall ${h.fall}`, `    rise ${h.rise}`, `    weight ${h.weight}`, '}'].join('\n');
  const lines = [
    '# Rendered by vipdrill. VRRP pair member ' + node + ' (peer ' + peerName + ').',
    'global_defs {',
    `    router_id vipdrill_${node}`,
    `    vrrp_version ${p.vrrp.version}`,
    '    script_user root',
    '    enable_script_security',
    // a realtime VRRP process is killed by the kernel once it runs longer than vrrp_rlimit_rtime without
    // blocking: keepalived's 10 ms default killed it at every start under TCG ("has rlimit_rttime been
    // exceeded?", the VRRP child respawned with growing delays and no node became MASTER)
    ...(p.vrrp.rtPriority > 0 ? [`    vrrp_rt_priority ${p.vrrp.rtPriority}`, `    vrrp_rlimit_rtime ${RT_LIMIT_US}`] : []),
    '    notify_fifo /run/vipdrill/vrrp.fifo',
    '    notify_fifo_script /usr/local/sbin/vipdrill-fifo',
    '}',
    '',
    '# charon and xl2tpd alive, and xl2tpd listening on the VIP: one fork-free check (see vipdrill-check)',
    check('stack', `/usr/local/sbin/vipdrill-check stack ${t.vips.wan}`),
    '',
    '# operator priority adjustment (drain, forced demotion, manual takeover): the value in the file',
    '# is added to the priority; -254 puts the instance into FAULT. vipdrill writes it, 0 is neutral.',
    'vrrp_track_file tf_operator {',
    '    file /run/vipdrill/operator-priority',
    '    weight 1',
    '    init_file 0 overwrite',
    '}',
    '',
    'vrrp_instance VI_1 {',
    '    state BACKUP',
    `    interface ${wan}`,
    '    virtual_router_id 51',
    `    priority ${me.priority}`,
    `    advert_int ${num(p.vrrp.advertInt)}`,
    // re-announce the VIPs (every 10 s by default): ARP caches taken by a peer's brief MASTER blip come back
    `    garp_master_refresh ${p.vrrp.garpMasterRefresh}`,
    ...(p.vrrp.garpMasterRepeat !== 5 ? [`    garp_master_repeat ${p.vrrp.garpMasterRepeat}`] : []),
    ...(p.vrrp.garpLowerPrioRepeat !== undefined ? [`    garp_lower_prio_repeat ${p.vrrp.garpLowerPrioRepeat}`] : []),
    ...(p.vrrp.preempt ? (p.vrrp.preemptDelay > 0 ? [`    preempt_delay ${num(p.vrrp.preemptDelay)}`] : []) : ['    nopreempt']),
    `    unicast_src_ip ${me.wan}`,
    '    unicast_peer {',
    `        ${peer.wan}`,
    '    }',
    ...(p.vrrp.auth !== null ? ['    authentication {', '        auth_type PASS', `        auth_pass ${p.vrrp.auth}`, '    }'] : []),
    '    virtual_ipaddress {',
    `        ${t.vips.wan}/${prefixLen(t.networks.wan.subnet)} dev ${wan}`,
    `        ${t.vips.lan}/${prefixLen(t.networks.lan.subnet)} dev ${lan}`,
    '    }',
    '    track_interface {',
    `        ${wan}`,
    `        ${lan}`,
    '    }',
    '    track_script {',
    '        chk_stack',
    '    }',
    '    track_file {',
    '        tf_operator',
    '    }',
    // no notify_master/backup/fault scripts: keepalived runs those concurrently and a quick blip can
    // finish out of order; vipdrill-fifo applies each state from the ordered notify_fifo instead
    '}',
    '',
  ];
  return lines.join('\n');
}
