import { join } from 'node:path';
import { labDir } from '../util/paths.js';

/**
 * The agent/Host contract: the one place that names where things live on a lab host. The agent
 * (lab/agent/vipdrill-agent) uses the same paths; the lab's shell helpers (lab/images/lab/rootfs) too.
 */
export const HOST_PATHS = {
  /** runtime state (a tmpfs in lab containers: empty after every start) */
  run: '/run/vipdrill',
  /** the daemons' logs, each line stamped with the host's CLOCK_REALTIME */
  log: '/var/log/vipdrill',
  /** the supervisor's daemon descriptions */
  daemons: '/etc/vipdrill/daemons',
  /** where the controller copies the agent on each host before it starts it */
  agent: '/usr/local/lib/vipdrill/vipdrill-agent',
  /** the agent's systemd side (hosts whose stack systemd runs), beside it: the agent imports it */
  agentSystemd: '/usr/local/lib/vipdrill/vipdrill_systemd.py',
  /** the faults' shell side, beside the agent (its `fault` action runs it with argv) */
  fault: '/usr/local/lib/vipdrill/vipdrill-fault',
  /** the operator track file (drain, demotion, takeover): its value is added to the node's VRRP priority */
  operatorTrack: '/run/vipdrill/operator-priority',
  /** non-empty (the SA's id) while the client's CHILD_SA is installed, kept by its updown script with l2tp.clientRestart (lab/images/lab/rootfs/usr/local/sbin/vipdrill-reconnect) */
  childUp: '/run/vipdrill/child-up',
  /** non-empty from a client CHILD_SA's loss to the next one (same script; emptied, not removed): the next one restarts xl2tpd */
  childLost: '/run/vipdrill/child-lost',
  /** the lab's control script (kill/start daemons) */
  ctl: '/usr/local/sbin/vipdrill-ctl',
} as const;

/** The agent's source on the controller. */
export const AGENT_SOURCE = join(labDir, 'agent', 'vipdrill-agent');
/** The agent's systemd module, copied beside it. */
export const AGENT_SYSTEMD_SOURCE = join(labDir, 'agent', 'vipdrill_systemd.py');
/** The faults' shell (shellchecked in `npm run lint`), copied with the agent. */
export const FAULT_SOURCE = join(labDir, 'agent', 'vipdrill-fault');

/** The stamped logs a log window may read (the agent refuses any other). */
export type HostLog = 'charon.log' | 'xl2tpd.log' | 'pppd.log' | 'redial.log' | 'keepalived.log' | 'vrrp.log' | 'notify.log' | 'supervisor.log';
