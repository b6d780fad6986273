import { HOST_PATHS } from '../hosts/paths.js';
import { renderBackupRules, renderMasterRules, renderNodeFirewall } from './firewall.js';
import { renderKeepalived } from './keepalived.js';
import { renderChapSecrets, renderClientIpUp, renderClientPppOptions, renderClientXl2tpd, renderNodePppOptions, renderNodeXl2tpd } from './l2tp-ppp.js';
import { renderCharonSettings, renderClientSwanctl, renderNodeSwanctl } from './strongswan.js';
import type { DaemonSpec, LabFile, RenderInput } from './types.js';

export type { DaemonSpec, LabFile, RenderInput, Secrets, Ifaces } from './types.js';

/** Paths of the configs a topology may bring itself (`config:` in the topology file). */
export const BYO_PATHS = {
  keepalived: '/etc/keepalived/keepalived.conf',
  swanctl: '/etc/swanctl/conf.d/vipdrill.conf',
  xl2tpd: '/etc/xl2tpd/xl2tpd.conf',
  pppOptions: '/etc/ppp/options.xl2tpd',
  chapSecrets: '/etc/ppp/chap-secrets',
} as const;

export interface ContainerConfig {
  files: LabFile[];
  daemons: DaemonSpec[];
  /** commands run once, in order, after files are placed and before daemons start */
  setup: string[];
  /** systemd runs the stack (`up --systemd`, src/stack/systemd.ts); else vipdrill's supervisor */
  init?: 'systemd';
}

const charon: DaemonSpec = {
  name: 'charon',
  cmd: '/usr/lib/ipsec/charon',
  // the client's updown marks (l2tp.clientRestart) of SAs that ended with the charon before this one
  pre: `rm -f /run/charon.pid /run/charon.vici /run/charon.ctl ${HOST_PATHS.childUp} ${HOST_PATHS.childLost}`,
  // load connections and secrets once the vici socket answers
  post: 'for i in $(seq 1 100); do [ -S /run/charon.vici ] && swanctl --load-all --noprompt && exit 0; sleep 0.1; done; echo "swanctl: vici socket never appeared" >&2; exit 1',
};

const xl2tpd: DaemonSpec = {
  name: 'xl2tpd',
  cmd: '/usr/sbin/xl2tpd -D -c /etc/xl2tpd/xl2tpd.conf -p /run/xl2tpd.pid -C /run/xl2tpd/l2tp-control',
  pre: 'mkdir -p /run/xl2tpd; rm -f /run/xl2tpd.pid',
};

/**
 * The client dials L2TP once IPsec protects it, as real L2TP/IPsec clients do (IPsec up, then L2TP).
 * Dialling earlier sends cleartext L2TP that the node firewall drops; with a low `max retries` the LAC
 * gives up and redials while the LNS still holds the first tunnel on the same UDP 4-tuple.
 */
const clientXl2tpd: DaemonSpec = {
  ...xl2tpd,
  // the updown script's mark (l2tp.clientRestart; non-empty while a CHILD_SA is installed) says so without a swanctl, a second or more under emulation
  cmd: `sh -c 'until [ -s ${HOST_PATHS.childUp} ] || swanctl --list-sas 2>/dev/null | grep -q INSTALLED; do sleep 0.2; done; exec ${xl2tpd.cmd}'`,
};

/** The client's call watchdog (vipdrill-redial): a new call when the tunnel is up but no PPP runs. */
const clientRedial: DaemonSpec = {
  name: 'redial',
  cmd: '/usr/local/sbin/vipdrill-redial vip 5',
};

/**
 * pppd writes no timestamps: its `logfile` is a fifo that vipdrill-logpipe stamps with the lab clock
 * into /var/log/vipdrill/pppd.log. Listed before xl2tpd, so the fifo exists before any pppd opens it.
 */
export const PPP_LOG_FIFO = '/run/vipdrill/pppd.pipe';
const pppLog: DaemonSpec = {
  name: 'ppplog',
  cmd: `/usr/local/sbin/vipdrill-logpipe ${PPP_LOG_FIFO} /var/log/vipdrill/pppd.log`,
};

const keepalived: DaemonSpec = {
  name: 'keepalived',
  cmd: '/usr/sbin/keepalived --dont-fork --log-console --log-detail --vrrp -f /etc/keepalived/keepalived.conf -p /run/keepalived.pid -r /run/keepalived-vrrp.pid',
  pre: 'rm -f /run/keepalived.pid /run/keepalived-vrrp.pid',
};

function common(): LabFile[] {
  return [{ path: '/etc/strongswan.d/zz-vipdrill.conf', content: renderCharonSettings(), mode: 0o644 }];
}

export function renderNode(input: RenderInput, node: string): ContainerConfig {
  const t = input.topology;
  const files: LabFile[] = [
    ...common(),
    { path: BYO_PATHS.keepalived, content: renderKeepalived(input, node), mode: 0o644 },
    { path: BYO_PATHS.swanctl, content: renderNodeSwanctl(input), mode: 0o600, secret: true },
    { path: BYO_PATHS.xl2tpd, content: renderNodeXl2tpd(input), mode: 0o644 },
    { path: BYO_PATHS.pppOptions, content: renderNodePppOptions(input), mode: 0o644 },
    { path: BYO_PATHS.chapSecrets, content: renderChapSecrets(input), mode: 0o600, secret: true },
    { path: '/etc/vipdrill/firewall.nft', content: renderNodeFirewall(input, node), mode: 0o644 },
    { path: '/etc/vipdrill/master.nft', content: renderMasterRules(input, node), mode: 0o644 },
    { path: '/etc/vipdrill/backup.nft', content: renderBackupRules(), mode: 0o644 },
  ];
  return {
    files,
    daemons: [pppLog, charon, xl2tpd, keepalived],
    setup: ['nft -f /etc/vipdrill/firewall.nft', `echo "lan_vip=${t.vips.lan} wan_vip=${t.vips.wan}" > /etc/vipdrill/role`],
  };
}

export function renderClient(input: RenderInput): ContainerConfig {
  return {
    files: [
      ...common(),
      { path: '/etc/swanctl/conf.d/vipdrill.conf', content: renderClientSwanctl(input), mode: 0o600, secret: true },
      { path: '/etc/xl2tpd/xl2tpd.conf', content: renderClientXl2tpd(input), mode: 0o644 },
      { path: '/etc/ppp/options.l2tpd.client', content: renderClientPppOptions(input), mode: 0o644 },
      { path: '/etc/ppp/chap-secrets', content: renderChapSecrets(input), mode: 0o600, secret: true },
      { path: '/etc/ppp/ip-up.d/vipdrill-route', content: renderClientIpUp(input), mode: 0o755 },
    ],
    daemons: [pppLog, charon, clientXl2tpd, clientRedial],
    // behind a NAT router the wan is reached through it (there is no default route in the lab)
    setup: input.topology.client.nat ? [`ip route replace ${input.topology.networks.wan.subnet} via ${input.topology.client.nat.inside}`] : [],
  };
}

/**
 * The client's NAT router (topology client.nat): masquerades the home network towards the wan, as a
 * home or office router does; the nodes see the client at the router's wan address and charon switches
 * to NAT-T (UDP 4500).
 */
export function renderNatRouter(input: RenderInput): ContainerConfig {
  const nat = input.topology.client.nat!;
  const rules = [
    '# Rendered by vipdrill. The client\'s NAT router.',
    'table ip vipdrill_nat',
    'delete table ip vipdrill_nat',
    'table ip vipdrill_nat {',
    '    chain postrouting {',
    '        type nat hook postrouting priority srcnat; policy accept;',
    `        ip saddr ${nat.subnet} ip daddr != ${nat.subnet} masquerade`,
    '    }',
    '}',
    '',
  ].join('\n');
  return {
    files: [{ path: '/etc/vipdrill/nat.nft', content: rules, mode: 0o644 }],
    daemons: [],
    setup: ['nft -f /etc/vipdrill/nat.nft'],
  };
}

export function renderLanhost(input: RenderInput): ContainerConfig {
  const t = input.topology;
  return {
    files: [],
    daemons: [],
    setup: [`ip route replace ${t.pool.subnet} via ${t.vips.lan}`],
  };
}

/** The supervisor's descriptor for one daemon (/etc/vipdrill/daemons/<name>.conf). */
export function renderDaemonConf(d: DaemonSpec): LabFile {
  const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  const lines = [`CMD=${q(d.cmd)}`];
  if (d.pre) lines.push(`PRE=${q(d.pre)}`);
  if (d.post) lines.push(`POST=${q(d.post)}`);
  lines.push(`RESTART=${d.restart ?? 'always'}`, `DELAY=${d.delaySeconds ?? 1}`);
  return { path: `/etc/vipdrill/daemons/${d.name}.conf`, content: lines.join('\n') + '\n', mode: 0o644 };
}
