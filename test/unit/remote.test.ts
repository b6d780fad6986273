import { expect } from 'chai';
import { createHmac, randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../../src/errors.js';
import { fingerprintOf, pinnedKeys, shellQuote } from '../../src/hosts/ssh.js';
import { assertInWindow } from '../../src/lab/remote.js';
import { formatPlan, planScenario } from '../../src/run/plan.js';
import { remoteScenarioIssues } from '../../src/run/remote-checks.js';
import { scenarioSchema, type Scenario } from '../../src/scenario/schema.js';
import { loadLabInputs } from '../../src/lab/lab.js';
import { loadTopology } from '../../src/topology/load.js';
import { allowedKinds, inWindow, parseSshTarget, parseWindow } from '../../src/topology/remote.js';
import { fixture, repoRoot } from '../helpers.js';

const example = join(repoRoot, 'lab/topologies/remote.example.yaml');
const scenario = (doc: unknown): Scenario => ({ ...scenarioSchema.parse(doc), file: 'inline.yaml' });

describe('remote topologies', () => {
  it('the annotated example loads: hosts, become, allow, window, lease', () => {
    const t = loadTopology(example).topology;
    expect(Object.keys(t.remote!.hosts)).to.deep.equal(['a', 'b', 'client', 'lanhost']);
    expect(t.remote!.hosts.a!.become).to.equal('sudo');
    expect(parseSshTarget(t.remote!.hosts.a!.ssh)).to.deep.equal({ user: 'ops', host: '10.213.2.11', port: 22 });
    expect(t.remote!.lease).to.deep.equal({ ttl: 30, renew: 5 });
    expect(allowedKinds(t.remote!)).to.include('split-brain');
  });

  it('names every problem of a bad remote block: a missing and a misspelt host, kinds, the window, the lease', () => {
    let msg = '';
    try {
      loadTopology(fixture('topologies', 'remote-bad.yaml'));
    } catch (e) {
      expect(e).to.be.instanceOf(ConfigError);
      msg = (e as Error).message;
    }
    expect(msg).to.match(/remote\.hosts\.client: missing: every host of the drill is reached over SSH/);
    expect(msg).to.match(/remote\.hosts\.lanhost: missing/);
    expect(msg).to.match(/remote\.hosts\.clinet: unknown host "clinet" \(did you mean client\?\)/);
    expect(msg).to.match(/remote\.allow\[1\]: node-crash cannot be reverted by a host itself: give remote\.crash\.<node> \{off, on\} power commands/);
    expect(msg).to.match(/remote\.allow\[2\]: unknown fault kind "partiton" \(did you mean partition\?\)/);
    expect(msg).to.match(/remote\.window: expected times from 00:00 to 23:59/);
    expect(msg).to.match(/remote\.lease\.renew: renewing every 8 s with a 10 s lease/);
  });

  it('windows: days, ranges, past midnight; a drill outside one is refused', () => {
    const w = parseWindow('Sat 02:00-04:00 UTC');
    if (typeof w === 'string') throw new Error(w);
    expect(inWindow(w, new Date('2026-12-05T02:30:00Z'))).to.equal(true); // a Saturday
    expect(inWindow(w, new Date('2026-12-05T04:00:00Z'))).to.equal(false);
    expect(inWindow(w, new Date('2026-12-01T02:30:00Z'))).to.equal(false); // a Tuesday
    const night = parseWindow('Mon-Fri 23:00-01:00 UTC');
    if (typeof night === 'string') throw new Error(night);
    expect(inWindow(night, new Date('2026-12-05T00:30:00Z'))).to.equal(true); // Saturday 00:30 belongs to Friday's window
    expect(inWindow(night, new Date('2026-12-06T00:30:00Z'))).to.equal(false); // Sunday 00:30: Saturday opened none
    expect(parseWindow('Sat 02:00-04:00 CET')).to.match(/expected a window like/);
    expect(parseWindow('Sut 02:00-04:00 UTC')).to.match(/unknown day in "sut"/);
    const remote = loadTopology(example).topology.remote!;
    expect(() => assertInWindow(remote, 'remote.example.yaml', new Date('2026-12-01T19:00:00Z'))).to.throw(/outside the maintenance window "Sat 02:00-04:00 UTC" of remote\.example\.yaml \(now Tue 19:00 UTC\): nothing was run/);
    expect(() => assertInWindow(remote, 'remote.example.yaml', new Date('2026-12-05T03:00:00Z'))).not.to.throw();
  });

  it('a scenario is checked against the hosts before anything connects: allowed kinds, and faults that would cut vipdrill\'s own SSH', () => {
    const t = loadTopology(example).topology;
    const issues = (steps: unknown[]) => remoteScenarioIssues(scenario({ name: 's', description: 'd', steps: steps.map((x) => ({ for: '5s', ...(x as object) })) }), t).map((i) => `${i.path}: ${i.message}`);
    expect(issues([{ fault: 'link-down', target: 'master', iface: 'lan' }])).to.deep.equal([
      "steps[0].iface: the lan link of a carries vipdrill's SSH to it (10.213.2.11): taking it down would cut the drill's own control of a; reach a over another interface, or take down the other link",
      "steps[0].iface: the lan link of b carries vipdrill's SSH to it (10.213.2.12): taking it down would cut the drill's own control of b; reach b over another interface, or take down the other link",
    ]);
    expect(issues([{ fault: 'link-down', target: 'master', iface: 'wan' }])).to.deep.equal([]);
    expect(issues([{ fault: 'rekey' }])[0]).to.match(/^steps\[0\]\.fault: rekey is not allowed on the hosts of staging: remote\.allow permits kill-daemon, /);
  });

  it('plan: every lease, inject and revert per host, from the planners a run uses; a crash with no power command is refused', async () => {
    const inputs = loadLabInputs(example);
    const lab = { ...inputs, record: { name: 'staging', runId: 'p', engine: 'remote' as const, topologyFile: example, profile: 'fast', createdAt: '', phase: 'ready' as const, containers: { a: 'a', b: 'b', client: 'client', lanhost: 'lanhost' } } };
    const leases = { ttlMs: 30_000, renewMs: 5_000 };
    const sc = scenario({ name: 'sb', description: 'd', steps: [{ fault: 'split-brain', for: '5s' }, { fault: 'drain', target: 'master', grace: '2s', for: '5s' }, { fault: 'node-crash', target: 'master', for: 'until-healed' }] });
    const steps = await planScenario(sc, lab, leases);
    expect(steps[0]!.leases.map((c) => `${c.host} ${c.what}`)).to.deep.equal([
      "a lease.arm vipdrill-step0-0 (30 s, renewed every 5 s); on lapse: nft: delete the rules tagged vipdrill-step0 from vipdrill's tables (the tables once empty)",
      "b lease.arm vipdrill-step0-1 (30 s, renewed every 5 s); on lapse: nft: delete the rules tagged vipdrill-step0 from vipdrill's tables (the tables once empty)",
    ]);
    expect(steps[0]!.inject.map((c) => c.host)).to.deep.equal(['a', 'b']);
    expect(steps[0]!.revert.map((c) => c.what).slice(-2)).to.deep.equal(['lease.drop vipdrill-step0-0', 'lease.drop vipdrill-step0-1']);
    // the drain's grace is a wait in the plan, not a sleep of the planner; master is the higher priority
    expect(steps[1]!.inject.map((c) => `${c.host} ${c.what}`)).to.deep.equal([
      'a nft -f - (vipdrill\'s own tables only): inet vipdrill input udp dport { 500, 4500 } ct state new counter drop comment "vipdrill-step1"',
      '- wait 2.0 s',
      'a /usr/local/lib/vipdrill/vipdrill-fault operator -60',
    ]);
    expect(steps[2]!.error).to.equal('node-crash has no revert a host can run by itself, so it cannot be leased on real hosts');
    const text = formatPlan(sc, lab, steps, leases);
    expect(text).to.match(/step 3: crash \(remote\.crash\.a\.off, the power-off command\) of node a {2}REFUSED: node-crash has no revert/);
    expect(text).to.match(/if this controller dies: each host reverts its faults by itself 30 s after the last renewal/);
  });
});

describe('SSH access', () => {
  it('pins host keys from known_hosts: plain and hashed names, the port form; nothing pinned is nothing', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vipdrill-kh-'));
    const key = randomBytes(51).toString('base64');
    const other = randomBytes(51).toString('base64');
    const salt = randomBytes(20);
    const hashed = `|1|${salt.toString('base64')}|${createHmac('sha1', salt).update('[10.0.0.5]:2222').digest('base64')}`;
    const kh = join(dir, 'known_hosts');
    writeFileSync(kh, [`10.0.0.4 ssh-ed25519 ${key}`, `${hashed} ssh-ed25519 ${other}`, '# a comment', `@revoked 10.0.0.4 ssh-ed25519 ${other}`, ''].join('\n'));
    expect(pinnedKeys({ user: 'u', host: '10.0.0.4', port: 22 }, { ssh: 'u@10.0.0.4', knownHosts: kh }).keys.map((k) => k.toString('base64'))).to.deep.equal([key]);
    expect(pinnedKeys({ user: 'u', host: '10.0.0.5', port: 2222 }, { ssh: 'u@10.0.0.5:2222', knownHosts: kh }).keys.map((k) => k.toString('base64'))).to.deep.equal([other]);
    expect(pinnedKeys({ user: 'u', host: '10.0.0.5', port: 22 }, { ssh: 'u@10.0.0.5', knownHosts: kh }).keys).to.deep.equal([]);
    // a key given in the topology wins over known_hosts
    expect(pinnedKeys({ user: 'u', host: '10.0.0.4', port: 22 }, { ssh: 'u@10.0.0.4', knownHosts: kh, hostKey: `ssh-ed25519 ${other}` }).keys.map((k) => k.toString('base64'))).to.deep.equal([other]);
    expect(fingerprintOf(Buffer.from(key, 'base64'))).to.match(/^SHA256:[A-Za-z0-9+/]{43}$/);
  });

  it('quotes argv for the remote shell: plain words bare, anything else single-quoted', () => {
    expect(shellQuote(['sudo', '-n', '--', 'python3', '-u', '/usr/local/lib/vipdrill/vipdrill-agent'])).to.equal('sudo -n -- python3 -u /usr/local/lib/vipdrill/vipdrill-agent');
    expect(shellQuote(['echo', "it's", '$(id)', 'a b'])).to.equal(`echo 'it'\\''s' '$(id)' 'a b'`);
  });
});

describe('track files on real hosts', () => {
  it('drain, demotion and takeover need the operator track file in each node\'s keepalived.conf; what to add is named', async () => {
    const { trackFileIssues } = await import('../../src/run/remote-checks.js');
    const sc = scenario({ name: 'd', description: 'd', steps: [{ fault: 'demote', target: 'master', for: '5s' }] });
    expect(trackFileIssues([sc], { a: ['/run/vipdrill/operator-priority'], b: ['/etc/keepalived/maint'] })).to.deep.equal([
      "b: demote move the VIP through keepalived's track file /run/vipdrill/operator-priority, which b's keepalived.conf does not track (it tracks /etc/keepalived/maint). Add: vrrp_track_file tf_operator { file /run/vipdrill/operator-priority weight 1 init_file 0 overwrite } and, in the vrrp_instance, track_file { tf_operator }",
    ]);
    const kill = scenario({ name: 'k', description: 'd', steps: [{ fault: 'kill-daemon', target: 'master', daemon: 'charon', for: '5s' }] });
    expect(trackFileIssues([kill], { a: [], b: [] })).to.deep.equal([]);
  });
});
