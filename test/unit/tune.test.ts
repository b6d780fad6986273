import { expect } from 'chai';
import { existsSync, mkdtempSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ScenarioResult } from '../../src/run/result.js';
import { loadProfile, loadTopology } from '../../src/topology/load.js';
import { analyseTune, falseFailovers, paretoFront, recommend, windowOf, type PointData, type PointStats } from '../../src/tune/analysis.js';
import { repeatsStored, summaryMd, writeTuneReports } from '../../src/tune/report.js';
import type { TuneRun } from '../../src/tune/run.js';
import { falseFailoverScenario, untilJudged, withheldUnlessComplete } from '../../src/tune/run.js';
import { checkSched, checkTimers, lastOptionDump, parseAdverts, parseDpd, parseLcp, parseSched } from '../../src/tune/timers.js';
import { expandPoints, loadSweep, sweepSchema } from '../../src/tune/sweep.js';
import { packageRoot } from '../../src/util/paths.js';
import { snippets } from '../../src/tune/snippets.js';
import { restoreProfile } from '../../src/tune/switch.js';
import { CLIENT_UPDOWN, renderClientSwanctl, renderNodeSwanctl } from '../../src/stack/strongswan.js';
import type { Engine } from '../../src/lab/engine.js';
import type { LabHosts } from '../../src/hosts/lab-hosts.js';
import type { LabContext } from '../../src/lab/lab.js';

// the profile the fixtures (captures, dumps, repeats) were taken with: fast until 2026-12-07
const base = loadProfile('fast-plain');
const sweep = sweepSchema.parse({ name: 't', base: 'fast', parameters: { 'vrrp.advertInt': [0.3, 1] }, repeats: 3, falseFailover: { calm: '60s', maxRate: 0.05 } });
const points = expandPoints(sweep, base).map((p, i) => ({ ...p, id: `p0${i + 1}` }));

function repeat(outageMs: number, k: number, extra: Partial<ScenarioResult['metrics']> = {}): ScenarioResult {
  return {
    scenario: 'node-crash',
    repeat: k,
    verdict: 'passed',
    labStart: 100,
    holderAtStart: 'a',
    vrrp: [],
    metrics: { outageMs, failbackOutageMs: outageMs * 0.8, vipTakeoverMs: 900, phasesMs: { detect: 1000, ike: 500, l2tp: 200, ppp: 300, firstPacket: 10 }, ...extra },
  } as unknown as ScenarioResult;
}

/** A judged window of `calmS` seconds (the trials of the rate) with `transitions` takeovers. */
const calmWindow = (calmS: number, transitions = 0) => ({ verdict: 'passed' as const, calmMs: calmS * 1000, adverts: Math.floor(calmS / 0.3), transitions: Array.from({ length: transitions }, (_, i) => ({ t: 200 + i * 10, node: 'b', state: 'MASTER' })), outages: [] });

function data(outages: number[][], ff: ReturnType<typeof calmWindow>[]): PointData[] {
  return points.map((p, i) => ({ point: p, repeats: { 'node-crash': outages[i]!.map((o, k) => repeat(o, k + 1)) }, falseFailover: ff[i]! }));
}

describe('tune analysis', () => {
  it('recommends the lowest outage p95 among the points whose false-failover bound passes', () => {
    // p01 (0.3 s adverts) is faster, and clean over 600 s of calm (bound 0.64 % <= 5 %)
    const a = analyseTune(sweep, data([[4000, 4500, 5000], [9000, 9500, 10_000]], [calmWindow(600), calmWindow(60)]), 1);
    expect(a.points[0]!.falseFailover.ok).to.equal(true);
    expect(a.points[0]!.falseFailover.rate!.high).to.be.closeTo(3.8415 / (600 + 3.8415), 1e-3);
    expect(a.recommendation.point).to.equal('p01');
    // 60 clean seconds bound the rate only below 6 %: not shown safe at 5 %, and the detail says why
    expect(a.points[1]!.falseFailover.ok).to.equal(false);
    expect(a.points[1]!.falseFailover.detail).to.match(/calm window of about 73 s would show it/);
  });

  it('a fast point with false failovers loses to a slower safe one; with none safe nothing is recommended', () => {
    const a = analyseTune(sweep, data([[4000, 4500, 5000], [9000, 9500, 10_000]], [calmWindow(600, 40), calmWindow(600)]), 1);
    expect(a.points[0]!.falseFailover.count).to.equal(40);
    expect(a.points[0]!.falseFailover.detail).to.match(/^40 false failover\(s\) in 600 s of calm \(240 an hour\)/);
    expect(a.recommendation.point).to.equal('p02');
    const none = analyseTune(sweep, data([[4000, 4500, 5000], [9000, 9500, 10_000]], [calmWindow(600, 40), calmWindow(60, 2)]), 1);
    expect(none.recommendation.point).to.equal(null);
    expect(none.recommendation.reason).to.match(/no point passed the false-failover check.*Nothing is recommended/);
  });

  it('is reproduced exactly from the same files and seed, and reports the seed', () => {
    const d = data([[4000, 4500, 5000], [9000, 9500, 10_000]], [calmWindow(600), calmWindow(600)]);
    const a = analyseTune(sweep, d, 99);
    expect(analyseTune(sweep, d, 99)).to.deep.equal(a);
    expect(a.seed).to.equal(99);
    expect(a.points[0]!.scenarios['node-crash']!.metrics.outage!.medianCi).to.not.equal(null);
  });

  it("the effect of a parameter is the difference of the pooled median outages, with its interval", () => {
    const a = analyseTune(sweep, data([[4000, 4500, 5000], [9000, 9500, 10_000]], [calmWindow(600), calmWindow(600)]), 3);
    expect(a.effects).to.have.length(1);
    const e = a.effects[0]!;
    expect([e.parameter, e.from, e.to]).to.deep.equal(['vrrp.advertInt', 0.3, 1]);
    expect(e.diffMs!.estimate).to.equal(5000);
    expect(e.diffMs!.low).to.be.at.most(5000);
    expect(e.diffMs!.high).to.be.at.least(5000);
  });

  it('an incomplete sweep recommends nothing, and names its leader so far', () => {
    const a = analyseTune(sweep, data([[4000, 4500, 5000], [9000, 9500, 10_000]], [calmWindow(600), calmWindow(600)]), 1);
    expect(withheldUnlessComplete(a, true)).to.equal(a);
    const w = withheldUnlessComplete(a, false);
    expect(w.recommendation.point).to.equal(null);
    expect(w.recommendation.reason).to.match(/incomplete.*leader so far is p01/);
  });

  it('ties within 1 ms go to fewer adverts; the Pareto front drops dominated points', () => {
    const mk = (id: string, p95: number, high: number, pps: number): PointStats => ({ id, label: id, parameters: {}, profile: base, scenarios: {}, falseFailover: { windows: 1, judged: 1, count: 0, trials: 1000, rate: { estimate: 0, low: 0, high }, maxRate: 0.05, ok: high <= 0.05, detail: '' }, advertPps: pps, rankP95Ms: p95 });
    const ps = [mk('a', 5000, 0.01, 3.33), mk('b', 5000.5, 0.01, 1), mk('c', 6000, 0.02, 3.33)];
    expect(recommend(ps).point).to.equal('b');
    expect(paretoFront(ps)).to.deep.equal(['a', 'b']);
  });

  it('counts a takeover, and an outage no takeover explains, as false failovers; errors are not judged', () => {
    const w = { verdict: 'failed' as const, calmMs: 60_000, adverts: 200, transitions: [{ t: 10, node: 'b', state: 'MASTER' }], outages: [{ from: 11, ms: 3000 }, { from: 40, ms: 1500 }] };
    expect(falseFailovers(w)).to.equal(2);
    const r = { ...repeat(0, 1), verdict: 'failed', holderAtStart: 'a', labStart: 5, vrrp: [{ t: 10, node: 'b', state: 'MASTER', source: 'keepalived' }, { t: 10.1, node: 'a', state: 'BACKUP', source: 'keepalived' }], metrics: { outages: [{ from: 11, to: 14, gapMs: 3000, ms: 3000, cause: 'fault' }, { from: 20, to: 20.1, gapMs: 100, ms: 100, cause: 'fault' }] } } as unknown as ScenarioResult;
    const win = windowOf(r, 60_000, 0.3);
    expect(win.adverts).to.equal(200);
    expect(win.transitions.map((t) => t.node)).to.deep.equal(['b']);
    expect(win.outages.map((o) => o.ms)).to.deep.equal([3000]);
    const err = analyseTune(sweep, data([[4000, 4500], [9000, 9500]], [{ ...calmWindow(600), verdict: 'error' } as never, calmWindow(600)]), 1);
    expect(err.points[0]!.falseFailover.ok).to.equal(false);
    expect(err.points[0]!.falseFailover.detail).to.match(/could not be judged/);
  });

  it('the false-failover window is a scenario with only load and impairment, and no fault that fails anything', () => {
    const sc = falseFailoverScenario(sweepSchema.parse({ name: 't', base: 'fast', parameters: {}, falseFailover: { calm: '30s', load: { cpu: 2 }, degrade: { loss: 5, delay: '20ms' } } }));
    expect(sc.steps.map((s) => ('fault' in s ? s.fault : 'sleep' in s ? 'sleep' : '?'))).to.deep.equal(['cpu-load', 'degrade', 'sleep']);
    expect(sc.expect.vipMoved).to.equal(false);
    const quiet = falseFailoverScenario(sweepSchema.parse({ name: 't', base: 'fast', parameters: {} }));
    expect(quiet.steps).to.have.length(1);
  });
});

describe('tune timers read back from the daemons', () => {
  const capture = [
    '1796143094.121124 02:42:0a:d5:01:0b > 02:42:0a:d5:01:0c, ethertype IPv4 (0x0800), length 50: (tos 0xc0, ttl 255, id 2166, offset 0, flags [none], proto VRRP (112), length 36)',
    '    10.213.1.11 > 10.213.1.12: VRRPv3, Advertisement, vrid 51, prio 150, intvl 30cs, length 16, addrs(2): 10.213.1.100,10.213.2.100',
    '1796143094.422830 02:42:0a:d5:01:0b > 02:42:0a:d5:01:0c, ethertype IPv4 (0x0800), length 50: (tos 0xc0, ttl 255, id 2167, offset 0, flags [none], proto VRRP (112), length 36)',
    '    10.213.1.11 > 10.213.1.12: VRRPv3, Advertisement, vrid 51, prio 150, intvl 30cs, length 16, addrs(2): 10.213.1.100,10.213.2.100',
    '1796143094.722000 02:42:0a:d5:01:0b > 02:42:0a:d5:01:0c, ethertype IPv4 (0x0800), length 50: (tos 0xc0, ttl 255, id 2168, offset 0, flags [none], proto VRRP (112), length 36)',
    '    10.213.1.11 > 10.213.1.12: VRRPv3, Advertisement, vrid 51, prio 150, intvl 30cs, length 16, addrs(2): 10.213.1.100,10.213.2.100',
  ].join('\n');
  const raw = 'list-conn event {l2tp {local_addrs=[10.213.1.50] version=IKEv1 dpd_delay=1 dpd_timeout=3 children {l2tp {mode=TRANSPORT}}}}';
  const ppp = '1796142449.1 lcp-echo-failure 2\t\t# (from /etc/ppp/options.l2tpd.client)\n1796142449.2 lcp-echo-interval 1\t\t# (from /etc/ppp/options.l2tpd.client)\n1796142449.3 lcp-restart 1\t\t# (from /etc/ppp/options.l2tpd.client)\n1796142449.4 lcp-max-terminate 1\t\t# (from /etc/ppp/options.l2tpd.client)\n';

  it("reads a client that kept its tunnel from its pppd's newest option dump, not an older one's", () => {
    const older = '1796142000.0 pppd options in effect:\n1796142000.1 lcp-echo-interval 5\t\t# (from /etc/ppp/options.l2tpd.client)\n1796142000.2 lcp-echo-adaptive\t\t# (from /etc/ppp/options.l2tpd.client)\n1796142001.0 Using interface ppp0\n';
    const newest = `1796142449.0 pppd options in effect:\n${ppp}1796142449.9 Using interface ppp0\n`;
    expect(parseLcp(lastOptionDump(older + newest))).to.deep.equal(parseLcp(ppp));
    expect(parseLcp(older + newest).adaptive, 'the whole log mixes both dumps').to.equal(true);
    expect(lastOptionDump(ppp)).to.equal(ppp);
  });

  it('parses VRRP adverts, charon DPD over vici and pppd option dumps, and matches the fast profile', () => {
    const ads = parseAdverts(capture);
    expect(ads.map((a) => [a.src, a.version, a.intervalMs])).to.deep.equal([['10.213.1.11', 3, 300], ['10.213.1.11', 3, 300], ['10.213.1.11', 3, 300]]);
    expect(parseDpd(raw)).to.deep.equal({ delayS: 1, timeoutS: 3 });
    expect(parseLcp(ppp)).to.deep.equal({ intervalS: 1, failure: 2, restartS: 1, maxTerminate: 1, adaptive: false, dumped: true });
    const c = checkTimers(base, ads, parseDpd(raw), parseLcp(ppp));
    expect(c.problems).to.deep.equal([]);
    expect(c.advert.spacingMedianMs).to.be.closeTo(300.4, 0.5);
  });

  it('a point whose daemons run other timers is named, value against value', () => {
    const p = { ...base, vrrp: { ...base.vrrp, advertInt: 1 }, ike: { ...base.ike, dpdTimeout: 5 }, ppp: { ...base.ppp, lcpEchoInterval: 2 } };
    const c = checkTimers(p, parseAdverts(capture), parseDpd(raw), parseLcp(ppp));
    expect(c.ok).to.equal(false);
    expect(c.problems.join('\n')).to.match(/interval of 300 ms; the profile asks for 1000 ms/).and.match(/every 300 ms .* asks for 1000 ms/).and.match(/dpd_timeout 3 s; the profile asks for 5 s/).and.match(/lcp-echo-interval 1 s, lcp-echo-failure 2; the profile asks for 2 s × 2/);
    expect(checkTimers(base, [], parseDpd(raw), parseLcp('')).problems.join('\n')).to.match(/0 advert\(s\) captured/).and.match(/no option dump/);
  });

  it('lcp-max-terminate 0 (one Terminate-Request, no wait for its Ack) is a profile value: read back from the dump, checked, and explained in the snippet', () => {
    const p = { ...base, ppp: { ...base.ppp, lcpMaxTerminate: 0 } };
    // the shipped sweep's point passes the profile schema (pppd takes 0: its one Terminate-Request is not waited for)
    expect(loadSweep(join(packageRoot, 'lab', 'sweeps', 'lcp-no-terminate.yaml')).points.map((x) => x.profile.ppp.lcpMaxTerminate)).to.deep.equal([0]);
    const dump0 = ppp.replace('lcp-max-terminate 1', 'lcp-max-terminate 0');
    expect(parseLcp(dump0).maxTerminate).to.equal(0);
    expect(checkTimers(p, parseAdverts(capture), parseDpd(raw), parseLcp(dump0)).problems).to.deep.equal([]);
    // the fast profile's 1 is another timer: a lab still running it is named
    expect(checkTimers(p, parseAdverts(capture), parseDpd(raw), parseLcp(ppp)).problems.join()).to.match(/lcp-max-terminate 1; the profile asks for 1 s, 0/);
    const stats = analyseTune(sweep, data([[4000, 4500, 5000], [9000, 9500, 10_000]], [calmWindow(600), calmWindow(600)]), 5).points[0]!;
    const lines = snippets(p, stats, 'node-crash', 'x').find((f) => f.file === 'options.xl2tpd')!.text;
    expect(lines).to.match(/^lcp-max-terminate 0 +# …never: one Terminate-Request is sent and not waited for/m);
    expect(snippets(base, stats, 'node-crash', 'x').find((f) => f.file === 'options.xl2tpd')!.text).to.match(/^lcp-max-terminate 1 +# …sent once: up to 1 s/m);
  });

  it('l2tp.clientRestart is a client profile value: the shipped sweep sets it, the client\'s swanctl runs the image\'s updown script for it, the snippet says what to do', () => {
    const p = loadSweep(join(packageRoot, 'lab', 'sweeps', 'client-restart.yaml')).points.map((x) => x.profile);
    expect(p.map((x) => [x.l2tp.clientRestart, x.l2tp.maxRetries, x.ppp.lcpEchoAdaptive, x.vrrp.rtPriority])).to.deep.equal([[true, 3, true, 50]]);
    expect(base.l2tp.clientRestart).to.equal(false);
    // the lab's default profile ships the measured point
    const fast = loadProfile('fast');
    expect([fast.l2tp.clientRestart, fast.l2tp.maxRetries, fast.ppp.lcpEchoAdaptive, fast.vrrp.rtPriority]).to.deep.equal([true, 3, true, 50]);
    const topology = loadTopology(join(packageRoot, 'lab', 'topologies', 'default.yaml')).topology;
    const swanctl = (profile: typeof base) => renderClientSwanctl({ topology, profile, secrets: { psk: 'x', chap: 'y' }, ifaces: {} });
    // the script is the image's, executable, and acts on up-host only
    const script = join(packageRoot, 'lab', 'images', 'lab', 'rootfs', CLIENT_UPDOWN);
    expect(statSync(script).mode & 0o111).to.not.equal(0);
    expect(readFileSync(script, 'utf8')).to.match(/^ {2}up-host\|up-client\) ;;$/m);
    expect(swanctl(p[0]!)).to.match(new RegExp(`^ {16}updown = ${CLIENT_UPDOWN}$`, 'm'));
    expect(swanctl(base)).to.not.match(/updown/);
    // the nodes run no such script: it is the client's setting
    expect(renderNodeSwanctl({ topology, profile: p[0]!, secrets: { psk: 'x', chap: 'y' }, ifaces: {} })).to.not.match(/updown/);
    const stats = analyseTune(sweep, data([[4000, 4500, 5000], [9000, 9500, 10_000]], [calmWindow(600), calmWindow(600)]), 5).points[0]!;
    const xl = (q: typeof base) => snippets(q, stats, 'node-crash', 'x').find((f) => f.file === 'xl2tpd.conf')!.text;
    expect(xl(p[0]!)).to.match(/updown = <a script that restarts xl2tpd on up-host>/).and.match(/a CDN and a StopCCN, each retransmitted 3 times/);
    expect(xl(base)).to.not.match(/updown/);
  });

  it("keepalived's VRRP process is realtime exactly when vrrp.rtPriority asks (ps of the node)", () => {
    const normal = parseSched('    41 TS       -\n    43 TS       -\n');
    const rr = parseSched('    41 TS       -\n    43 RR      50\n');
    expect(rr).to.deep.equal([{ pid: 41, cls: 'TS' }, { pid: 43, cls: 'RR', rtprio: 50 }]);
    const rt = { ...base, vrrp: { ...base.vrrp, rtPriority: 50 } };
    expect(checkSched(base, 'a', normal)).to.deep.equal([]);
    expect(checkSched(rt, 'a', rr)).to.deep.equal([]);
    expect(checkSched(rt, 'a', normal).join()).to.match(/no keepalived process on a runs SCHED_RR at priority 50 .*CAP_SYS_NICE/);
    expect(checkSched(base, 'b', rr).join()).to.match(/keepalived on b runs realtime \(pid 43 RR 50\)/);
    expect(checkSched(rt, 'a', parseSched('')).join()).to.match(/no keepalived process on a/);
  });
});

describe('tune reports', () => {
  it('writes tune.json (vipdrill.tune/1), summary.md, index.html, and a recommended.yaml that loads as a profile, with snippets', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vipdrill-tune-'));
    const a = analyseTune(sweep, data([[4000, 4500, 5000], [9000, 9500, 10_000]], [calmWindow(600), calmWindow(600)]), 5);
    const run: TuneRun = { schema: 'vipdrill.tune-run/1', runId: 'tune-x', sweepFile: '/x.yaml', repeats: 3, seed: 5, topology: '/t.yaml', spentMs: 1000, startedAt: '', sessions: [] };
    const j = writeTuneReports(dir, sweep, run, a, { complete: true }, { hostname: 'h', os: 'o', kernel: 'k', cpus: 2, memoryGiB: 1, node: 'v20', loadAvg: [0, 0, 0] });
    expect(j.schema).to.equal('vipdrill.tune/1');
    expect(j.seed).to.equal(5);
    expect((JSON.parse(readFileSync(join(dir, 'tune.json'), 'utf8')) as { recommendation: { point: string } }).recommendation.point).to.equal('p01');
    const rec = loadProfile(join(dir, 'recommended.yaml'));
    expect(rec.vrrp.advertInt).to.equal(0.3);
    expect(readdirSync(join(dir, 'snippets')).sort()).to.deep.equal(['ipsec.conf', 'keepalived.conf', 'options.xl2tpd', 'swanctl.conf', 'xl2tpd.conf']);
    expect(readFileSync(join(dir, 'snippets', 'keepalived.conf'), 'utf8')).to.match(/advert_int 0\.3 .*outage median 4\.5 s, p95 5\.0 s.*n=3.*false failovers 0 in 600 s of stress/);
    const page = readFileSync(join(dir, 'index.html'), 'utf8');
    expect(page).to.include('Content-Security-Policy').and.include('<svg').and.not.include('<script');
    expect(page.match(/<svg/g)).to.have.length(4);
    expect(readFileSync(join(dir, 'summary.md'), 'utf8')).to.match(/\*\*p01\*\*/);
  });

  it('a one-point sweep says there is no effect to measure, not an empty table; rate ticks carry no trailing zeros', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vipdrill-tune-'));
    const one = sweepSchema.parse({ name: 't', base: 'fast', parameters: { 'vrrp.advertInt': [0.3] }, repeats: 3, falseFailover: { calm: '60s', maxRate: 0.25 } });
    const a = analyseTune(one, data([[4000, 4500, 5000], []], [calmWindow(600), calmWindow(600)]).slice(0, 1), 5);
    const run: TuneRun = { schema: 'vipdrill.tune-run/1', runId: 'tune-x', sweepFile: '/x.yaml', repeats: 3, seed: 5, topology: '/t.yaml', spentMs: 1000, startedAt: '', sessions: [] };
    writeTuneReports(dir, one, run, a, { complete: true }, { hostname: 'h', os: 'o', kernel: 'k', cpus: 2, memoryGiB: 1, node: 'v20', loadAvg: [0, 0, 0] });
    const page = readFileSync(join(dir, 'index.html'), 'utf8');
    const effects = page.slice(page.indexOf('<h2>Effects on the median outage</h2>'));
    expect(effects).to.include('No parameter takes two values in this sweep').and.not.include('<table');
    expect(readFileSync(join(dir, 'summary.md'), 'utf8')).to.match(/## Effects on the median outage\n\nNo parameter takes two values/);
    // the false-failover plot's axis: 0 % … 55 % in quarters, at most one decimal
    expect(page).to.include('>27.5 %</text>').and.not.match(/>\d+\.\d0 %<\/text>/);
  });

  it('a sweep resumed with other --repeats says what each point holds, not the last session\'s count', () => {
    const a = analyseTune(sweep, data([[4000, 4500, 5000], [9000, 9500]], [calmWindow(600), calmWindow(600)]), 5);
    const run = (repeats: number) => ({ schema: 'vipdrill.tune-run/1', runId: 'tune-x', sweepFile: '/x.yaml', repeats, seed: 5, topology: '/t.yaml', spentMs: 1000, startedAt: '', sessions: [] }) as TuneRun;
    expect(repeatsStored(run(2), a)).to.equal('repeats per point as stored: p01 3, p02 2 (asked for 2)');
    const even = analyseTune(sweep, data([[4000, 4500], [9000, 9500]], [calmWindow(600), calmWindow(600)]), 5);
    expect(repeatsStored(run(2), even)).to.equal('2 repeat(s) per point');
    expect(summaryMd(sweep, run(2), a, { complete: true })).to.include('p01 3, p02 2 (asked for 2)');
  });

  it('without a recommendation there is no recommended.yaml, and the report says nothing is recommended', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vipdrill-tune-'));
    const a = analyseTune(sweep, data([[4000, 4500, 5000], [9000, 9500, 10_000]], [calmWindow(600, 60), calmWindow(60, 10)]), 5);
    const run: TuneRun = { schema: 'vipdrill.tune-run/1', runId: 'tune-x', sweepFile: '/x.yaml', repeats: 3, seed: 5, topology: '/t.yaml', spentMs: 1000, startedAt: '', sessions: [] };
    writeTuneReports(dir, sweep, run, a, { complete: true }, { hostname: 'h', os: 'o', kernel: 'k', cpus: 2, memoryGiB: 1, node: 'v20', loadAvg: [0, 0, 0] });
    expect(readdirSync(dir)).to.not.include('recommended.yaml').and.not.include('snippets');
    expect(readFileSync(join(dir, 'index.html'), 'utf8')).to.include('Nothing is recommended');
  });
});

describe('tune workers: one lab per worker, on its own subnets', () => {
  it('moves every subnet and address of the topology one block up per worker, and nothing else', async () => {
    const { loadTopology } = await import('../../src/topology/load.js');
    const { blockOf, shiftTopology } = await import('../../src/tune/workers.js');
    const t = loadTopology('lab/topologies/default.yaml').topology;
    // 10.213.1.0/24 … 10.213.3.0/24 fit in the aligned 1024-address block 10.213.0.0/22
    expect(blockOf(t).size).to.equal(1024);
    const s = shiftTopology(t, 1);
    expect([s.networks.wan.subnet, s.networks.lan.subnet, s.pool.subnet]).to.deep.equal(['10.213.5.0/24', '10.213.6.0/24', '10.213.7.0/24']);
    expect([s.vips.wan, s.nodes.a!.wan, s.client.wan, s.lanhost.lan, s.pool.first]).to.deep.equal(['10.213.5.100', '10.213.5.11', '10.213.5.50', '10.213.6.50', '10.213.7.10']);
    expect([s.name, s.profile, s.nodes.a!.priority]).to.deep.equal([t.name, t.profile, t.nodes.a!.priority]);
    expect(shiftTopology(t, 0)).to.equal(t);
  });
});

describe('tune: a false-failover window that could not be judged', () => {
  const tries = (verdicts: (string | undefined)[]) => {
    const asked: number[] = [];
    return { asked, once: (attempt: number) => { asked.push(attempt); const v = verdicts[attempt - 1]; return Promise.resolve(v === undefined ? undefined : { verdict: v }); } };
  };
  it('is run again at once, up to the attempts allowed; a judged one ends the tries', async () => {
    const t = tries(['error', 'passed', 'passed']);
    expect(await untilJudged(3, t.once)).to.deep.equal({ verdict: 'passed' });
    expect(t.asked).to.deep.equal([1, 2]);
    const f = tries(['error', 'error', 'error']);
    expect(await untilJudged(2, f.once)).to.deep.equal({ verdict: 'error' });
    expect(f.asked).to.deep.equal([1, 2]);
  });
  it('a judged window with false failovers (a failed verdict) is a result, not run again; a stop ends the tries', async () => {
    const t = tries(['failed', 'passed']);
    expect(await untilJudged(2, t.once)).to.deep.equal({ verdict: 'failed' });
    expect(t.asked).to.deep.equal([1]);
    const s = tries(['error', undefined, 'passed']);
    expect(await untilJudged(3, s.once)).to.equal(undefined);
    expect(s.asked).to.deep.equal([1, 2]);
  });
});

describe("tune: the lab's own profile put back", () => {
  // an engine and hosts that fail the test if anything reaches the lab
  const untouchable = new Proxy({}, { get: (_t, k) => { throw new Error(`the lab was touched (${String(k)})`); } });
  const lab = (profile: typeof base, file: string) => ({ profile, record: { name: 'tx', profile: file, topologyFile: '/t/pair.yaml', engine: 'vm' } }) as unknown as LabContext;
  const said: string[] = [];
  const progress = { step: (m: string) => said.push(m), detail: () => undefined };
  // where a (wrong) restore would write its profile: a scratch folder, never a real path
  const restored = join(mkdtempSync(join(tmpdir(), 'vipdrill-restore-')), 'restored.yaml');
  // and where a (wrong) switch would write the lab's record: a scratch state folder
  let state: string | undefined;
  before(() => { state = process.env.VIPDRILL_STATE; process.env.VIPDRILL_STATE = mkdtempSync(join(tmpdir(), 'vipdrill-state-')); });
  after(() => { if (state === undefined) delete process.env.VIPDRILL_STATE; else process.env.VIPDRILL_STATE = state; });

  it('after an interrupt: no switch (no time for one), the lab keeps the point it runs, and the message says how to get back', async () => {
    const point = { ...base, name: 'sweep-p02' };
    const l = lab(point, '/r/tune-x/points/p02/profile.yaml');
    const ac = new AbortController();
    ac.abort();
    await restoreProfile(untouchable as Engine, untouchable as LabHosts, l, { profile: base, file: '/p/fast.yaml' }, restored, progress, ac.signal);
    expect(existsSync(restored), 'no profile written').to.equal(false);
    expect(l.record.profile).to.equal('/r/tune-x/points/p02/profile.yaml');
    expect(said.at(-1)).to.match(/^interrupted: lab tx keeps the profile it was switched to .*p02\/profile\.yaml.*not its own .*fast\.yaml.*vipdrill down --name tx' then 'vipdrill up -t \/t\/pair\.yaml --name tx --engine vm --profile \/p\/fast\.yaml'/);
  });

  it('a lab that still runs its own profile is left alone', async () => {
    const l = lab(base, '/p/fast.yaml');
    await restoreProfile(untouchable as Engine, untouchable as LabHosts, l, { profile: base, file: '/p/fast.yaml' }, restored, progress);
    expect(l.record.profile).to.equal('/p/fast.yaml');
  });
});
