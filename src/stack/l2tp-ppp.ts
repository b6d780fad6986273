import type { RenderInput } from './types.js';

/** The LNS on each node. It must listen on the VIP (LAB-FACTS §4): ip_nonlocal_bind lets the backup bind it. */
export function renderNodeXl2tpd(input: RenderInput): string {
  const t = input.topology;
  return [
    '; Rendered by vipdrill. L2TP network server listening on the VIP.',
    '[global]',
    `listen-addr = ${t.vips.wan}`,
    'port = 1701',
    '; control retransmits before a tunnel is given up: xl2tpd says hello every 60 s, so a tunnel whose',
    '; client went to the peer (or redialled) lingers up to 60 s plus these retries and swallows the',
    '; client\'s next session from the same address and port',
    `max retries = ${input.profile.l2tp.maxRetries}`,
    '',
    '[lns default]',
    `ip range = ${t.pool.first}-${t.pool.last}`,
    `local ip = ${t.pool.local}`,
    'require chap = yes',
    'refuse pap = yes',
    'require authentication = yes',
    'name = l2tpd',
    'pppoptfile = /etc/ppp/options.xl2tpd',
    'length bit = yes',
    '',
  ].join('\n');
}

/** The LAC on the client, dialling the VIP and redialling per profile. */
export function renderClientXl2tpd(input: RenderInput): string {
  const { topology: t, profile: p } = input;
  return [
    '; Rendered by vipdrill. L2TP access concentrator dialling the VIP.',
    '[global]',
    `max retries = ${p.l2tp.maxRetries}`,
    '',
    '[lac vip]',
    `lns = ${t.vips.wan}`,
    'autodial = yes',
    'redial = yes',
    `redial timeout = ${p.l2tp.redialTimeout}`,
    `max redials = ${p.l2tp.maxRedials}`,
    'require chap = yes',
    'refuse pap = yes',
    'require authentication = no',
    `name = ${t.client.user}`,
    'pppoptfile = /etc/ppp/options.l2tpd.client',
    'length bit = yes',
    '',
  ].join('\n');
}

function lcp(input: RenderInput): string[] {
  const p = input.profile.ppp;
  const echo = p.lcpEchoInterval > 0 && p.lcpEchoFailure > 0 ? [`lcp-echo-interval ${p.lcpEchoInterval}`, `lcp-echo-failure ${p.lcpEchoFailure}`, ...(p.lcpEchoAdaptive ? ['lcp-echo-adaptive'] : [])] : [];
  return [...echo, `lcp-restart ${p.lcpRestart}`, `lcp-max-terminate ${p.lcpMaxTerminate}`];
}

export function renderNodePppOptions(input: RenderInput): string {
  const mtu = input.profile.ppp.mtu;
  return [
    '# Rendered by vipdrill. pppd options for sessions the LNS terminates.',
    'auth',
    'require-chap',
    'refuse-pap',
    'refuse-mschap',
    'refuse-mschap-v2',
    'refuse-eap',
    'name l2tpd',
    `mtu ${mtu}`,
    `mru ${mtu}`,
    'nodefaultroute',
    'noccp',
    'nobsdcomp',
    'nodeflate',
    ...lcp(input),
    // every option in force, logged at each pppd start: the tuner reads the LCP timers back from it
    'dump',
    'logfile /run/vipdrill/pppd.pipe',
    '',
  ].join('\n');
}

export function renderClientPppOptions(input: RenderInput): string {
  const mtu = input.profile.ppp.mtu;
  return [
    '# Rendered by vipdrill. pppd options of the L2TP client.',
    'noauth',
    'refuse-pap',
    'refuse-mschap',
    'refuse-mschap-v2',
    'refuse-eap',
    `name ${input.topology.client.user}`,
    'ipcp-accept-local',
    'ipcp-accept-remote',
    `mtu ${mtu}`,
    `mru ${mtu}`,
    'nodefaultroute',
    'noccp',
    'nobsdcomp',
    'nodeflate',
    ...lcp(input),
    // every option in force, logged at each pppd start: the tuner reads the LCP timers back from it
    'dump',
    'logfile /run/vipdrill/pppd.pipe',
    '',
  ].join('\n');
}

export function renderChapSecrets(input: RenderInput, secret = input.secrets.chap): string {
  return ['# Rendered by vipdrill. client  server  secret  addresses', `"${input.topology.client.user}" * "${secret}" *`, ''].join('\n');
}

/** Client: a route to the LAN through the PPP interface, re-added on every reconnect. */
export function renderClientIpUp(input: RenderInput): string {
  return [
    '#!/bin/sh',
    '# Rendered by vipdrill: route the LAN behind the VPN pair through the tunnel on every reconnect.',
    `ip route replace ${input.topology.networks.lan.subnet} dev "$PPP_IFACE"`,
    'printf \'%s ip-up %s %s\\n\' "$(date +%s.%N)" "$PPP_IFACE" "$PPP_LOCAL" >> /var/log/vipdrill/ppp-events.log',
    '# a running data-plane probe (vipdrill run) restarts its ping so it sends from the new address',
    '[ -r /run/vipdrill/probe.pid ] && kill "$(cat /run/vipdrill/probe.pid)" 2>/dev/null',
    'exit 0',
    '',
  ].join('\n');
}
