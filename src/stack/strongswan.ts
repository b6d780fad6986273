import type { RenderInput } from './types.js';

/** charon's own settings: log to stderr (the supervisor timestamps each line), no libipsec. */
export function renderCharonSettings(): string {
  return [
    '# Rendered by vipdrill.',
    'charon {',
    '    install_routes = no',
    '    filelog {',
    '        stderr {',
    '            default = 1',
    '            ike = 2',
    '            ike_name = yes',
    '        }',
    '    }',
    '    plugins {',
    '        kernel-libipsec {',
    '            load = no',
    '        }',
    '    }',
    '}',
    '',
  ].join('\n');
}

function secretsBlock(input: RenderInput): string[] {
  return ['secrets {', '    ike-l2tp {', `        secret = "${input.secrets.psk}"`, '    }', '}'];
}

/** The responder on each node: IKEv1 PSK, transport mode, L2TP (udp/1701) on the VIP. */
export function renderNodeSwanctl(input: RenderInput): string {
  const { topology: t, profile: p } = input;
  return [
    '# Rendered by vipdrill. IKEv1 PSK transport mode for L2TP on the VIP.',
    'connections {',
    '    l2tp {',
    '        version = 1',
    `        local_addrs = ${t.vips.wan}`,
    `        proposals = ${p.ike.proposal}`,
    `        dpd_delay = ${p.ike.dpdDelay}s`,
    `        dpd_timeout = ${p.ike.dpdTimeout}s`,
    '        local {',
    '            auth = psk',
    '        }',
    '        remote {',
    '            auth = psk',
    '        }',
    '        children {',
    '            l2tp {',
    '                mode = transport',
    '                local_ts = dynamic[17/1701]',
    '                remote_ts = dynamic[17]',
    `                esp_proposals = ${p.ike.espProposal}`,
    '                dpd_action = clear',
    '            }',
    '        }',
    '    }',
    '}',
    ...secretsBlock(input),
    '',
  ].join('\n');
}

/** The client's strongSwan updown script with l2tp.clientRestart (lab/images/lab/rootfs/usr/local/sbin/vipdrill-reconnect). */
export const CLIENT_UPDOWN = '/usr/local/sbin/vipdrill-reconnect';

/** The client: initiates to the VIP at load, DPD per profile, restarts the SA when the peer dies. */
export function renderClientSwanctl(input: RenderInput): string {
  const { topology: t, profile: p } = input;
  return [
    '# Rendered by vipdrill. L2TP/IPsec client (IKEv1 PSK, transport mode) dialling the VIP.',
    'connections {',
    '    l2tp {',
    '        version = 1',
    `        local_addrs = ${t.client.wan}`,
    `        remote_addrs = ${t.vips.wan}`,
    `        proposals = ${p.ike.proposal}`,
    `        dpd_delay = ${p.ike.dpdDelay}s`,
    `        dpd_timeout = ${p.ike.dpdTimeout}s`,
    '        keyingtries = 0',
    '        local {',
    '            auth = psk',
    '        }',
    '        remote {',
    '            auth = psk',
    '        }',
    '        children {',
    '            l2tp {',
    '                mode = transport',
    '                local_ts = dynamic[17/1701]',
    '                remote_ts = dynamic[17/1701]',
    `                esp_proposals = ${p.ike.espProposal}`,
    '                start_action = start',
    `                dpd_action = ${p.ike.dpdAction}`,
    '                close_action = start',
    // l2tp.clientRestart: a new CHILD_SA (DPD restarted IKE after the holder died) restarts xl2tpd on it
    ...(p.l2tp.clientRestart ? [`                updown = ${CLIENT_UPDOWN}`] : []),
    '            }',
    '        }',
    '    }',
    '}',
    ...secretsBlock(input),
    '',
  ].join('\n');
}
