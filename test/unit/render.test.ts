import { expect } from 'chai';
import { compareByoSecurity } from '../../src/stack/byo.js';
import { renderClient, renderDaemonConf, renderLanhost, renderNatRouter, renderNode, type ContainerConfig, type RenderInput } from '../../src/stack/render.js';
import { maskSecrets } from '../../src/lab/state.js';
import { loadProfile, loadTopology } from '../../src/topology/load.js';
import { join } from 'node:path';
import { fixture, repoRoot } from '../helpers.js';
import { matchSnapshot } from '../snapshot.js';

const secrets = { psk: 'PSK-unit-test-secret-0001', chap: 'CHAP-unit-test-secret-0002' };

function input(profile: string): RenderInput {
  return {
    topology: loadTopology(fixture('topologies', 'good.yaml')).topology,
    profile: loadProfile(profile),
    secrets,
    // deliberately not in attach order: names are resolved by address
    ifaces: { a: { wan: 'eth1', lan: 'eth0' }, b: { wan: 'eth0', lan: 'eth1' }, client: { wan: 'eth0' }, lanhost: { lan: 'eth0' } },
  };
}

function dump(cfg: ContainerConfig): string {
  const files = cfg.files.map((f) => `=== ${f.path} (mode ${f.mode.toString(8)}${f.secret ? ', secret' : ''})\n${f.content}`);
  const daemons = cfg.daemons.map((d) => `=== daemon ${d.name}\n${renderDaemonConf(d).content}`);
  return maskSecrets([...files, ...daemons, `=== setup\n${cfg.setup.join('\n')}\n`].join('\n'), secrets);
}

describe('stack rendering', () => {
  for (const profile of ['fast', 'distro-defaults']) {
    it(`renders node a, node b and the client with profile ${profile} (snapshot, secrets masked)`, () => {
      const i = input(profile);
      matchSnapshot(`node-a.${profile}.txt`, dump(renderNode(i, 'a')));
      matchSnapshot(`node-b.${profile}.txt`, dump(renderNode(i, 'b')));
      matchSnapshot(`client.${profile}.txt`, dump(renderClient(i)));
    });
  }

  it('masks every secret in the snapshots, and stores secret files with mode 600', () => {
    const cfg = renderNode(input('fast'), 'a');
    const text = dump(cfg);
    expect(text).not.to.contain(secrets.psk);
    expect(text).not.to.contain(secrets.chap);
    for (const f of cfg.files.filter((f) => f.content.includes(secrets.psk) || f.content.includes(secrets.chap))) {
      expect(f.mode, f.path).to.equal(0o600);
      expect(f.secret, f.path).to.equal(true);
    }
  });

  it('uses the interface resolved by address in keepalived, per node', () => {
    const a = renderNode(input('fast'), 'a').files.find((f) => f.path.endsWith('keepalived.conf'))!.content;
    expect(a).to.contain('interface eth1');
    expect(a).to.contain('10.213.2.100/24 dev eth0');
    expect(a).to.contain('unicast_peer {\n        10.213.1.12');
    const b = renderNode(input('fast'), 'b').files.find((f) => f.path.endsWith('keepalived.conf'))!.content;
    expect(b).to.contain('interface eth0');
  });

  it('renders nopreempt, preempt_delay and VRRPv2 authentication from the profile', () => {
    const i = input('distro-defaults');
    i.profile = { ...i.profile, vrrp: { ...i.profile.vrrp, preempt: false, auth: 'pass1234' } };
    const conf = renderNode(i, 'a').files.find((f) => f.path.endsWith('keepalived.conf'))!.content;
    expect(conf).to.contain('nopreempt');
    expect(conf).to.contain('auth_pass pass1234');
    i.profile = { ...i.profile, vrrp: { ...i.profile.vrrp, preempt: true, preemptDelay: 30, auth: null } };
    const conf2 = renderNode(i, 'a').files.find((f) => f.path.endsWith('keepalived.conf'))!.content;
    expect(conf2).to.contain('preempt_delay 30');
    expect(conf2).not.to.contain('authentication');
  });

  it('runs the VRRP process realtime only when the profile asks (vrrp_rt_priority in global_defs)', () => {
    const i = input('fast-plain');
    expect(renderNode(i, 'a').files.find((f) => f.path.endsWith('keepalived.conf'))!.content).not.to.contain('vrrp_rt_priority');
    i.profile = { ...i.profile, vrrp: { ...i.profile.vrrp, rtPriority: 50 } };
    const conf = renderNode(i, 'a').files.find((f) => f.path.endsWith('keepalived.conf'))!.content;
    expect(conf).to.match(/global_defs \{[^}]*\n {4}vrrp_rt_priority 50\n {4}vrrp_rlimit_rtime 1000000\n[^}]*\}/);
  });

  it('the LAN host routes the client pool through the LAN VIP', () => {
    expect(renderLanhost(input('fast')).setup).to.deep.equal(['ip route replace 10.213.3.0/24 via 10.213.2.100']);
  });

  it('behind a NAT router the client routes the wan via the router, which masquerades the home network', () => {
    const t = loadTopology(join(repoRoot, 'lab', 'topologies', 'nat-client.yaml')).topology;
    const i = { ...input('fast'), topology: t };
    expect(renderClient(i).setup).to.deep.equal(['ip route replace 10.213.1.0/24 via 10.213.4.10']);
    const r = renderNatRouter(i);
    expect(r.setup).to.deep.equal(['nft -f /etc/vipdrill/nat.nft']);
    expect(r.files[0]!.content).to.contain('ip saddr 10.213.4.0/24 ip daddr != 10.213.4.0/24 masquerade');
    expect(renderClient(input('fast')).setup).to.deep.equal([]);
  });

  it('warns about every security difference between the nodes without printing secrets', () => {
    const i = input('fast');
    const a = renderNode(i, 'a');
    const b = renderNode({ ...i, secrets: { psk: 'other-psk-value', chap: 'other-chap-value' } }, 'b');
    const w = compareByoSecurity({ a, b }, ['a', 'b']);
    expect(w).to.have.length(2);
    expect(w[0]).to.match(/PSK differs between nodes a and b/);
    expect(w[1]).to.match(/chap-secrets differ/);
    expect(w.join('\n')).not.to.contain('other-psk-value');
    expect(w.join('\n')).not.to.contain(secrets.psk);
    expect(compareByoSecurity({ a, b: renderNode(i, 'b') }, ['a', 'b'])).to.deep.equal([]);
  });
});
