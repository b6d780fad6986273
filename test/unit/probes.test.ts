import { expect } from 'chai';
import { parseClientStatus, parseNodeStatus } from '../../src/lab/probes.js';

const vips = { wan: '10.213.1.100', lan: '10.213.2.100' };

describe('status parsing', () => {
  it('parses a node that holds the VIPs', () => {
    const text = [
      'daemon.charon=running 41',
      'daemon.keepalived=running 55',
      'daemon.xl2tpd=stopped',
      'vrrp.state=MASTER',
      'addr=eth1 10.213.1.11/24',
      'addr=eth1 10.213.1.100/24',
      'addr=eth0 10.213.2.100/24',
      'clock=1795683296.791546',
    ].join('\n');
    const s = parseNodeStatus('a', 'lab-a', 'running', text, vips);
    expect(s.vrrpState).to.equal('MASTER');
    expect(s.holdsVip).to.equal(true);
    expect(s.holdsLanVip).to.equal(true);
    expect(s.daemons).to.deep.equal({ charon: true, keepalived: true, xl2tpd: false });
    expect(s.clock).to.equal(1795683296.791546);
  });

  it('reports STOPPED when keepalived is dead, whatever the last notify said', () => {
    const s = parseNodeStatus('a', 'lab-a', 'running', 'daemon.keepalived=stopped\nvrrp.state=MASTER', vips);
    expect(s.vrrpState).to.equal('STOPPED');
  });

  it('reports the container state of a node that is not running', () => {
    expect(parseNodeStatus('a', 'lab-a', 'exited', '', vips).vrrpState).to.equal('EXITED');
  });

  it('parses the client tunnel', () => {
    const s = parseClientStatus('ike=up\nchild=up\nl2tp=up\nppp=up\ntunnelip=10.213.3.10\nlan=up\nclock=1.5');
    expect(s).to.deep.equal({ ikeSa: true, childSa: true, l2tpTunnel: true, pppUp: true, tunnelIp: '10.213.3.10', lanReachable: true, clock: 1.5 });
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
