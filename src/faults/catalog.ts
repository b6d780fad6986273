import { VipdrillError } from '../errors.js';
import type { FaultStep } from '../scenario/schema.js';
import { addressesOf, addressOn, container, nftLines } from './targets.js';
import { at, clockBeside, faultLease, ifRunning, nftLease, reason, resolve, sh } from './actions.js';
import type { FaultEnv, Host, PlannedFault, Planner } from './types.js';
/**
 * Every fault kind vipdrill injects. Each planner returns an {inject, revert} pair; network rules live
 * only in vipdrill's own nft table (targets.ts), tagged with the fault id, and nothing else is flushed;
 * everything a host does runs through its agent (nft-apply, kill-daemon, vipdrill-fault subcommands).
 */

const killDaemon: Planner<'kill-daemon'> = (env, s) => {
  const h = resolve(env, s.target);
  const leave = !s.restart;
  return {
    id: env.id,
    kind: s.fault,
    targets: [h],
    // on a real host the daemon's systemd unit, if any, decides whether it comes back (Restart=)
    describe: `SIG${s.signal} ${s.daemon} on ${h}${env.lab.record.engine === 'remote' ? (leave ? ", left dead unless its unit's Restart= brings it back" : ', restarted by its supervisor or unit') : leave ? ', left dead' : ', the supervisor restarts it'}`,
    inject: async () => {
      try {
        return (await env.act(h, 'kill-daemon', { daemon: s.daemon, signal: s.signal, leaveDead: leave })).at;
      } catch (e) {
        throw new VipdrillError('FAULT_FAILED', `kill ${s.daemon} on ${h}: ${reason(e)}`);
      }
    },
    leases: leave && s.daemon !== 'pppd' ? [faultLease(h, 'daemon-up', s.daemon)] : [],
    // a daemon left dead is started again; one the supervisor restarts is left to the supervisor
    revert: () => (s.daemon === 'pppd' ? env.now(h) : at(sh(env, h, `restart ${s.daemon}`, ['daemon-up', s.daemon]))),
  };
};

function containerFault<K extends 'node-crash' | 'node-stop' | 'node-freeze' | 'node-restart'>(kind: K): Planner<K> {
  return (env, s) => {
    const h = resolve(env, (s as { target: string }).target);
    const c = container(env.lab, h);
    const grace = 'grace' in s ? Math.round((s.grace) / 1000) : 10;
    const what = { 'node-crash': env.lab.record.engine === 'remote' ? `crash (remote.crash.${h}.off, the power-off command)` : 'crash (docker kill -s KILL)', 'node-stop': `graceful stop (SIGTERM, ${grace} s grace)`, 'node-freeze': 'freeze (docker pause: every process SIGSTOPped by the cgroup freezer)', 'node-restart': 'restart (stop, then start)' }[kind];
    const planned: PlannedFault = {
      id: env.id,
      kind,
      targets: [h],
      describe: `${what} of node ${h}`,
      inject: async () => {
        const at = await clockBeside(env, h);
        if (kind === 'node-crash') {
          await env.engine.killContainer(c, 'SIGKILL');
          // the node died between the kill being asked (at) and the engine recording its exit (its
          // FinishedAt, on the lab's kernel clock): under a CPU hog that bracket was 4.3 s wide, and the
          // engine's record itself can lag the death. The fault counts from `at`; the bracket goes with it
          const seen = await env.engine.containerFinishedAt(c).catch(() => undefined);
          if (seen !== undefined && seen >= at) planned.bracket = { asked: at, seen };
          if (seen === undefined && env.lab.record.engine === 'remote') {
            // a power command takes seconds (under TCG, SSH to the hypervisor alone took 8 s): the node
            // died after its last pushed event (its agent ticks once a second) and before the command returned
            const after = await clockBeside(env, h);
            const heard = Math.max(at, env.lastHeard?.(h) ?? at);
            if (after > heard) planned.bracket = { asked: heard, seen: after };
            return heard;
          }
          return at;
        } else if (kind === 'node-stop') await env.engine.stopContainer(c, grace);
        else if (kind === 'node-freeze') await env.engine.pauseContainer(c);
        else {
          await env.engine.stopContainer(c, 10);
          await env.ensureRunning(h);
        }
        return at;
      },
      revert: async () => {
        await env.ensureRunning(h);
        return env.now(h);
      },
    };
    return planned;
  };
}

const linkDown: Planner<'link-down'> = (env, s) => {
  const h = resolve(env, s.target);
  const addr = addressOn(env.lab, h, s.iface);
  // the LAN host's route to the client pool goes with its link; its boot setup puts it back
  const after = h === 'lanhost' ? ['reboot'] : [];
  return {
    id: env.id,
    kind: s.fault,
    targets: [h],
    describe: `${s.iface} interface of ${h} down (ip link set down)`,
    leases: [faultLease(h, 'link', addr, 'up', ...after)],
    inject: () => at(sh(env, h, 'link down', ['link', addr, 'down'])),
    revert: () => at(sh(env, h, 'link up', ['link', addr, 'up', ...after])),
  };
};

const PROTO: Record<string, string> = { all: '', vrrp: 'ip protocol 112', ike: 'udp dport { 500, 4500 }', esp: 'ip protocol 50', l2tp: 'udp dport 1701', icmp: 'ip protocol 1' };

/** Drop from one host to another: in the sender's output (any source address, VIPs included) and the receiver's input. */
function dropRules(env: FaultEnv, from: Host, to: Host, proto: string): { host: Host; rules: string[] }[] {
  const m = PROTO[proto] ?? '';
  const set = (hs: string[]) => `{ ${hs.join(', ')} }`;
  return [
    { host: from, rules: [`output ip daddr ${set(addressesOf(env.lab, to))} ${m}`.trim()] },
    { host: to, rules: [`input ip saddr ${set(addressesOf(env.lab, from))} ${m}`.trim()] },
  ];
}

function nftFault(env: FaultEnv, kind: FaultStep['fault'], describe: string, parts: { host: Host; rules: string[] }[]): PlannedFault {
  const hosts = [...new Set(parts.map((p) => p.host))];
  return {
    id: env.id,
    kind,
    targets: hosts,
    describe,
    leases: hosts.map((h) => nftLease(env, h)),
    // every host's rules at once, each one atomic commit; the fault took effect with the first commit
    // (each part alone blocks what it names)
    inject: async () => Math.min(...(await Promise.all(parts.map((p) => nftApply(env, p.host, `${kind} rules`, p.rules))))),
    revert: async () => Math.max(...(await Promise.all(hosts.map((h) => revertNft(env, h))))),
  };
}

/** Add drop rules tagged with the fault id in one atomic commit, through the host's agent; when it took effect. */
async function nftApply(env: FaultEnv, h: Host, what: string, rules: string[]): Promise<number> {
  try {
    return (await env.act(h, 'nft-apply', { script: nftLines(env.id, rules).join('\n') })).at;
  } catch (e) {
    throw new VipdrillError('FAULT_FAILED', `${what} on ${h} failed: ${reason(e)}`);
  }
}

// a stopped container has no rules to remove (its netns is gone with them)
const revertNft = (env: FaultEnv, h: Host): Promise<number> => ifRunning(env, h, async () => (await env.act(h, 'nft-remove', { id: env.id })).at);

const drop: Planner<'drop'> = (env, s) => {
  const from = resolve(env, s.from);
  const to = resolve(env, s.to);
  const parts = dropRules(env, from, to, s.proto);
  if (s.direction === 'both') parts.push(...dropRules(env, to, from, s.proto));
  return nftFault(env, s.fault, `drop ${s.proto === 'all' ? 'all traffic' : s.proto} ${from} ${s.direction === 'both' ? '<->' : '->'} ${to}`, parts);
};

const partition: Planner<'partition'> = (env, s) => {
  const h = resolve(env, s.target);
  const rules = ['input iifname != "lo"', 'output oifname != "lo"', 'forward', 'arp:input', 'arp:output'];
  const f = nftFault(env, s.fault, `isolate node ${h}: drop everything in and out except loopback, ARP included, and everything leaving each interface (packet sockets too: keepalived's gratuitous ARPs)`, [{ host: h, rules }]);
  // keepalived sends its gratuitous ARPs on a packet socket, which neither the inet nor the arp hooks see:
  // without an egress drop on every interface the "isolated" master went on claiming the VIP to the
  // client (the default drill's partition-master, 67.5 s). The interfaces are the host's own, read first
  return {
    ...f,
    inject: async () => {
      const devs = (await sh(env, h, 'list interfaces', ['devs'])).out.split('\n').map((d) => d.trim()).filter(Boolean);
      return nftApply(env, h, `${s.fault} rules`, [...rules, ...devs.map((d) => `egress:${d}`)]);
    },
  };
};

const splitBrain: Planner<'split-brain'> = (env, s) =>
  nftFault(env, s.fault, 'block VRRP between the nodes only (both still reach the client and the LAN)', [
    ...Object.keys(env.lab.topology.nodes).map((host) => ({ host, rules: ['input ip protocol 112', 'output ip protocol 112'] })),
  ]);

const cutClient: Planner<'cut-client'> = (env, s) => {
  const h = resolve(env, s.target);
  const client = `{ ${addressesOf(env.lab, 'client').join(', ')} }`;
  return nftFault(env, s.fault, `cut the client from node ${h} only (both directions, on ${h})`, [{ host: h, rules: [`input ip saddr ${client}`, `output ip daddr ${client}`] }]);
};

const degrade: Planner<'degrade'> = (env, s) => {
  const h = resolve(env, s.target);
  const addr = addressOn(env.lab, h, s.iface);
  const netem = [s.loss > 0 ? `loss ${s.loss}%` : '', s.delay > 0 ? `delay ${s.delay}ms` : '', s.duplicate > 0 ? `duplicate ${s.duplicate}%` : ''].filter(Boolean).join(' ');
  const lossOnly = s.delay === 0 && s.duplicate === 0;
  return {
    id: env.id,
    kind: s.fault,
    targets: [h],
    describe: `degrade ${s.iface} of ${h}: ${netem}`,
    leases: [faultLease(h, 'unnetem', addr), nftLease(env, h)],
    // netem where the lab kernel has it; otherwise random drops in vipdrill's nft table (loss only)
    inject: async () => {
      const r = await sh(env, h, `degrade ${s.iface}`, ['netem', addr, s.loss, s.delay, s.duplicate]);
      const dev = /^nonetem dev=(\S+)$/m.exec(r.out)?.[1];
      if (!dev) return r.at;
      if (!lossOnly) throw new VipdrillError('FAULT_FAILED', `this lab kernel on ${h} has no netem (sch_netem): delay and duplication need it; loss alone works through nft`);
      const p = Math.round(s.loss);
      return nftApply(env, h, `degrade ${s.iface}`, [`output oifname "${dev}" numgen random mod 100 < ${p}`, `input iifname "${dev}" numgen random mod 100 < ${p}`]);
    },
    revert: () =>
      ifRunning(env, h, async () => {
        await sh(env, h, `restore ${s.iface}`, ['unnetem', addr]);
        return revertNft(env, h);
      }),
  };
};

/** Longest a busy loop lives when no revert comes (a fault that lasts until healed). */
const CPU_LOAD_LEASE_S = 3600;

/** Busy loops on a host, each bounded by its own lease (timeout), so nothing outlives a lost controller. */
const cpuLoad: Planner<'cpu-load'> = (env, s) => {
  const h = resolve(env, s.target);
  const leaseS = s.for === 'until-healed' ? CPU_LOAD_LEASE_S : Math.ceil(s.for / 1000) + 5;
  return {
    id: env.id,
    kind: s.fault,
    targets: [h],
    describe: `${s.cpus} busy loop${s.cpus > 1 ? 's' : ''} on ${h} (CPU load beside the daemons; each ends by itself after ${leaseS} s)`,
    leases: [faultLease(h, 'cpu-unload', env.id)],
    inject: () => at(sh(env, h, 'cpu load', ['cpu-load', env.id, s.cpus, leaseS])),
    revert: () => ifRunning(env, h, () => at(sh(env, h, 'end the cpu load', ['cpu-unload', env.id]))),
  };
};

/** Priority offset that puts node `h` below (or above) its peer. */
function offsetPast(env: FaultEnv, h: Host, direction: 'below' | 'above'): number {
  const nodes = env.lab.topology.nodes;
  const me = nodes[h]!.priority;
  const peer = Object.entries(nodes).find(([n]) => n !== h)![1].priority;
  return direction === 'below' ? Math.min(0, peer - 10 - me) : Math.max(0, Math.min(254, peer + 10) - me);
}

function operatorWrite(env: FaultEnv, h: Host, value: number): Promise<number> {
  return at(sh(env, h, 'set operator priority', ['operator', value]));
}

/** Drain: refuse new sessions (new IKE exchanges) at once, let the existing session run for `grace`, then demote. */
const drain: Planner<'drain'> = (env, s) => {
  const h = resolve(env, s.target);
  const below = offsetPast(env, h, 'below');
  return {
    id: env.id,
    kind: s.fault,
    targets: [h],
    describe: `drain node ${h}: refuse new IKE sessions, keep existing ones ${s.grace / 1000} s, then lower its priority by ${-below}`,
    leases: [nftLease(env, h), faultLease(h, 'operator', 0)],
    inject: async () => {
      const t = await nftApply(env, h, 'refuse new sessions', ['input udp dport { 500, 4500 } ct state new']);
      await (env.sleep ? env.sleep(s.grace) : new Promise((r) => setTimeout(r, s.grace)));
      await operatorWrite(env, h, below === 0 ? -1 : below);
      return t;
    },
    revert: async () => {
      await revertNft(env, h);
      return ifRunning(env, h, () => operatorWrite(env, h, 0));
    },
  };
};

function operatorFault<K extends 'demote' | 'takeover'>(kind: K): Planner<K> {
  return (env, s) => {
    const h = resolve(env, (s as { target: string }).target);
    const value = kind === 'demote' ? -254 : offsetPast(env, h, 'above');
    return {
      id: env.id,
      kind,
      targets: [h],
      describe: kind === 'demote' ? `forced demotion of ${h} (operator track file -254: FAULT, VIP released)` : `manual VIP takeover by ${h} (priority raised by ${value} above its peer)`,
      leases: [faultLease(h, 'operator', 0)],
      inject: () => operatorWrite(env, h, value),
      revert: () => ifRunning(env, h, () => operatorWrite(env, h, 0)),
    };
  };
}

const rekey: Planner<'rekey'> = (env, s) => {
  return {
    id: env.id,
    kind: s.fault,
    targets: ['client'],
    describe: 'client rekeys its IKE SA (swanctl --rekey --ike l2tp)',
    leases: [],
    inject: () => at(sh(env, 'client', 'rekey', ['rekey'])),
    revert: () => env.now('client'),
  };
};

function notifyFault<K extends 'notify-fail' | 'notify-twice'>(kind: K): Planner<K> {
  return (env, s) => {
    const h = resolve(env, (s as { target: string }).target);
    return {
      id: env.id,
      kind,
      targets: [h],
      describe: kind === 'notify-fail' ? `keepalived's notify hook on ${h} fails without applying its state` : `keepalived's notify hook on ${h} applies its state twice`,
      leases: [faultLease(h, 'notify-flag', kind, 'off')],
      inject: () => at(sh(env, h, kind, ['notify-flag', kind, 'on'])),
      // after the flag goes, the state keepalived is in now is applied, as a fixed hook would have
      revert: () => ifRunning(env, h, () => at(sh(env, h, `${kind} revert`, ['notify-flag', kind, 'off']))),
    };
  };
}

/** A node whose CHAP secret or IKE PSK differs from its peer's: the failover must fail authentication. */
const secretMismatch: Planner<'secret-mismatch'> = (env, s) => {
  const h = resolve(env, s.target);
  return {
    id: env.id,
    kind: s.fault,
    targets: [h],
    describe: `${h} gets a ${s.secret === 'chap' ? 'CHAP secret' : 'IKE pre-shared key'} different from its peer's`,
    leases: [faultLease(h, 'secret', s.secret, 'restore')],
    // the wrong secret is made on the host and never leaves it; the original is kept beside the file
    inject: () => at(sh(env, h, `change the ${s.secret} secret`, ['secret', s.secret, 'change'])),
    revert: async () => {
      await env.ensureRunning(h);
      return at(sh(env, h, `restore the ${s.secret} secret`, ['secret', s.secret, 'restore']));
    },
  };
};

/** The LAN host routes the client pool to the backup's address instead of the LAN VIP: return traffic takes the wrong node. */
const misroute: Planner<'misroute'> = (env, s) => {
  const t = env.lab.topology;
  const backupLan = t.nodes[env.backup]!.lan;
  return {
    id: env.id,
    kind: s.fault,
    targets: ['lanhost'],
    describe: `LAN host routes the client pool ${t.pool.subnet} via the backup ${env.backup} (${backupLan}) instead of the LAN VIP`,
    leases: [faultLease('lanhost', 'route', t.pool.subnet, t.vips.lan)],
    inject: () => at(sh(env, 'lanhost', 'misroute', ['route', t.pool.subnet, backupLan])),
    revert: () => at(sh(env, 'lanhost', 'restore route', ['route', t.pool.subnet, t.vips.lan])),
  };
};

/**
 * Calibration: drop ICMP through the client's tunnel, both ways, for exactly `for`. The window is timed
 * in the client by one resident `nft -i` (vipdrill-fault blackout): each commit is bracketed by lab-clock
 * reads, and the applied window is the distance between the bracket midpoints, with half the brackets
 * as its uncertainty.
 */
const blackout: Planner<'blackout'> = (env, s) => {
  const lan = env.lab.topology.lanhost.lan;
  const fault: PlannedFault = {
    id: env.id,
    kind: s.fault,
    targets: ['client'],
    leases: [nftLease(env, 'client')],
    describe: `blackout: ICMP to and from ${lan} through the client's tunnel dropped for exactly ${s.for} ms, timed inside the lab`,
    inject: async () => {
      // (not at real-time priority: tried, and under emulation it delayed the probes it is measured by)
      const r = await sh(env, 'client', 'blackout', ['blackout', env.id, lan, (s.for / 1000).toFixed(3)], s.for + 30_000);
      const m = /window (\S+) (\S+) (\S+) (\S+)/.exec(r.out);
      if (!m) throw new VipdrillError('FAULT_FAILED', `blackout on client printed no window: ${r.out.trim().split('\n').slice(-2).join(' | ')}`);
      const [a0, a1, r0, r1] = m.slice(1).map(Number) as [number, number, number, number];
      const on = (a0 + a1) / 2;
      const off = (r0 + r1) / 2;
      fault.window = { on, off, nominalMs: s.for, appliedMs: (off - on) * 1000, uncertaintyMs: (a1 - a0 + (r1 - r0)) * 500, onBracket: [a0, a1], offBracket: [r0, r1] };
      return on;
    },
    revert: () => revertNft(env, 'client'),
  };
  return fault;
};

const PLANNERS: { [K in FaultStep['fault']]: Planner<K> } = {
  'kill-daemon': killDaemon,
  'node-crash': containerFault('node-crash'),
  'node-stop': containerFault('node-stop'),
  'node-freeze': containerFault('node-freeze'),
  'node-restart': containerFault('node-restart'),
  'link-down': linkDown,
  drop,
  partition,
  'split-brain': splitBrain,
  'cut-client': cutClient,
  degrade,
  'cpu-load': cpuLoad,
  drain,
  demote: operatorFault('demote'),
  takeover: operatorFault('takeover'),
  rekey,
  'notify-fail': notifyFault('notify-fail'),
  'notify-twice': notifyFault('notify-twice'),
  'secret-mismatch': secretMismatch,
  misroute,
  blackout,
};

export function planFault(env: FaultEnv, step: FaultStep): PlannedFault {
  const planner = PLANNERS[step.fault] as Planner<typeof step.fault>;
  return planner(env, step);
}

export const FAULT_KINDS = Object.keys(PLANNERS) as FaultStep['fault'][];
