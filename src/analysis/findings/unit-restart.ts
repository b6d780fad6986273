import { formatMs } from '../../util/time.js';
import type { HostEvent } from '../../run/events.js';
import type { Evidence, Rule } from './finding.js';

/**
 * A daemon vipdrill killed and left dead came back before vipdrill's revert: something else on the host
 * started it again. On a host whose stack systemd runs that is the unit's Restart= policy (Debian's
 * strongswan.service has Restart=on-abnormal: a SIGKILLed charon is back in about 2 s under TCG), and
 * keepalived's health check may never see the daemon down, so the VIP stays where it was. That is a
 * property of the host, not a failed failover: the finding says which, with the exit and the start as
 * the host's own journal logged them.
 */

const LEFT_DEAD = /^step\d+: SIG[A-Z]+ (\S+) on (\S+), left dead/;

export const unitRestart: Rule = ({ result: r }) => {
  const events = r.hostEvents ?? [];
  for (const inject of r.events.filter((e) => e.kind === 'fault.inject' && e.data?.kind === 'kill-daemon')) {
    const m = LEFT_DEAD.exec(inject.message);
    if (!m) continue;
    const [, daemon, host] = m;
    const revert = r.events.find((e) => e.kind === 'fault.revert' && e.step === inject.step && e.t > inject.t)?.t ?? r.labEnd;
    const of = (ev: 'daemon.exit' | 'daemon.start', from: number) => events.find((e): e is Extract<HostEvent, { ev: typeof ev }> => e.ev === ev && e.host === host && e.daemon === daemon && e.t >= from && e.t < revert);
    const exit = of('daemon.exit', inject.t - 1);
    const back = exit && of('daemon.start', exit.t + 1e-6);
    if (!exit || !back) continue;
    const moved = r.metrics.newHolder !== undefined;
    const evidence: Evidence[] = [
      { t: inject.t, what: inject.message },
      { t: exit.t, what: `${host}: ${daemon} exited (the host's own record)` },
      { t: back.t, what: `${host}: ${daemon} started again (pid ${back.pid}), ${formatMs((back.t - exit.t) * 1000)} after its exit, before vipdrill's revert` },
    ];
    return {
      id: 'unit-restart',
      mechanism: `${daemon} on ${host} was killed to stay dead, but something on ${host} started it again ${formatMs((back.t - exit.t) * 1000)} later, before vipdrill's revert: on a host whose stack systemd runs, its unit's Restart= policy${moved ? '' : `. keepalived's health check never failed for long enough, and the VIP stayed on ${host}`}.`,
      evidence,
      impactMs: 0,
      remedy: [
        { file: `${daemon}'s systemd unit on ${host} (systemctl cat)`, line: 'keep Restart= if a crash should be healed in place: then this crash does not fail over, and the scenario should expect vipMoved: false on this host', why: 'a restart in place recovers faster than a failover when the kernel SAs survive the crash' },
        { file: '/etc/keepalived/keepalived.conf', line: `a track_script that fails while ${daemon} restarts (e.g. checks its uptime), if a crash must move the VIP`, why: 'a check that only asks "is it running" cannot see a crash the unit undid between two checks' },
      ],
      confidence: 'high',
    };
  }
  return undefined;
};
