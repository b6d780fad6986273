import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ed25519KeyPair, keysReadable } from './ssh-keys.js';
import { stringify } from 'yaml';
import { SSH_USERS } from '../stack/sshd.js';
import type { Topology } from '../topology/schema.js';
import { labDirOf, type LabRecord } from './state.js';

/** Where a lab's SSH keys live (mode 700): the client key and one host key per container. */
export function sshDirOf(lab: string): string {
  return join(labDirOf(lab), 'ssh');
}

function keypair(dir: string, name: string): { private: string; public: string } {
  const priv = join(dir, name);
  // a pair made before ed25519KeyPair may be one ssh2 cannot read: made again
  if (!existsSync(priv) || !existsSync(`${priv}.pub`) || !keysReadable(readFileSync(priv, 'utf8'), readFileSync(`${priv}.pub`, 'utf8'))) {
    const k = ed25519KeyPair(`vipdrill ${name}`);
    writeFileSync(priv, k.private, { mode: 0o600 });
    chmodSync(priv, 0o600);
    // the public line without its comment: the form a topology pins
    writeFileSync(`${priv}.pub`, k.public.trim().split(/\s+/).slice(0, 2).join(' ') + '\n', { mode: 0o644 });
  }
  return { private: readFileSync(priv, 'utf8'), public: readFileSync(`${priv}.pub`, 'utf8').trim() };
}

/** The lab's SSH keys, generated once per lab: the controller's client key, and a host key for each of `hosts`. */
export function labSshKeys(lab: string, hosts: string[]): { clientKeyFile: string; clientPublic: string; hosts: Record<string, { private: string; public: string }> } {
  const dir = sshDirOf(lab);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  const client = keypair(dir, 'id_ed25519');
  return { clientKeyFile: join(dir, 'id_ed25519'), clientPublic: client.public, hosts: Object.fromEntries(hosts.map((h) => [h, keypair(dir, `host-${h}`)])) };
}

export const REMOTE_TOPOLOGY = 'remote.yaml';

/** A node's power commands through the lab VM's SSH (its host key pinned in a known_hosts file of the lab's own). */
function powerCommands(record: LabRecord, node: string, jump: { port: number; identity: string; hostKey: string }): { off: string; on: string } {
  const kh = join(sshDirOf(record.name), 'vm_known_hosts');
  writeFileSync(kh, `[127.0.0.1]:${jump.port} ${jump.hostKey.split(/\s+/).slice(0, 2).join(' ')}\n`, { mode: 0o600 });
  const ssh = `ssh -o BatchMode=yes -o UserKnownHostsFile=${kh} -o StrictHostKeyChecking=yes -i ${jump.identity} -p ${jump.port} root@127.0.0.1`;
  const c = record.containers[node]!;
  return { off: `${ssh} docker kill -s KILL ${c}`, on: `${ssh} docker start ${c}` };
}

/**
 * The remote topology for a lab brought up with --ssh: the lab's own addresses, and each container as
 * an existing host reached over SSH with its host key pinned. The nodes are reached on their LAN
 * address, as a staging pair's management usually is (their WAN firewall admits the VPN only), as the
 * operator `ops` through sudo; the client and the LAN host as root. A lab in a VM is reached through
 * the VM's own SSH (a jump host).
 */
export function writeRemoteTopology(record: LabRecord, t: Topology, jump?: { port: number; identity: string; hostKey: string }): string {
  const keys = labSshKeys(record.name, Object.keys(record.containers));
  const access = (user: string, ip: string, host: string, become = false) => ({ ssh: `${user}@${ip}:22`, identity: keys.clientKeyFile, hostKey: keys.hosts[host]!.public, ...(become ? { become: 'sudo' } : {}) });
  const { config: _, remote: __, ...rest } = t;
  const doc = {
    ...rest,
    name: `${record.name.slice(0, 20)}-ssh`,
    description: `lab ${record.name} reached as remote hosts over SSH (written by vipdrill up --ssh)`,
    profile: record.profile,
    remote: {
      ...(jump ? { jump: { ssh: `root@127.0.0.1:${jump.port}`, identity: jump.identity, hostKey: jump.hostKey.split(/\s+/).slice(0, 2).join(' ') } } : {}),
      hosts: {
        ...Object.fromEntries(Object.entries(t.nodes).map(([n, node]) => [n, access(SSH_USERS.sudoer, node.lan, n, true)])),
        client: access(SSH_USERS.root, t.client.nat ? t.client.wan : t.client.wan, 'client'),
        lanhost: access(SSH_USERS.root, t.lanhost.lan, 'lanhost'),
      },
      lease: { ttl: 10, renew: 2 },
      // node-crash as a hypervisor would do it: the lab VM kills and starts the node's container
      ...(jump ? { crash: Object.fromEntries(Object.keys(t.nodes).map((n) => [n, powerCommands(record, n, jump)])) } : {}),
    },
  };
  const file = join(labDirOf(record.name), REMOTE_TOPOLOGY);
  writeFileSync(file, `# Written by vipdrill up --ssh for lab ${record.name}. Drill it with: vipdrill run <scenario> -t ${file} --yes\n` + stringify(doc, { lineWidth: 0 }), { mode: 0o600 });
  return file;
}
