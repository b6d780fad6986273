import { expect } from 'chai';
import { renderNode } from '../../src/stack/render.js';
import { loadProfile, loadTopology } from '../../src/topology/load.js';
import type { Profile } from '../../src/topology/schema.js';
import { changedFiles, planNode } from '../../src/tune/apply.js';
import { fixture } from '../helpers.js';

const topology = loadTopology(fixture('topologies', 'good.yaml')).topology;
// distro-defaults: a profile whose values the changes below differ from (fast's move with tuning)
const base = loadProfile('distro-defaults');
const ifaces = { a: { wan: 'eth1', lan: 'eth0' }, b: { wan: 'eth0', lan: 'eth1' }, client: { wan: 'eth0' }, lanhost: { lan: 'eth0' } };
const node = (profile: Profile) => renderNode({ topology, profile, secrets: { psk: 'p', chap: 'c' }, ifaces }, 'a');

/** The plan for node a when `change` is applied to the base profile. */
function plan(change: (p: Profile) => void) {
  const to = structuredClone(base);
  change(to);
  return planNode(node(base), node(to), base, to);
}

describe('tune: how a node takes a new profile', () => {
  it('reloads keepalived (SIGHUP keeps the VIP where it is) for an advert interval, and touches nothing else', () => {
    const p = plan((to) => (to.vrrp.advertInt = 2));
    expect(p.changed).to.deep.equal(['/etc/keepalived/keepalived.conf']);
    expect(p.steps).to.deep.equal([{ kind: 'reload-keepalived' }]);
  });

  it('restarts keepalived when its VRRP version or realtime priority changes (set up at start, not on reload), and with it the whole stack (the VIP moves anyway)', () => {
    expect(plan((to) => (to.vrrp.version = 3)).steps).to.deep.equal([{ kind: 'restart', daemon: 'charon' }, { kind: 'restart', daemon: 'xl2tpd' }, { kind: 'restart', daemon: 'keepalived' }]);
    expect(plan((to) => (to.vrrp.rtPriority = 50)).steps).to.deep.equal([{ kind: 'restart', daemon: 'charon' }, { kind: 'restart', daemon: 'xl2tpd' }, { kind: 'restart', daemon: 'keepalived' }]);
  });

  it('restarts keepalived for any change while its VRRP process runs realtime (2.2.7 kills it on reload)', () => {
    const rt = structuredClone(base);
    rt.vrrp.rtPriority = 50;
    const to = structuredClone(rt);
    to.vrrp.advertInt = 2;
    expect(planNode(node(rt), node(to), rt, to).steps).to.deep.equal([{ kind: 'restart', daemon: 'charon' }, { kind: 'restart', daemon: 'xl2tpd' }, { kind: 'restart', daemon: 'keepalived' }]);
  });

  it("loads charon's connections again for DPD, without restarting charon", () => {
    expect(plan((to) => (to.ike.dpdDelay = 2)).steps).to.deep.equal([{ kind: 'reload-conns' }]);
  });

  it('restarts xl2tpd for its own settings; pppd options need nothing (read at each call)', () => {
    expect(plan((to) => (to.l2tp.maxRetries = 3)).steps).to.deep.equal([{ kind: 'restart', daemon: 'xl2tpd' }]);
    const ppp = plan((to) => (to.ppp.lcpEchoAdaptive = true));
    expect(ppp.changed).to.deep.equal(['/etc/ppp/options.xl2tpd']);
    expect(ppp.steps).to.deep.equal([]);
  });

  it('runs the restarts before keepalived, whose health check watches the daemons restarted', () => {
    const p = plan((to) => {
      to.l2tp.maxRetries = 3;
      to.vrrp.rtPriority = 50;
      to.ike.dpdTimeout = 5;
    });
    expect(p.steps).to.deep.equal([{ kind: 'restart', daemon: 'charon' }, { kind: 'restart', daemon: 'xl2tpd' }, { kind: 'restart', daemon: 'keepalived' }]);
    const q = plan((to) => {
      to.l2tp.maxRetries = 3;
      to.ike.dpdTimeout = 5;
      to.vrrp.advertInt = 2;
    });
    expect(q.steps).to.deep.equal([{ kind: 'restart', daemon: 'xl2tpd' }, { kind: 'reload-conns' }, { kind: 'reload-keepalived' }]);
  });

  it('does nothing when the node renders the same, and restarts the whole stack for a changed file it does not know', () => {
    expect(plan(() => {}).steps).to.deep.equal([]);
    const before = node(base);
    const after = node(base);
    after.files = after.files.map((f) => (f.path === '/etc/vipdrill/firewall.nft' ? { ...f, content: f.content + '# changed\n' } : f));
    const p = planNode(before, after, base, base);
    expect(p.changed).to.deep.equal(['/etc/vipdrill/firewall.nft']);
    expect(p.steps.map((s) => (s.kind === 'restart' ? s.daemon : s.kind))).to.deep.equal(['charon', 'xl2tpd', 'keepalived']);
  });

  it("counts a daemon's descriptor and a file's mode as changes", () => {
    const before = node(base);
    const after = node(base);
    after.daemons = after.daemons.map((d) => (d.name === 'charon' ? { ...d, delaySeconds: 3 } : d));
    after.files = after.files.map((f) => (f.path === '/etc/ppp/chap-secrets' ? { ...f, mode: 0o644 } : f));
    expect(changedFiles(before, after)).to.deep.equal(['/etc/ppp/chap-secrets', '/etc/vipdrill/daemons/charon.conf']);
    expect(planNode(before, after, base, base).steps).to.deep.equal([{ kind: 'restart', daemon: 'charon' }]);
  });
});
