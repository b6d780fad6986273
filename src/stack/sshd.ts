import type { ContainerConfig } from './render.js';
import { helperUnit } from './systemd.js';
import type { DaemonSpec, LabFile } from './types.js';

/** The users `vipdrill up --ssh` makes in every container: root, an operator with sudo, one without. */
export const SSH_USERS = { root: 'root', sudoer: 'ops', plain: 'drill' } as const;

export const SSHD_CONFIG = '/etc/vipdrill/sshd_config';
const HOST_KEY = '/etc/vipdrill/ssh_host_ed25519_key';

const sshd: DaemonSpec = {
  name: 'sshd',
  cmd: `/usr/sbin/sshd -D -e -f ${SSHD_CONFIG}`,
  pre: 'mkdir -p /run/sshd',
};

/**
 * sshd in a lab container, so the lab can be drilled as remote hosts (SSH alone, no docker exec): its own
 * host key (generated per lab and container, pinned in the written topology), key login only, and the
 * lab's one client key for each user. `ops` may sudo without a password; `drill` may not.
 */
export function withSshd(cfg: ContainerConfig, keys: { hostPrivate: string; clientPublic: string }): ContainerConfig {
  const authorized = (user: string): LabFile => ({ path: `/etc/vipdrill/authorized_keys/${user}`, content: keys.clientPublic.trim() + '\n', mode: 0o644 });
  const config = [
    '# Rendered by vipdrill (up --ssh).',
    'Port 22',
    `HostKey ${HOST_KEY}`,
    'AuthorizedKeysFile /etc/vipdrill/authorized_keys/%u',
    'PermitRootLogin prohibit-password',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'UsePAM no',
    'PrintMotd no',
    'Subsystem sftp internal-sftp',
    '',
  ].join('\n');
  return {
    files: [
      ...cfg.files,
      ...(cfg.init === 'systemd' ? [helperUnit(sshd)] : []),
      { path: SSHD_CONFIG, content: config, mode: 0o644 },
      { path: HOST_KEY, content: keys.hostPrivate, mode: 0o600, secret: true },
      ...Object.values(SSH_USERS).map(authorized),
      { path: '/etc/sudoers.d/vipdrill-ops', content: `${SSH_USERS.sudoer} ALL=(root) NOPASSWD: ALL\n`, mode: 0o440 },
    ],
    // a node systemd runs gets sshd as a unit of its own (vipdrill-sshd.service, in place of Debian's ssh.service)
    ...(cfg.init === 'systemd' ? { daemons: cfg.daemons, init: cfg.init } : { daemons: [sshd, ...cfg.daemons] }),
    // a password of '*' (no password) rather than useradd's '!' (locked): sshd refuses a locked account a key login
    setup: [...cfg.setup, ...[SSH_USERS.sudoer, SSH_USERS.plain].map((u) => `id -u ${u} >/dev/null 2>&1 || useradd -m -s /bin/bash -p '*' ${u}`)],
  };
}
