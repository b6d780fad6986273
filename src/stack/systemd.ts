import type { ContainerConfig } from './render.js';
import type { DaemonSpec, LabFile } from './types.js';

/**
 * A lab node whose stack systemd runs (`vipdrill up --systemd`), as on a staging pair: systemd is PID 1
 * and the daemons are Debian's own units, not vipdrill's supervisor. Drills reach it as they reach a
 * real host: systemctl to stop, kill and start, the journal for the VRRP timeline and the logs.
 */

/** The Debian units that run the stack's daemons (the agent and the health check name them too). */
export const STACK_UNITS: Record<string, string> = {
  charon: 'strongswan.service',
  xl2tpd: 'xl2tpd.service',
  keepalived: 'keepalived.service',
};

/** Run by the node's systemd at each boot, before the stack: routes and firewall (lab/images/lab/rootfs/usr/local/sbin/vipdrill-boot). */
export const BOOT_UNIT = 'vipdrill-boot.service';
/** Starts the stack once vipdrill has written its files (the units started at boot before they existed). */
export const SYSTEMD_UP = '/usr/local/sbin/vipdrill-systemd-up';

const unit = (name: string, body: string[]): LabFile => ({ path: `/etc/systemd/system/${name}`, content: ['# Rendered by vipdrill (up --systemd).', ...body, ''].join('\n'), mode: 0o644 });

/** Each stack unit waits for the boot setup (a drop-in: the packaged unit stays as it is). */
const afterBoot = (u: string): LabFile => unit(`${u}.d/vipdrill.conf`, ['[Unit]', `Wants=${BOOT_UNIT}`, `After=${BOOT_UNIT}`]);

/** vipdrill's own helper daemons (sshd for --ssh) as units of their own. */
export function helperUnit(d: DaemonSpec): LabFile {
  return unit(`vipdrill-${d.name}.service`, [
    '[Unit]',
    `Description=vipdrill lab ${d.name}`,
    `After=${BOOT_UNIT}`,
    '[Service]',
    ...(d.pre ? [`ExecStartPre=/bin/sh -c '${d.pre.replace(/'/g, `'\\''`)}'`] : []),
    `ExecStart=${d.cmd}`,
    'Restart=always',
    `RestartSec=${d.delaySeconds ?? 1}`,
    '[Install]',
    'WantedBy=multi-user.target',
  ]);
}

/** The daemons the node's units replace, and pppd's log fifo (pppd logs to syslog, as on a real host). */
const REPLACED = new Set([...Object.keys(STACK_UNITS), 'ppplog']);

/**
 * A node's rendered stack, for systemd: the same config files at the same paths; the daemons become the
 * packaged units (charon: charon-systemd's strongswan.service; keepalived with the lab's arguments in
 * /etc/default/keepalived); pppd logs to the journal; the boot setup is a unit.
 */
export function asSystemdNode(cfg: ContainerConfig): ContainerConfig {
  const helpers = cfg.daemons.filter((d) => !REPLACED.has(d.name));
  const files = cfg.files.map((f) => (f.path.startsWith('/etc/ppp/options') ? { ...f, content: f.content.replace(/^logfile .*\n/m, '') } : f));
  return {
    files: [
      ...files,
      // charon-systemd reads its own section (install_routes and libipsec as the lab's charon has them)
      { path: '/etc/strongswan.d/zz-vipdrill-systemd.conf', content: ['# Rendered by vipdrill (up --systemd).', 'charon-systemd {', '    install_routes = no', '    plugins {', '        kernel-libipsec {', '            load = no', '        }', '    }', '}', ''].join('\n'), mode: 0o644 },
      { path: '/etc/default/keepalived', content: '# Rendered by vipdrill (up --systemd): the VRRP subsystem only, with detailed logs.\nDAEMON_ARGS="--vrrp --log-detail"\n', mode: 0o644 },
      unit(BOOT_UNIT, [
        '[Unit]',
        'Description=vipdrill lab boot setup (routes, firewall)',
        'DefaultDependencies=no',
        'Before=strongswan.service xl2tpd.service keepalived.service',
        '[Service]',
        'Type=oneshot',
        'RemainAfterExit=yes',
        'ExecStart=/usr/local/sbin/vipdrill-boot',
        '[Install]',
        'WantedBy=multi-user.target',
      ]),
      ...Object.values(STACK_UNITS).map(afterBoot),
      ...helpers.map(helperUnit),
    ],
    daemons: [],
    setup: cfg.setup,
    init: 'systemd',
  };
}
