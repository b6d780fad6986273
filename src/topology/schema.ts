import { z } from 'zod';
import { NODE_NAME, ROLE_WORDS } from '../scenario/roles.js';
import { parseCidr, parseIpv4 } from '../util/ip.js';

/**
 * The one schema for topology and profile files: it gives the TypeScript types, the validation and
 * the error messages (`file: field.path: expected ...`).
 */
export const ipv4 = z
  .string({ error: 'expected an IPv4 address like 10.213.1.11' })
  .refine((s) => parseIpv4(s) !== undefined, { error: 'expected an IPv4 address like 10.213.1.11' });

export const subnet = z
  .string({ error: 'expected an IPv4 subnet like 10.213.1.0/24' })
  .refine((s) => s.includes('/') && parseCidr(s) !== undefined && parseCidr(s)!.network === parseIpv4(s.split('/')[0]!), {
    error: 'expected an IPv4 subnet like 10.213.1.0/24 (network address, prefix length 8-30)',
  })
  .refine((s) => { const p = parseCidr(s)?.prefix ?? 0; return p >= 8 && p <= 30; }, { error: 'expected a prefix length between /8 and /30' });

const relPath = z.string({ error: 'expected a file path (relative to the topology file)' }).min(1);

export const labName = z
  .string({ error: 'expected a lab name' })
  .regex(/^[a-z0-9][a-z0-9-]{0,23}$/, { error: 'expected 1-24 lowercase letters, digits or dashes, starting with a letter or digit' });

const node = z.strictObject({
  wan: ipv4,
  lan: ipv4,
  priority: z.int({ error: 'expected a whole number from 1 to 254' }).min(1).max(254),
});

/** user@host or user@host:port (an IPv4 address or a DNS name). */
export const SSH_TARGET = /^([a-z_][a-z0-9_.-]{0,31})@([A-Za-z0-9][A-Za-z0-9.-]{0,252})(?::(\d{1,5}))?$/;
const HOST_KEY = /^(ssh-ed25519|ecdsa-sha2-nistp(256|384|521)|ssh-rsa) [A-Za-z0-9+/]+=*$/;

/** How vipdrill reaches one existing host over SSH. */
const sshAccess = z.strictObject({
  ssh: z.string({ error: 'expected user@host or user@host:port' }).regex(SSH_TARGET, { error: 'expected user@host or user@host:port, e.g. ops@10.0.0.11:22' }),
  /** a private key file (mode 600); without it, the SSH agent at $SSH_AUTH_SOCK */
  identity: relPath.optional(),
  /** the host's public key, pinned ("ssh-ed25519 AAAA..."); without it, a known_hosts entry for the host */
  hostKey: z.string({ error: 'expected an OpenSSH public key line like "ssh-ed25519 AAAA..."' }).regex(HOST_KEY, { error: 'expected an OpenSSH public key line like "ssh-ed25519 AAAA..." (type and base64, no comment)' }).optional(),
  /** the known_hosts file to pin the key from (default ~/.ssh/known_hosts) */
  knownHosts: relPath.optional(),
});

export const remoteSchema = z.strictObject({
  /** a bastion every host is reached through (ProxyJump) */
  jump: sshAccess.optional(),
  /** the pair, the client and the LAN target: each an existing host, reached over SSH */
  hosts: z.record(
    z.string(),
    sshAccess.extend({
      /** `sudo`: the user is not root and runs vipdrill's agent through `sudo -n` (passwordless sudo) */
      become: z.literal('sudo', { error: 'expected sudo (or leave it out when the user is root)' }).optional(),
    }),
  ),
  /** the fault kinds a drill may inject on these hosts (default: every kind a host can revert by itself) */
  allow: z.array(z.string({ error: 'expected a fault kind' })).optional(),
  /** the maintenance window, e.g. "Sat 02:00-04:00 UTC", "Mon-Fri 22:00-23:30 UTC", "daily 01:00-05:00 UTC" */
  window: z.string({ error: 'expected a window like "Sat 02:00-04:00 UTC"' }).optional(),
  lease: z
    .strictObject({
      /** how long a host waits for the controller's renewal before it reverts a fault by itself (default 30 s) */
      ttl: z.number({ error: 'expected seconds (5 to 600)' }).min(5).max(600).default(30),
      /** how often the controller renews (default 5 s) */
      renew: z.number({ error: 'expected seconds (1 to 60)' }).min(1).max(60).default(5),
    })
    .optional(),
  /** node-crash on real hosts: the commands (run on this machine) that power a node off and on, e.g. through IPMI */
  crash: z.record(z.string(), z.strictObject({ off: z.string().min(1), on: z.string().min(1) })).optional(),
});

export type Remote = z.infer<typeof remoteSchema>;

export const topologySchema = z.strictObject({
  name: labName.default('vipdrill'),
  description: z.string().optional(),
  profile: z.string({ error: 'expected a profile name (lab/profiles/<name>.yaml) or a path' }).default('fast'),
  networks: z.strictObject({
    wan: z.strictObject({ subnet }),
    lan: z.strictObject({ subnet }),
  }),
  vips: z.strictObject({ wan: ipv4, lan: ipv4 }),
  pool: z.strictObject({
    subnet,
    local: ipv4,
    first: ipv4,
    last: ipv4,
  }),
  nodes: z
    .record(z.string().regex(NODE_NAME, { error: 'expected a node name of lowercase letters, digits and dashes, starting with a letter' }), node)
    .refine((r) => Object.keys(r).length === 2, { error: 'expected exactly two nodes (the VRRP pair), e.g. a and b' })
    .refine((r) => Object.keys(r).every((n) => !(ROLE_WORDS as readonly string[]).includes(n)), { error: `expected node names that are not role words (${ROLE_WORDS.join(', ')}): scenarios use those for roles` }),
  client: z.strictObject({
    /** the client's own address: on the wan, or with `nat` on the home network behind the router */
    wan: ipv4,
    /** put the client behind a NAT router (masquerade), as most real L2TP/IPsec clients are: IKE and ESP go over NAT-T (UDP 4500) */
    nat: z
      .strictObject({
        /** the home network between the client and the router */
        subnet,
        /** the router's address on the home network (the client's route to the wan) */
        inside: ipv4,
        /** the router's address on the wan: what the nodes see as the client */
        outside: ipv4,
      })
      .optional(),
    user: z.string().regex(/^[A-Za-z0-9._-]{1,32}$/, { error: 'expected a PPP user name of letters, digits, . _ -' }).default('vipdrill-client'),
  }),
  lanhost: z.strictObject({ lan: ipv4 }),
  /**
   * Existing hosts instead of a lab (a staging pair): vipdrill renders and creates nothing, it reaches
   * each host over SSH, discovers its stack read-only and leases every fault (see lab/topologies/remote.example.yaml).
   */
  remote: remoteSchema.optional(),
  /** Bring your own node configs instead of rendered ones (paths relative to the topology file). */
  config: z
    .strictObject({
      keepalived: relPath.optional(),
      swanctl: relPath.optional(),
      xl2tpd: relPath.optional(),
      pppOptions: relPath.optional(),
      chapSecrets: relPath.optional(),
    })
    .optional(),
});

export type Topology = z.infer<typeof topologySchema>;

const seconds = (what: string, min: number, max: number) =>
  z.number({ error: `expected ${what} in seconds (${min} to ${max})` }).min(min).max(max);
const count = (min: number, max: number) => z.int({ error: `expected a whole number from ${min} to ${max}` }).min(min).max(max);

export const profileSchema = z.strictObject({
  name: z.string(),
  description: z.string().optional(),
  vrrp: z.strictObject({
    version: z.union([z.literal(2), z.literal(3)], { error: 'expected 2 or 3' }),
    advertInt: seconds('the advert interval', 0.01, 40.95),
    preempt: z.boolean(),
    preemptDelay: seconds('the preempt delay', 0, 1000),
    /** a master repeats its gratuitous ARPs this often (s; 0: never): a client's ARP entry taken by the other node lives at most that long */
    garpMasterRefresh: count(0, 3600).default(10),
    /** gratuitous ARPs sent at each transition to MASTER (keepalived's default 5) */
    garpMasterRepeat: count(1, 100).default(5),
    /** gratuitous ARPs a master sends when it hears a lower-priority advert (the other side of a healed split brain); unset: keepalived's default */
    garpLowerPrioRepeat: count(1, 100).optional(),
    /**
     * keepalived's vrrp_rt_priority: the VRRP process runs SCHED_RR at this priority (1-99; 0: off, the
     * default), so a busy host does not delay its adverts or the handling of the peer's (the scheduling
     * delay behind false takeovers at sub-second adverts). The node needs CAP_SYS_NICE; vrrp_rlimit_rtime
     * is rendered at 1 s (keepalived's 10 ms default got the process killed at start under TCG).
     */
    rtPriority: count(0, 99).default(0),
    auth: z.string().regex(/^[\x21-\x7e]{1,8}$/, { error: 'expected a password of 1-8 printable characters' }).nullable(),
  }),
  health: z.strictObject({
    interval: count(1, 600),
    fall: count(1, 100),
    rise: count(1, 100),
    weight: z.int({ error: 'expected a whole number from -253 to 253' }).min(-253).max(253),
    /** seconds a check may run before keepalived counts it as failed (slow under TCG: keep it generous) */
    timeout: count(1, 600).default(5),
  }),
  ike: z.strictObject({
    proposal: z.string().regex(/^[a-z0-9_-]+$/, { error: 'expected a strongSwan proposal like aes128-sha256-modp2048' }),
    espProposal: z.string().regex(/^[a-z0-9_-]+$/, { error: 'expected a strongSwan proposal like aes128-sha256' }),
    dpdDelay: seconds('the DPD delay', 0, 3600),
    dpdTimeout: seconds('the DPD timeout', 0, 3600),
    dpdAction: z.enum(['restart', 'clear', 'trap'], { error: 'expected restart, clear or trap' }),
  }),
  ppp: z.strictObject({
    lcpEchoInterval: count(0, 3600),
    lcpEchoFailure: count(0, 100),
    mtu: count(576, 1500),
    /**
     * LCP's retransmit timer (pppd lcp-restart, default 3 s) and how many Terminate-Requests pppd sends
     * (lcp-max-terminate, default 3). A client whose peer died sends its Terminate-Requests into the void
     * and waits them out before it exits, and xl2tpd redials only after that: restart × max-terminate of
     * outage that does nothing. lcp-max-terminate 0: pppd sends one Terminate-Request and closes at once,
     * without waiting for its Ack (pppd's fsm.c terminate_layer), so a dead peer costs no wait at all.
     */
    lcpRestart: count(1, 60).default(3),
    /**
     * pppd lcp-echo-adaptive: an echo only when nothing came from the peer since the last one. A link
     * carrying traffic is then never declared dead for lost echoes (a lossy WAN), and a dead peer is
     * still noticed within interval × failure once its traffic stops.
     */
    lcpEchoAdaptive: z.boolean({ error: 'expected true or false' }).default(false),
    lcpMaxTerminate: count(0, 20).default(3),
  }),
  l2tp: z.strictObject({
    redialTimeout: count(1, 3600),
    maxRedials: count(1, 100000),
    maxRetries: count(1, 100),
    /**
     * The client restarts xl2tpd the moment a new CHILD_SA to the VIP is installed (a strongSwan updown
     * script: after the holder died, DPD restarts IKE on the new holder), so L2TP dials over the new SA at
     * once, as NetworkManager-l2tp brings L2TP up again on a new IPsec SA. Off (the default), xl2tpd keeps
     * the dead call until LCP fails, then tears it and the tunnel down by its own retransmit timers (a
     * CDN, then a StopCCN, each max-retries times: about 2 s at max retries 1) and redials only then. A
     * client-side setting: nothing changes on the nodes (lab/images/lab/rootfs/usr/local/sbin/vipdrill-reconnect).
     */
    clientRestart: z.boolean({ error: 'expected true or false' }).default(false),
  }),
});

export type Profile = z.infer<typeof profileSchema>;
