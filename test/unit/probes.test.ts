import { expect } from 'chai';
import { nodeStatusOf } from '../../src/hosts/lab-host.js';

const vips = { wan: '10.213.1.100', lan: '10.213.2.100' };
const agent = (over: Partial<Parameters<typeof nodeStatusOf>[3] & object> = {}) => ({
  daemons: { charon: { running: true, pid: 41 }, keepalived: { running: true, pid: 55 }, xl2tpd: { running: false, pid: null } },
  processes: { pppd: [] as number[] },
  vrrpState: 'MASTER',
  addresses: [
    { dev: 'eth1', cidr: '10.213.1.11/24' },
    { dev: 'eth1', cidr: '10.213.1.100/24' },
    { dev: 'eth0', cidr: '10.213.2.100/24' },
  ],
  ready: true,
  booted: true,
  ...over,
});

describe("a node's status from its agent's answer", () => {
  it('a node that holds both VIPs, with its daemons', () => {
    const s = nodeStatusOf('east', 'lab-east', 'running', agent(), vips);
    expect(s.vrrpState).to.equal('MASTER');
    expect(s.holdsVip).to.equal(true);
    expect(s.holdsLanVip).to.equal(true);
    expect(s.daemons).to.deep.equal({ charon: true, keepalived: true, xl2tpd: false });
  });

  it('only the WAN VIP: holdsLanVip is false; pppd sessions count as a running pppd', () => {
    const s = nodeStatusOf('east', 'lab-east', 'running', agent({ addresses: [{ dev: 'eth1', cidr: '10.213.1.100/24' }], processes: { pppd: [7] } }), vips);
    expect([s.holdsVip, s.holdsLanVip, s.daemons.pppd]).to.deep.equal([true, false, true]);
  });

  it('STOPPED when keepalived is dead, whatever the last notify said', () => {
    const s = nodeStatusOf('east', 'lab-east', 'running', agent({ daemons: { keepalived: { running: false, pid: null } } }), vips);
    expect(s.vrrpState).to.equal('STOPPED');
  });

  it('INIT while keepalived runs but has not said its state yet', () => {
    expect(nodeStatusOf('east', 'lab-east', 'running', agent({ vrrpState: null }), vips).vrrpState).to.equal('INIT');
  });

  it('the container state of a node that is not running, and no VIP', () => {
    const s = nodeStatusOf('east', 'lab-east', 'exited', undefined, vips);
    expect([s.vrrpState, s.holdsVip]).to.deep.equal(['EXITED', false]);
  });
});

describe('engine times', () => {
  it('Docker\'s RFC 3339 nanosecond times become epoch seconds to the microsecond; the zero time is none', async () => {
    const { parseRfc3339 } = await import('../../src/lab/engines/docker.js');
    expect(parseRfc3339('2026-12-01T12:25:00.123456789Z')).to.be.closeTo(Date.UTC(2026, 11, 1, 12, 25, 0) / 1000 + 0.123456, 1e-6);
    expect(parseRfc3339('2026-12-01T12:25:00Z')).to.equal(Date.UTC(2026, 11, 1, 12, 25, 0) / 1000);
    expect(parseRfc3339('0001-01-01T00:00:00Z')).to.equal(undefined);
    expect(parseRfc3339(undefined)).to.equal(undefined);
  });
});
