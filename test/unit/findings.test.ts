import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { findingsOf, RULES } from '../../src/analysis/findings/index.js';
import type { Rule } from '../../src/analysis/findings/finding.js';
import { authDrift } from '../../src/analysis/findings/auth-drift.js';
import { detectionDominates } from '../../src/analysis/findings/detection.js';
import { ikeToVoid } from '../../src/analysis/findings/ike-to-void.js';
import { l2tpDeadTunnel } from '../../src/analysis/findings/l2tp-dead-tunnel.js';
import { notifyRace } from '../../src/analysis/findings/notify-race.js';
import { preemptFailback } from '../../src/analysis/findings/preempt-failback.js';
import { staleArp } from '../../src/analysis/findings/stale-arp.js';
import { splitClaims } from '../../src/analysis/findings/split-claims.js';
import { neighbourEntries } from '../../src/analysis/arp.js';
import { takeoverBand } from '../../src/analysis/findings/takeover-band.js';
import { unitRestart } from '../../src/analysis/findings/unit-restart.js';
import { decomposeReconnect, type LogLine } from '../../src/analysis/reconnect.js';
import type { ScenarioResult } from '../../src/run/result.js';
import { defaultTopologyPath, loadProfile, loadTopology } from '../../src/topology/load.js';
import { fixture } from '../helpers.js';

/**
 * Each findings rule on recorded results (test/fixtures/report-run: real runs under TCG): one where it
 * fires, one where it must not. Where no recorded run shows a mechanism, the recorded result is changed
 * in the one place the mechanism lives, and the test says which.
 */

const recorded = (scenario: string, repeat = 1): ScenarioResult => JSON.parse(readFileSync(fixture('report-run', scenario, `repeat-${repeat}`, 'result.json'), 'utf8')) as ScenarioResult;
/** The client's daemon lines of a recorded repeat, from its events.jsonl evidence line. */
const clientLines = (scenario: string): LogLine[] => {
  const lines = readFileSync(fixture('report-run', scenario, 'repeat-1', 'events.jsonl'), 'utf8').trim().split('\n');
  return (JSON.parse(lines.at(-1)!) as { evidence: { clientLines: LogLine[] } }).evidence.clientLines;
};
const topology = loadTopology(defaultTopologyPath()).topology;
// the profile the fixtures' repeats ran with (fast until 2026-12-07)
const profile = loadProfile('fast-plain');
const on = (rule: Rule, result: ScenarioResult, p = profile) => rule({ result, profile: p, topology });

describe('findings: why a repeat was slow, and what to change', () => {
  it('takeover beyond VRRP\'s band: node-crash-tight (1.71 s against 1.08 s, the kill carried out 1.06 s late) is kill latency; node-crash (1.13 s) is inside the band; a drain (the master lowers its priority) is no silent master', () => {
    const f = on(takeoverBand, recorded('node-crash-tight'))!;
    expect(f.id).to.equal('takeover-kill-latency');
    expect(f.mechanism).to.match(/1\.1 s of it went into carrying out the fault/);
    expect(f.evidence.map((e) => e.seq !== undefined)).to.include(true);
    expect(on(takeoverBand, recorded('node-crash'))).to.equal(undefined);
    const drain = recorded('node-crash-tight');
    for (const e of drain.events) if (e.kind === 'fault.inject') e.data = { ...e.data, kind: 'drain' };
    expect(on(takeoverBand, drain)).to.equal(undefined);
  });

  it('a preempting failback: node-crash\'s old master took the VIP back and cost 11.9 s more; not with nopreempt, nor where nothing failed back', () => {
    const f = on(preemptFailback, recorded('node-crash'))!;
    expect([f.id, Math.round(f.impactMs)]).to.deep.equal(['preempt-failback', 11921]);
    expect(f.remedy.map((x) => x.profile)).to.deep.equal(['vrrp.preempt', 'vrrp.preemptDelay']);
    expect(on(preemptFailback, recorded('node-crash'), loadProfile('fast-nopreempt'))).to.equal(undefined);
    expect(on(preemptFailback, recorded('calibrate-outage-1s'))).to.equal(undefined);
  });

  it('xl2tpd on a dead tunnel: node-crash\'s L2TP phase (8.0 s, the longest) waited out the old tunnel; a blackout has no such phase', () => {
    const f = on(l2tpDeadTunnel, recorded('node-crash'))!;
    expect(f.id).to.equal('l2tp-dead-tunnel');
    expect(f.evidence.length).to.be.greaterThan(0);
    // fast is at 1 retry and 1 terminate already: no change left to propose there, and it says so
    expect(f.remedy).to.deep.equal([]);
    expect(f.mechanism).to.match(/at its shortest there already/);
    // with distro-defaults' 5 retries and 3 terminates, fewer of each
    const d = on(l2tpDeadTunnel, recorded('node-crash'), loadProfile('distro-defaults'))!;
    expect(d.remedy.map((x) => x.line)).to.deep.equal(['max retries = 4', 'lcp-max-terminate 2', 'lcp-restart 1']);
    expect(on(l2tpDeadTunnel, recorded('calibrate-outage-1s'))).to.equal(undefined);
  });

  it('detection dominating: node-crash\'s own DPD (2.7 s of 15.2 s) does not; the same lines with the fault 20 s earlier do, by DPD', () => {
    const r = recorded('node-crash');
    expect(on(detectionDominates, r)).to.equal(undefined);
    const early = structuredClone(r);
    const fault = r.metrics.outageFaultAt! - 20;
    early.metrics.reconnect = decomposeReconnect(clientLines('node-crash'), fault, fault + 20 + r.metrics.reconnectMs! / 1000);
    const f = on(detectionDominates, early)!;
    expect(f.id).to.equal('detection-by-dpd');
    expect(f.remedy[0]).to.include({ file: '/etc/swanctl/swanctl.conf', profile: 'ike.dpdDelay' });
  });

  it('authentication after a failover: none in node-crash; CHAP failures on the new holder name chap-secrets', () => {
    expect(on(authDrift, recorded('node-crash'))).to.equal(undefined);
    const r = recorded('node-crash');
    r.metrics.authFailures = { b: 3 };
    const f = on(authDrift, r)!;
    expect(f.mechanism).to.match(/3 on b/);
    expect(f.remedy.map((x) => x.file)).to.include('/etc/ppp/chap-secrets');
  });

  it('IKE retransmits into a VIP nobody answered: none recorded in node-crash; five over 6 s are', () => {
    const r = recorded('node-crash');
    expect(on(ikeToVoid, r)).to.equal(undefined);
    const t0 = r.firstFaultAt!;
    r.metrics.reconnect!.notable.push(...[0, 1, 2.8, 4.6, 6.1].map((d) => ({ t: t0 + 0.2 + d, source: 'charon', what: 'charon: IKE request retransmitted' })));
    const f = on(ikeToVoid, r)!;
    expect(f.mechanism).to.match(/5 times over 6\.1 s, the first before any node held the VIP again/);
  });

  it('a stale ARP entry: node-crash\'s returning master claimed the VIP during the outage (no finding); without that claim, it is one', () => {
    const r = recorded('node-crash');
    expect(on(staleArp, r)).to.equal(undefined);
    const o = r.metrics.outages!.filter((x) => x.cause === 'revert').sort((a, b) => b.ms - a.ms)[0]!;
    r.metrics.arp!.claims = r.metrics.arp!.claims.filter((c) => !(c.node === 'a' && c.t > o.from && c.t < o.to));
    const f = on(staleArp, r)!;
    expect(f.mechanism).to.match(/the last node the client heard claim the VIP was b/);
    expect(f.remedy[0]!.line).to.match(/garp_master_refresh/);
  });

  it('a stale ARP entry read on the client: its entry for the VIP pointed at the node that gave it up, though the holder claimed it', () => {
    const r = recorded('node-crash');
    const o = r.metrics.outages!.filter((x) => x.cause === 'revert').sort((a, b) => b.ms - a.ms)[0]!;
    const macOf = (n: string) => r.metrics.arp!.claims.find((c) => c.node === n)!.mac;
    // right entries: no finding (the holder a's claims are in the recording)
    r.metrics.arp!.neighbour = [{ t: o.from + 0.5, mac: macOf('a'), node: 'a', state: ['REACHABLE'] }];
    expect(on(staleArp, r)).to.equal(undefined);
    // the entry still at b halfway through the outage: the mechanism, read on the client
    r.metrics.arp!.neighbour = [{ t: o.from + 0.5, mac: macOf('b'), node: 'b', state: ['STALE'] }];
    const f = on(staleArp, r)!;
    expect(f.mechanism).to.match(/the client's own ARP entry for the VIP pointed at b \(STALE\), while a held the VIP/);
    expect(f.confidence).to.equal('high');
    expect(f.evidence.at(-1)!.what).to.match(/pointed at b .*not at a/);
  });

  it('a stale ARP entry during a split brain (recorded, test/fixtures/split-brain): b\'s claims moved the client\'s entry off a, which held its SA; not with garp_master_refresh 2, nor without a split', () => {
    const split = (name: string) => JSON.parse(readFileSync(fixture('split-brain', `${name}.json`), 'utf8')) as ScenarioResult;
    const r = split('before-2');
    const f = on(staleArp, r)!;
    const o = r.metrics.outages!.find((x) => x.cause === 'fault')!;
    expect([f.id, f.impactMs]).to.deep.equal(['stale-arp', o.ms]);
    // b's first gratuitous ARP of the split is the outage's start, within the probe's resolution
    const bClaim = r.metrics.arp!.claims.find((c) => c.node === 'b' && c.t > r.firstFaultAt!)!;
    expect(f.evidence[0]).to.deep.equal({ t: bClaim.t, what: "ARP: b claimed the VIP (garp) while both nodes were MASTER" });
    expect(Math.abs(bClaim.t - o.from) * 1000).to.be.below((o.resolutionMs ?? 0) + 50);
    expect(f.mechanism).to.match(/moved the client's ARP entry for the VIP to b, which has no IPsec SA .* a, which held the client's SA, claimed the VIP again only at \+5\.9 s; before that, at \+3\.7 s, pppd had given the session up/);
    expect(f.remedy.map((x) => `${x.profile}=${x.value}`)).to.deep.equal(['vrrp.garpMasterRefresh=2', 'vrrp.garpLowerPrioRepeat=5', 'vrrp.garpMasterRepeat=10']);
    expect(on(staleArp, split('garp-refresh-2-repeat-4'))).to.equal(undefined);
    // the same stream without the split (b never MASTER) is no stale entry of a split
    const calm = split('before-2');
    calm.vrrp = calm.vrrp.filter((v) => !(v.node === 'b' && v.state === 'MASTER'));
    calm.metrics.splitBrainMs = 0;
    expect(on(staleArp, calm)).to.equal(undefined);
  });

  it('both nodes claiming the VIP in turn during a split (recorded partition-master: the isolated master\'s gratuitous ARPs passed its nft rules); one change of claimant (split-brain) is stale-arp\'s, not this', () => {
    const split = (name: string) => JSON.parse(readFileSync(fixture('split-brain', `${name}.json`), 'utf8')) as ScenarioResult;
    const r = split('partition-master');
    const f = on(splitClaims, r)!;
    expect([f.id, f.confidence]).to.deep.equal(['split-brain-arp-claims', 'high']);
    // by hand from the fixture: b MASTER +0.92 s .. BACKUP +30.62 s while a stayed MASTER, all inside the one outage
    const at = r.firstFaultAt!;
    const bUp = r.vrrp.find((v) => v.node === 'b' && v.state === 'MASTER' && v.t > at)!.t;
    const bDown = r.vrrp.find((v) => v.node === 'b' && v.state === 'BACKUP' && v.t > at)!.t;
    expect(f.impactMs).to.be.closeTo((bDown - bUp) * 1000, 1);
    expect(f.evidence.slice(0, 6).map((e) => e.what.split(' ')[1])).to.deep.equal(['b', 'a', 'b', 'a', 'b', 'a']);
    expect(f.mechanism).to.match(/5 changes of claimant/).and.match(/packet socket that no nft or iptables rule sees/);
    expect(findingsOf({ result: r, profile, topology }).map((x) => x.id)).to.include('split-brain-arp-claims');
    expect(on(splitClaims, split('before-2'))).to.equal(undefined);
    expect(on(splitClaims, split('garp-refresh-2-repeat-4'))).to.equal(undefined);
    expect(on(splitClaims, recorded('node-crash'))).to.equal(undefined);
  });

  it('the client\'s ARP entries from the samples: each change once, named by node', () => {
    const macs = { a: '02:00:00:00:00:0a', b: '02:00:00:00:00:0b' };
    const e = neighbourEntries([{ t: 3, up: false, neigh: { mac: '02:00:00:00:00:0B', state: ['STALE'] } }, { t: 1, up: true, neigh: { mac: '02:00:00:00:00:0a', state: ['REACHABLE'] } }, { t: 2, up: true }, { t: 4, up: false, neigh: { mac: '02:00:00:00:00:0b', state: ['STALE'] } }, { t: 5, up: false, neigh: null }], macs);
    expect(e.neighbour).to.deep.equal([
      { t: 1, mac: '02:00:00:00:00:0a', node: 'a', state: ['REACHABLE'] },
      { t: 3, mac: '02:00:00:00:00:0b', node: 'b', state: ['STALE'] },
      { t: 5, mac: null, state: [] },
    ]);
    expect(neighbourEntries([{ t: 1, up: true }], macs)).to.deep.equal({});
  });

  it('notify handling racing keepalived: a late BACKUP notification after a\'s MASTER line leaves its hooks wrong to the end; the recorded streams (the fifo 0.07–0.25 s behind) are no race', () => {
    for (const s of ['node-crash', 'node-crash-tight']) expect(on(notifyRace, recorded(s)), s).to.equal(undefined);
    // node-crash-tight: a's keepalived entered BACKUP at +37.267 s and MASTER at +38.348 s (from the labStart);
    // the BACKUP notification is delivered again at +38.700 s, after MASTER's: a blip's scripts finishing out of order
    const r = recorded('node-crash-tight');
    const kMaster = r.hostEvents!.find((e) => e.host === 'a' && e.ev === 'vrrp.state' && e.state === 'MASTER')!;
    r.hostEvents!.push({ ev: 'vrrp.notify', host: 'a', t: r.labStart + 38.7, instance: 'VI_1', state: 'BACKUP', priority: 200 });
    const f = on(notifyRace, r)!;
    expect([f.id, f.confidence]).to.deep.equal(['notify-race', 'high']);
    // wrong from 38.700 s to the end; the first second after keepalived's line (to 39.348 s) is delivery
    const from = Math.max(kMaster.t + Math.max(1, (2 * (r.starvation?.lagMaxMs ?? 0)) / 1000), r.labStart + 38.7);
    expect(f.impactMs).to.be.closeTo((r.labEnd - from) * 1000, 1);
    expect(f.mechanism).to.match(/a's notify side was in BACKUP .* while keepalived was MASTER: the notification of an earlier state arrived after keepalived had moved on.*still so when the repeat ended/);
    expect(f.evidence.map((e) => e.t)).to.deep.equal([kMaster.t, r.labStart + 38.7]);
    expect(f.remedy[0]!.line).to.match(/^notify_fifo /);
    // the same notification 0.9 s late but in order (before MASTER's) is delivery, not a race
    const ordered = recorded('node-crash-tight');
    const n = ordered.hostEvents!.find((e) => e.host === 'a' && e.ev === 'vrrp.notify' && e.state === 'MASTER')!;
    n.t = kMaster.t + 0.9;
    expect(on(notifyRace, ordered)).to.equal(undefined);
    // recorded on a starved host: a's notifications came in keepalived's order, 7–14 s late: lateness, not a race
    const starved = JSON.parse(readFileSync(fixture('split-brain', 'starved-notify-late.json'), 'utf8')) as ScenarioResult;
    const s = on(notifyRace, starved)!;
    expect(s.mechanism).to.match(/^a's notify side was in FAULT .* while keepalived was BACKUP: its notifications came in keepalived's order, only late/).and.not.match(/out of order/);
    expect(s.remedy[0]!.line).to.match(/^notify_fifo_script: one long-running reader/);
    expect(s.confidence).to.equal('medium');
  });

  it("unit-restart: a charon killed to stay dead on a systemd host, started again by its unit before vipdrill's revert (recorded)", () => {
    const restarted = JSON.parse(readFileSync(fixture('systemd', 'kill-charon-restarted.json'), 'utf8')) as ScenarioResult;
    const f = on(unitRestart, restarted)!;
    expect(f.mechanism).to.match(/^charon on a was killed to stay dead, but something on a started it again 2\.2 s later, before vipdrill's revert: on a host whose stack systemd runs, its unit's Restart= policy\. keepalived's health check never failed for long enough, and the VIP stayed on a\.$/);
    expect(f.evidence.map((e) => e.what)).to.deep.equal(['step0: SIGKILL charon on a, left dead, until healed', 'a: charon exited (the host\'s own record)', 'a: charon started again (pid 1174), 2.2 s after its exit, before vipdrill\'s revert']);
    expect(f.confidence).to.equal('high');
    // the same run with the start after the revert (vipdrill's own), and a clean stop that stayed down: nothing
    const late = structuredClone(restarted);
    const revert = late.events.find((e) => e.kind === 'fault.revert')!;
    late.hostEvents!.find((e) => e.ev === 'daemon.start')!.t = revert.t + 0.5;
    expect(on(unitRestart, late)).to.equal(undefined);
    expect(on(unitRestart, JSON.parse(readFileSync(fixture('systemd', 'stop-charon.json'), 'utf8')) as ScenarioResult)).to.equal(undefined);
    expect(on(unitRestart, recorded('node-crash'))).to.equal(undefined);
  });

  it('every rule is run; findings come largest impact first; a calm blackout has none', () => {
    expect(RULES).to.have.length(10);
    const fs = findingsOf({ result: recorded('node-crash'), profile, topology });
    expect(fs.map((f) => f.id)).to.deep.equal(['preempt-failback', 'l2tp-dead-tunnel']);
    expect(findingsOf({ result: recorded('calibrate-outage-1s'), profile, topology })).to.deep.equal([]);
  });
});

describe('findings in the reports', () => {
  it('JUnit, summary.md and the HTML show them; the HTML links each piece of evidence to its event in the log', async () => {
    const { loadRun } = await import('../../src/report/load.js');
    const { renderJunit } = await import('../../src/report/junit.js');
    const { renderMarkdown } = await import('../../src/report/markdown.js');
    const { renderHtml } = await import('../../src/report/html.js');
    const d = loadRun(fixture('report-run'));
    for (const r of d.results) {
      const fs = findingsOf({ result: r, profile, topology });
      if (fs.length > 0) r.findings = fs;
    }
    const tight = d.results.find((r) => r.scenario === 'node-crash-tight')!;
    expect(tight.findings!.map((f) => f.id)).to.include('takeover-kill-latency');
    const x = renderJunit(d);
    expect(x).to.match(/<property name="finding\.preempt-failback" value="\d+(\.\d)?"\/>/);
    // a failed repeat's failure text says why and what to change
    expect(x).to.match(/<failure [^>]*>[^<]*Why: [^<]*Fix: \/etc\/keepalived\/keepalived.conf: nopreempt/);
    expect(renderMarkdown(d)).to.contain('### Findings: why, and what to change').and.contain('remedy: /etc/keepalived/keepalived.conf: nopreempt');
    const html = renderHtml(d);
    expect(html).to.contain('data-testid="findings"');
    const links = [...html.matchAll(/<a href="#(node-crash-tight-r1-ev-\d+)">/g)].map((m) => m[1]!);
    expect(links.length).to.be.greaterThan(0);
    for (const l of links) expect(html).to.contain(`<tr id="${l}">`);
  });
});
