import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_PROBE_INTERVAL_MS } from '../../src/analysis/dataplane.js';
import type { RunMetrics, ScenarioResult } from '../../src/run/result.js';
import { expect } from 'chai';
import type { Engine } from '../../src/lab/engine.js';
import { status, type UpResult } from '../../src/lab/lab.js';
import { reapCommand, upCommand } from '../../src/lab/lifecycle.js';
import { labsDir, readLab } from '../../src/lab/state.js';
import { findVipdrillQemus } from '../../src/lab/vm/qemu.js';
import { consoleProgress, silentProgress } from '../../src/util/progress.js';
import { waitFor } from '../../src/util/time.js';
import { cli } from '../helpers.js';
import { remoteDrills } from './remote-drills.js';
import type { TuneJson } from '../../src/tune/report.js';
import type { TuneRun } from '../../src/tune/run.js';
import type { SwitchResult } from '../../src/tune/switch.js';
import type { ArmStats } from '../../src/tune/remedies.js';
import type { RemediesJson } from '../../src/tune/try-remedies.js';

/**
 * End to end on the VM engine: the full stack (keepalived, charon, xl2tpd, pppd with kernel PPP, L2TP
 * and ESP) in Docker inside a Debian VM. One VM boot for the whole file. The lab's nodes are named east
 * and west (lab/topologies/east-west.yaml): every scenario here names nodes by role, and runs on any names.
 */
describe('VM engine, full stack (end to end)', function () {
  this.timeout(1_800_000);
  const LAB = 'vd-e2e';
  let engine: Engine;
  let lab: UpResult;
  const reportDir = mkdtempSync(join(tmpdir(), 'vipdrill-e2e-'));

  before(async () => {
    await reapCommand({ all: false, name: LAB }, silentProgress).catch(() => {});
  });

  // whatever failed above, the VM goes and this process lets go of it: a lab left up keeps mocha alive
  after(async function () {
    this.timeout(120_000);
    await engine?.close().catch(() => {});
    await reapCommand({ all: false, name: LAB }, silentProgress).catch(() => {});
  });

  it('reap stops the VM of a controller killed with SIGKILL while the VM boots', async () => {
    const name = 'vd-e2e-reap';
    const child = spawn(process.execPath, [cli, 'up', '--engine', 'vm', '--name', name], { stdio: 'ignore' });
    const qemus = await waitFor('the lab VM to start', () => findVipdrillQemus(), (q) => q.some((x) => x.lab === name), (q) => `${q.length} VMs`, { timeoutMs: 900_000, intervalMs: 200 });
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    const pid = qemus.find((q) => q.lab === name)!.pid;
    const r = spawnSync(process.execPath, [cli, 'reap', '--json'], { encoding: 'utf8' });
    expect(r.status, r.stderr).to.equal(0);
    expect((JSON.parse(r.stdout) as { vms: number }).vms).to.be.at.least(1);
    expect((await findVipdrillQemus()).map((q) => q.pid)).not.to.include(pid);
    expect(readLab(name)).to.equal(undefined);
  });

  it('up (fast profile) brings the tunnel up through the VIP and reaches the LAN host through ppp0', async () => {
    // with sshd in every container: the remote drills below reach the same lab through SSH alone
    const r = await upCommand({ topologyFile: 'lab/topologies/east-west.yaml', profile: 'fast', name: LAB, engine: 'vm', waitUntil: 'tunnel', ssh: true, progress: consoleProgress() });
    engine = r.engine;
    lab = r.result;
    expect(engine.info.name).to.equal('vm');
    const s = await status(engine, lab.record);
    expect(s.vipHolders).to.have.length(1);
    expect(s.client.pppUp).to.equal(true);
    expect(s.client.lanReachable).to.equal(true);
    expect(s.client.tunnelIp).to.match(/^10\.213\.3\./);
  });

  it('the lab\'s nodes are named east and west', () => {
    expect(Object.keys(lab.topology.nodes)).to.deep.equal(['east', 'west']);
  });

  it('status --json reports exactly one VIP holder and a working tunnel', () => {
    const r = spawnSync(process.execPath, [cli, 'status', '--name', LAB, '--json'], { encoding: 'utf8' });
    expect(r.status, r.stderr).to.equal(0);
    const s = JSON.parse(r.stdout) as { engine: string; vipHolder: string | null; nodes: { holdsVip: boolean; daemons: Record<string, boolean> }[]; client: { pppUp: boolean; lanReachable: boolean; ikeSa: boolean; l2tpTunnel: boolean } };
    expect(s.engine).to.equal('vm');
    expect(s.vipHolder).to.be.a('string');
    expect(s.nodes.filter((n) => n.holdsVip)).to.have.length(1);
    expect(s.nodes.every((n) => n.daemons.keepalived && n.daemons.charon && n.daemons.xl2tpd)).to.equal(true);
    expect(s.client).to.include({ pppUp: true, lanReachable: true, ikeSa: true, l2tpTunnel: true });
  });

  const runScenarios = (files: string[]) => {
    const r = spawnSync(process.execPath, [cli, 'run', ...files.map((f) => `scenarios/${f}.yaml`), '--lab', LAB, '--json', '--report-dir', reportDir], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
    const out = JSON.parse(r.stdout) as { exitCode: number; dir: string; results: { scenario: string; verdict: string; reason?: string; metrics: RunMetrics; expectations: { name: string; ok: boolean; detail: string }[]; starvation?: { starved: boolean; detail: string }; findings?: { id: string }[] }[] };
    for (const x of out.results) {
      const m = x.metrics;
      process.stderr.write(`      ${x.scenario}: ${x.verdict}${x.reason ? ` (${x.reason})` : ''}; VIP takeover ${m.vipTakeoverMs?.toFixed(0) ?? '-'} ms, outage (probe) ${m.outageMs?.toFixed(0) ?? '-'} ms, reconnect ${m.reconnectMs?.toFixed(0) ?? '-'} ms, split brain ${m.splitBrainMs.toFixed(0)} ms${m.calibration ? `; calibration: ${m.calibration.detail}` : ''}\n`);
    }
    return { status: r.status, out };
  };

  it('run node-crash --json exits 0 and writes the result contract, every metric filled, and all five reports', () => {
    const { status: code, out } = runScenarios(['node-crash']);
    expect(code, JSON.stringify(out.results.map((x) => x.reason))).to.equal(0);
    const files = readdirSync(out.dir);
    for (const f of ['run.json', 'junit.xml', 'summary.md', 'index.html', 'report.pdf']) expect(files, f).to.include(f);
    const result = JSON.parse(readFileSync(join(out.dir, 'node-crash', 'result.json'), 'utf8')) as ScenarioResult;
    expect(readFileSync(join(out.dir, 'node-crash', 'repeat-1', 'result.json'), 'utf8')).to.contain('"scenario": "node-crash"');
    // the contract: every figure filled with a value, and the longest phase explained
    const m = result.metrics;
    for (const k of ['outageMs', 'vipTakeoverMs', 'reconnectMs', 'splitBrainMs', 'routingSymmetric', 'probeIntervalMs'] as const) expect(m[k], k).to.not.equal(undefined).and.not.equal(null);
    for (const p of ['detect', 'ike', 'l2tp', 'ppp', 'firstPacket'] as const) expect(m.phasesMs?.[p], `phasesMs.${p}`).to.be.a('number');
    expect(m.reconnect?.explanation).to.match(/^The longest phase was \w+/);
    // the probe kept its interval (ping never sends two closer; a loaded lab stretches it a little)
    expect(m.probeIntervalMs).to.be.within(0.95 * DEFAULT_PROBE_INTERVAL_MS, 1.5 * DEFAULT_PROBE_INTERVAL_MS);
    expect(m.routingSymmetric).to.equal(true);
    expect(m.sessions?.reauthOn).to.equal(m.newHolder);
    expect(result.invariants.every((i) => i.ok), JSON.stringify(result.invariants)).to.equal(true);
    expect(result.expectations.every((e) => e.ok)).to.equal(true);
    // secrets of this lab appear in no file of the run
    const secrets = JSON.parse(readFileSync(join(labsDir(), LAB, 'secrets.json'), 'utf8')) as Record<string, string>;
    const all = spawnSync('grep', ['-rlF', ...Object.values(secrets).flatMap((x) => ['-e', x]), out.dir], { encoding: 'utf8' });
    expect(all.stdout, 'files holding a lab secret').to.equal('');
    expect(result.verdict).to.equal('passed');
    const kinds = result.events.map((e) => e.kind);
    for (const k of ['baseline.ok', 'fault.inject', 'wait.ok', 'fault.revert', 'heal.final', 'run.end']) expect(kinds).to.include(k);
    // events are ordered on the lab clock
    const ts = result.events.map((e) => e.t);
    expect(ts).to.deep.equal([...ts].sort((a, b) => a - b));
    expect(result.metrics.vipTakeoverMs).to.be.greaterThan(0);
    expect(result.metrics.tunnelRestoredMs).to.be.greaterThan(result.metrics.vipTakeoverMs!);
    expect(result.metrics.tunnelRestoredBy, 'the tunnel restored, by the 5 ms probe').to.equal('probe');
    // the 10 ms probe saw the outage, and it is longer than the VIP takeover
    expect(result.metrics.probe?.error).to.equal(undefined);
    expect(result.metrics.outageMs).to.be.greaterThan(result.metrics.vipTakeoverMs!);
    expect(result.vrrp.some((v) => v.source === 'keepalived' && v.state === 'MASTER' && v.node === result.metrics.newHolder)).to.equal(true);
    // the failback, measured like the failover: the healed master returns and preempts, which the
    // probe sees as an outage after the revert; every outage is attributed
    expect(m.outages!.every((o) => ['fault', 'revert', 'unexplained'].includes(o.cause))).to.equal(true);
    expect(m.outages!.find((o) => Math.abs(o.ms - m.outageMs!) < 1e-6)?.cause).to.equal('fault');
    expect(m.failbackTakeoverMs, 'the old master MASTER again after its revert').to.be.a('number').and.greaterThan(0);
    expect(m.failbackOutageMs, 'the failback cost the client an outage').to.be.a('number').and.greaterThan(0);
    // when the crashed node died, seen by the probe inside the kill's bracket: a narrow window after the ask
    // the client's own ARP entry for the VIP, read by the samples: at the new holder while the tunnel ran through it
    expect(m.arp?.neighbour?.some((e) => e.node === m.newHolder), JSON.stringify(m.arp?.neighbour)).to.equal(true);
    // the master's last advert on the new holder's wire: the takeover free of the kill's latency
    expect(m.takeoverCheck?.advert?.fromLastAdvertMs, JSON.stringify(m.takeoverCheck)).to.be.a('number').and.greaterThan(0);
    const death = m.takeoverCheck?.deathMs;
    expect(death, JSON.stringify(m.takeoverCheck)).to.be.an('array');
    expect(death![0]).to.be.at.least(0);
    expect(death![1] - death![0]).to.be.below(500);

    // vipdrill report computes the repeat again from its events.jsonl alone: the same figures and verdict
    const repeatFile = join(out.dir, 'node-crash', 'repeat-1', 'result.json');
    const before = readFileSync(repeatFile, 'utf8');
    rmSync(repeatFile);
    const rep = spawnSync(process.execPath, [cli, 'report', out.dir, '--format', 'json', '--rewrite-results'], { encoding: 'utf8' });
    expect(rep.status, rep.stderr).to.equal(0);
    expect(rep.stdout).to.match(/^1 repeat\(s\): 1 computed again from events\.jsonl$/m);
    const again = JSON.parse(readFileSync(repeatFile, 'utf8')) as ScenarioResult;
    const was = JSON.parse(before) as ScenarioResult;
    expect([again.verdict, again.metrics, again.expectations]).to.deep.equal([was.verdict, was.metrics, was.expectations]);
  });

  it('split brain is detected and healed to one holder; a charon kill on the master fails over', () => {
    const { status: code, out } = runScenarios(['split-brain', 'kill-charon']);
    expect(code, JSON.stringify(out.results.map((x) => x.reason))).to.equal(0);
    const sb = out.results.find((x) => x.scenario === 'split-brain')!;
    expect(sb.metrics.splitBrainMs).to.be.greaterThan(1000);
    expect(sb.expectations.find((e) => e.name === 'splitBrain')!.ok).to.equal(true);
    // on the fast profile (garp_master_refresh 10) every outage of the split seen so far (n=15) began at the
    // other node's gratuitous ARPs: one of 2 s or more is explained by the stale-arp finding
    const long = (sb.metrics.outages ?? []).filter((o) => o.cause === 'fault' && o.ms >= 2000);
    if (long.length > 0) expect((sb.findings ?? []).map((f) => f.id), JSON.stringify(long)).to.include('stale-arp');
    expect(out.results.find((x) => x.scenario === 'kill-charon')!.metrics.newHolder).to.be.a('string');
  });

  // the same lab as remote hosts, over SSH alone (registered here, in order: a nested describe would run last)
  remoteDrills(() => ({ remoteTopology: lab.remoteTopology!, reportDir }));

  it('calibration: blackouts of 200 ms, 1 s and 5 s timed in the lab are measured within the probe\'s resolution plus 5 ms; the takeover matches keepalived\'s log', () => {
    const { status: code, out } = runScenarios(['calibrate-outage-200ms', 'calibrate-outage-1s', 'calibrate-outage-5s', 'calibrate-takeover']);
    expect(code, JSON.stringify(out.results.map((x) => x.reason))).to.equal(0);
    for (const x of out.results) {
      const c = x.metrics.calibration!;
      expect(c, x.scenario).to.be.an('object');
      expect(Math.abs(c.errorMs), `${x.scenario}: ${c.detail}`).to.be.at.most(c.toleranceMs + (c.truthUncertaintyMs ?? 0));
      if (c.kind === 'outage') {
        // the resolution is the probe's own: its edges came from the lost probes' send times, and are
        // at worst a few probe intervals wide, plus any stall of the lab as the fault landed, which the
        // blackout's own window shows as its overrun of the asked time (a lab clock's sleep that came
        // back late): a loose bound, so the tolerance cannot grow unchecked
        const askedMs: Record<string, number> = { 'calibrate-outage-200ms': 200, 'calibrate-outage-1s': 1000, 'calibrate-outage-5s': 5000 };
        const stallMs = Math.max(0, c.truthMs - askedMs[x.scenario]!);
        expect(c.resolutionMs, `${x.scenario}: ${c.detail}`).to.be.a('number').and.at.most(100 + stallMs);
        expect(c.toleranceMs).to.be.at.most(Math.max(x.metrics.probeIntervalMs ?? 0, c.resolutionMs!) + 5 + 1e-9);
      }
      if (c.kind === 'takeover') {
        // the claim came after keepalived's state line, inside its own pipeline to the notify line, give or
        // take the host's measured lag for the stamps (the judge's own verdict); that pipeline is 40-165 ms
        // under TCG (a loose bound, so the tolerance cannot grow unchecked)
        expect(c.ok, c.detail).to.equal(true);
        expect(c.pipelineMs, c.detail).to.be.a('number').and.at.most(500);
        // and keepalived's timer, from the master's last advert the new holder received, inside VRRP's band
        const adv = x.metrics.takeoverCheck?.advert;
        expect(adv?.ok, c.detail).to.equal(true);
        expect(adv!.n, 'adverts of the master captured before the takeover').to.be.at.least(1);
      }
    }
  });

  it('a LAN host routing the pool through the backup is reported asymmetric, with the counters as evidence', () => {
    const { status: code, out } = runScenarios(['misrouted-lan']);
    expect(code, JSON.stringify(out.results.map((x) => x.reason))).to.equal(0);
    const m = out.results[0]!.metrics;
    expect(m.routingSymmetric).to.equal(false);
    expect(m.symmetry?.evidence).to.match(/client→LAN via \w+ .*LAN→client via/);
  });

  it('tune: a 2-point × 2-repeat sweep switches the running lab per point, verifies its timers, stores every repeat, resumes, and restores the lab\'s profile', () => {
    const tuneDir = mkdtempSync(join(tmpdir(), 'vipdrill-tune-e2e-'));
    const r = spawnSync(process.execPath, [cli, 'tune', 'test/fixtures/sweeps/ci.yaml', '--lab', LAB, '--report-dir', tuneDir, '--seed', '11', '--json'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
    // 0: a recommendation; 1: no point passed the false-failover check (a starved lab may false-fail over): both are verdicts
    expect(r.status, r.stdout.slice(-2000)).to.be.oneOf([0, 1]);
    const tj = JSON.parse(r.stdout) as TuneJson;
    expect([tj.schema, tj.seed, tj.complete]).to.deep.equal(['vipdrill.tune/1', 11, true]);
    expect(tj.points.map((p) => p.parameters['vrrp.advertInt'])).to.deep.equal([0.3, 1]);
    const dir = join(tuneDir, tj.runId);
    for (const [i, p] of tj.points.entries()) {
      const st = p.scenarios['node-crash']!;
      expect(st.n + st.errors, p.id).to.equal(2);
      expect(st.metrics.outage?.n, `${p.id}: outages measured`).to.be.at.least(1);
      // the timers in force, read back from the daemons: the advert interval from the capture and the adverts' own field
      const sw = JSON.parse(readFileSync(join(dir, 'points', p.id, 'switch.json'), 'utf8')) as SwitchResult;
      expect(sw.timers.ok, JSON.stringify(sw.timers.problems)).to.equal(true);
      expect(sw.timers.advert.advertisedMs).to.equal([300, 1000][i]);
      expect(Math.abs(sw.timers.advert.spacingMedianMs! - [300, 1000][i]!)).to.be.below(100);
      expect(sw.steps.write + sw.steps.pair + sw.steps.client).to.be.closeTo(sw.ms, 1);
      // the pair takes only what changed: the first point turns realtime VRRP off (fast runs it), which
      // restarts keepalived and with it the node's whole stack; the second differs in the advert interval
      // alone, which keepalived reloads (SIGHUP keeps the VIP where it is); the advert interval and
      // scheduling read back above show both took
      const did = [['restart charon', 'restart xl2tpd', 'restart keepalived'], ['keepalived reloads (SIGHUP)']][i];
      expect(Object.values(sw.nodes), `what the nodes did: ${JSON.stringify(sw.nodes)}`).to.deep.equal([did, did]);
      // after a reload that left the VIP in place, the client (none of whose files changed) keeps its tunnel
      expect(sw.client, `${p.id}: ${sw.vrrpTransitions} VRRP transition(s)`).to.equal(i === 1 && sw.vrrpTransitions === 0 ? 'kept' : 'redialled');
      process.stderr.write(`      ${p.id} ${p.label}: switched in ${(sw.ms / 1000).toFixed(1)} s (written ${(sw.steps.write / 1000).toFixed(1)} s, pair ${(sw.steps.pair / 1000).toFixed(1)} s with ${sw.vrrpTransitions} VRRP transition(s), client ${sw.client} ${(sw.steps.client / 1000).toFixed(1)} s); outage median ${st.metrics.outage?.median.toFixed(0)} ms; ${p.falseFailover.detail}\n`);
      expect(p.falseFailover.judged, p.falseFailover.detail).to.equal(1);
      // l2tp.clientRestart: the client's updown script restarted xl2tpd on the new holder's CHILD_SA in every
      // measured repeat (its lines are part of the repeat's evidence)
      let restarted = 0;
      for (const k of [1, 2]) {
        const events = join(dir, 'points', p.id, 'node-crash', `repeat-${k}`, 'events.jsonl');
        expect(existsSync(events)).to.equal(true);
        if (/vipdrill-reconnect: CHILD_SA \S+ to \S+ installed after an earlier one: restarting xl2tpd/.test(readFileSync(events, 'utf8'))) restarted++;
      }
      expect(restarted, `${p.id}: repeats whose client restarted xl2tpd on the new CHILD_SA`).to.be.at.least(st.n);
    }
    for (const f of ['tune.json', 'summary.md', 'index.html']) expect(existsSync(join(dir, f)), f).to.equal(true);
    if (tj.recommendation.point) expect(readFileSync(join(dir, 'recommended.yaml'), 'utf8')).to.match(/advertInt: (0\.3|1)/);
    // the lab runs its own profile again
    expect(readLab(LAB)!.profile).to.equal('fast');
    // resume: one repeat removed is run again alone, and the same seed gives the same analysis of the same files
    rmSync(join(dir, 'points', 'p02', 'node-crash', 'repeat-2'), { recursive: true });
    const again = spawnSync(process.execPath, [cli, 'tune', '--resume', dir, '--lab', LAB, '--json'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
    expect(again.status).to.be.oneOf([0, 1]);
    const tj2 = JSON.parse(again.stdout) as TuneJson;
    expect(tj2.complete).to.equal(true);
    expect(tj2.points[0]).to.deep.equal(tj.points[0]);
    expect(existsSync(join(dir, 'points', 'p02', 'node-crash', 'repeat-2', 'result.json'))).to.equal(true);
    const run = JSON.parse(readFileSync(join(dir, 'tune-run.json'), 'utf8')) as TuneRun;
    expect(run.sessions).to.have.length(2);
    expect(readLab(LAB)!.profile).to.equal('fast');
  });

  it('run --try-remedies: the scenario before and after an asked profile change on the running lab, the change rendered and read back, the distributions compared, and the lab\'s profile restored', async () => {
    const dir0 = mkdtempSync(join(tmpdir(), 'vipdrill-remedies-e2e-'));
    const r = spawnSync(process.execPath, [cli, 'run', 'scenarios/calibrate-outage-1s.yaml', '--lab', LAB, '--try-remedies', '--remedy', 'vrrp.garpMasterRefresh=2', '--max-remedies', '0', '--repeat', '2', '--seed', '5', '--report-dir', dir0, '--json'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
    const j = JSON.parse(r.stdout) as RemediesJson;
    // 0: every change decided; 2: a starved lab left an arm without 2 measured repeats (could not decide)
    expect(r.status, r.stdout.slice(-2000)).to.equal(j.arms.some((a) => a.verdict === 'not measured') ? 2 : 0);
    expect([j.schema, j.seed, j.complete, j.arms.map((a) => a.id)]).to.deep.equal(['vipdrill.remedies/1', 5, true, ['before', 'remedy-1']]);
    const [before, after] = j.arms as [ArmStats, ArmStats];
    expect(after.change).to.deep.include({ field: 'vrrp.garpMasterRefresh', value: 2, from: ['asked'] });
    // each arm: 2 repeats, each an outage the calibration judged to be the applied 1 s blackout within the
    // probe's resolution (on a starved lab it says so instead), or an honest error. Not a fixed window on the
    // arm's total: stop 25's CI measured 1413 ms there on a slow host, and the repeats' own judges are the truth
    for (const a of [before, after]) {
      expect(a.n + a.errors, a.id).to.equal(2);
      for (const k of [1, 2]) {
        const rep = join(dir0, j.runId, a.id, 'calibrate-outage-1s', `repeat-${k}`);
        expect(existsSync(join(rep, 'events.jsonl')), `${a.id} ${k}`).to.equal(true);
        const res = JSON.parse(readFileSync(join(rep, 'result.json'), 'utf8')) as ScenarioResult;
        if (res.verdict === 'error') continue;
        const c = res.metrics.calibration;
        expect(c?.ok === true || res.starvation?.starved === true, `${a.id} ${k}: ${c?.detail ?? 'no calibration'}; ${res.starvation?.detail ?? ''}`).to.equal(true);
      }
      if (a.total) expect(a.total.median, a.id).to.be.at.least(900);
    }
    // a blackout's outage does not depend on the ARP refresh: no effect of 100 ms either way
    expect(after.verdict, after.detail).to.be.oneOf(['unclear', 'not measured']);
    if (after.verdict !== 'not measured') expect(after.diff!.low).to.be.at.most(after.diff!.high);
    expect(readFileSync(join(dir0, j.runId, 'remedy-1', 'profile.yaml'), 'utf8')).to.match(/garpMasterRefresh: 2/);
    expect(readFileSync(join(dir0, j.runId, 'summary.md'), 'utf8')).to.contain('| remedy-1 | vrrp.garpMasterRefresh=2 (asked) | ');
    // the lab runs its own profile again, rendered as before
    expect(readLab(LAB)!.profile).to.equal('fast');
    for (const n of Object.keys(lab.topology.nodes)) {
      const conf = await engine.exec(lab.record.containers[n]!, ['cat', '/etc/keepalived/keepalived.conf']);
      expect(conf.stdout, n).to.match(/garp_master_refresh 10\n/);
    }
  });

  /** what the last partition-master run wrote, for a run that ended early */
  const lastReason = () => {
    try {
      const r = JSON.parse(readFileSync(join(reportDir, 'latest', 'partition-master', 'repeat-1', 'result.json'), 'utf8')) as ScenarioResult;
      return `${r.verdict}: ${r.reason ?? ''}`;
    } catch {
      return 'none written';
    }
  };
  /** the last lines a run printed on stderr, kept for the error of a run that ended early */
  const stderrOf = new WeakMap<ChildProcess, string>();
  const hasTable = async (child?: ChildProcess) => {
    if (child && !stderrOf.has(child)) {
      stderrOf.set(child, '');
      child.stderr?.on('data', (d: Buffer) => stderrOf.set(child, (stderrOf.get(child)! + d.toString()).slice(-3000)));
    }
    // a run that ended before its fault (an unstable lab: exit 2) will never inject it: say so at once
    if (child && child.exitCode !== null) throw new Error(`the run exited with status ${child.exitCode} before its fault was seen in the lab; its result: ${lastReason()}\n--- its stderr (last lines) ---\n${stderrOf.get(child)}`);
    for (const n of Object.keys(lab.topology.nodes)) {
      const r = await engine.exec(lab.record.containers[n]!, ['sh', '-c', 'nft list table inet vipdrill >/dev/null 2>&1 && echo yes || echo no']);
      if (r.stdout.trim() === 'yes') return true;
    }
    return false;
  };

  /** until the run's partition is in the lab; a run that exits first stops the wait at once, with why */
  const faultSeen = (child: ChildProcess) => {
    const ac = new AbortController();
    child.once('exit', () => setTimeout(() => ac.abort(new Error(`the run exited with status ${child.exitCode} before its fault was seen in the lab; its result: ${lastReason()}\n--- its stderr (last lines) ---\n${stderrOf.get(child)}`)), 200));
    return waitFor('the partition rules in a node', () => hasTable(child), (x) => x, (x) => String(x), { timeoutMs: 300_000, intervalMs: 500, signal: ac.signal });
  };

  it('Ctrl-C mid-fault heals the lab and exits within 30 s with status 2', async () => {
    const child = spawn(process.execPath, [cli, 'run', 'scenarios/partition-master.yaml', '--lab', LAB, '--report-dir', reportDir], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    await faultSeen(child);
    const t0 = performance.now();
    child.kill('SIGINT');
    const code = await new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
    const ms = performance.now() - t0;
    process.stderr.write(`      Ctrl-C to exit: ${(ms / 1000).toFixed(1)} s\n`);
    expect(ms, stderr).to.be.at.most(30_000);
    expect(code, stderr).to.equal(2);
    expect(await hasTable(), 'a vipdrill rule left after Ctrl-C').to.equal(false);
    expect(stderr).to.match(/SIGINT: healing the running scenario/);
  });

  it('a run killed mid-fault leaves its fault journalled; vipdrill heal replays its revert, keeping the lab', async () => {
    const child = spawn(process.execPath, [cli, 'run', 'scenarios/partition-master.yaml', '--lab', LAB, '--report-dir', reportDir], { stdio: ['ignore', 'ignore', 'pipe'] });
    await faultSeen(child);
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    const r = spawnSync(process.execPath, [cli, 'heal', '--name', LAB, '--json'], { encoding: 'utf8' });
    expect(r.status, r.stderr).to.equal(0);
    const undone = (JSON.parse(r.stdout) as { undone: Record<string, string[]> }).undone;
    expect(undone.journal, r.stdout).to.have.length(1);
    expect(undone.journal![0]).to.match(/^step0 \(isolate node (east|west): drop everything/);
    expect(await hasTable(), 'a vipdrill rule left after heal').to.equal(false);
    expect(readLab(LAB)).to.not.equal(undefined);
  });

  it('a run killed mid-fault leaves its fault in the lab, and vipdrill reap removes lab, rules and VM', async () => {
    const child = spawn(process.execPath, [cli, 'run', 'scenarios/partition-master.yaml', '--lab', LAB, '--report-dir', reportDir], { stdio: ['ignore', 'ignore', 'pipe'] });
    await faultSeen(child);
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    await engine.close();
    const pid = lab.record.vm!.pid;
    const r = spawnSync(process.execPath, [cli, 'reap', '--json'], { encoding: 'utf8' });
    expect(r.status, r.stderr).to.equal(0);
    expect((JSON.parse(r.stdout) as { labs: string[] }).labs).to.include(LAB);
    expect((await findVipdrillQemus()).filter((q) => q.lab === LAB || q.pid === pid)).to.deep.equal([]);
    expect(readLab(LAB)).to.equal(undefined);
  });
});
