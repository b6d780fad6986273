import { iface, type RenderInput } from './types.js';

/**
 * The node firewall the seed article prescribes: admit IKE (UDP 500/4500), ESP, VRRP from the peer,
 * and L2TP (UDP 1701) only when it arrived inside IPsec. Forwarding of the client pool is opened by
 * the MASTER-only chain that keepalived's notify script fills (master.nft) and empties (backup.nft).
 */
export function renderNodeFirewall(input: RenderInput, node: string): string {
  const t = input.topology;
  const peer = Object.entries(t.nodes).find(([n]) => n !== node)![1];
  const lan = iface(input, node, 'lan');
  return [
    '# Rendered by vipdrill.',
    'table inet vipdrill_fw',
    'delete table inet vipdrill_fw',
    'table inet vipdrill_fw {',
    '    # routing symmetry: which node each direction of client <-> LAN traffic entered (read by vipdrill run)',
    '    counter client_to_lan {',
    '    }',
    '    counter lan_to_client {',
    '    }',
    '    chain symmetry {',
    '        type filter hook prerouting priority mangle; policy accept;',
    `        iifname "ppp*" ip saddr ${t.pool.subnet} ip daddr ${t.networks.lan.subnet} counter name "client_to_lan"`,
    `        iifname "${lan}" ip saddr ${t.networks.lan.subnet} ip daddr ${t.pool.subnet} counter name "lan_to_client"`,
    '    }',
    '    chain input {',
    '        type filter hook input priority filter; policy drop;',
    '        iif lo accept',
    '        ip protocol icmp accept',
    `        ip protocol 112 ip saddr ${peer.wan} accept`,
    '        udp dport { 500, 4500 } accept',
    '        ip protocol esp accept',
    '        udp dport 1701 meta secpath exists accept',
    '        udp dport 1701 counter drop comment "L2TP outside IPsec"',
    '        ct state established,related accept',
    '        iifname "ppp*" accept',
    `        iifname "${lan}" accept`,
    '    }',
    '    chain master_forward {',
    '    }',
    '    chain forward {',
    '        type filter hook forward priority filter; policy drop;',
    '        jump master_forward',
    '    }',
    '}',
    '',
  ].join('\n');
}

export function renderMasterRules(input: RenderInput, node: string): string {
  const t = input.topology;
  const wan = iface(input, node, 'wan');
  return [
    '# Rendered by vipdrill: MASTER-only state, applied by vipdrill-notify MASTER.',
    'flush chain inet vipdrill_fw master_forward',
    'table inet vipdrill_fw {',
    '    chain master_forward {',
    `        iifname "ppp*" ip saddr ${t.pool.subnet} accept`,
    `        oifname "ppp*" ip daddr ${t.pool.subnet} accept`,
    '    }',
    '}',
    'table ip vipdrill_master',
    'delete table ip vipdrill_master',
    'table ip vipdrill_master {',
    '    chain postrouting {',
    '        type nat hook postrouting priority srcnat; policy accept;',
    `        oifname "${wan}" ip saddr ${t.pool.subnet} masquerade comment "client traffic leaving the pair"`,
    '    }',
    '}',
    '',
  ].join('\n');
}

export function renderBackupRules(): string {
  return [
    '# Rendered by vipdrill: remove the MASTER-only state (vipdrill-notify BACKUP/FAULT/STOP).',
    'flush chain inet vipdrill_fw master_forward',
    'table ip vipdrill_master',
    'delete table ip vipdrill_master',
    '',
  ].join('\n');
}
