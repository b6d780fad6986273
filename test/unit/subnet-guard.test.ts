import { expect } from 'chai';
import { assertNoSubnetConflicts, findSubnetConflicts } from '../../src/lab/subnet-guard.js';
import { parseIpRoutes } from '../../src/util/host.js';

const hostRoutes = parseIpRoutes(
  JSON.stringify([
    { dst: 'default', gateway: '192.0.2.1', dev: 'eth0' },
    { dst: '192.0.2.0/24', dev: 'eth0', protocol: 'kernel' },
    { dst: '172.17.0.0/16', dev: 'docker0', protocol: 'kernel' },
    { dst: '10.213.1.0/24', dev: 'br-0123456789ab', protocol: 'kernel' },
  ]),
);

describe('subnet guard', () => {
  it('ignores the default route and the lab\'s own bridges', () => {
    expect(findSubnetConflicts([{ field: 'networks.wan.subnet', subnet: '10.213.1.0/24' }], hostRoutes, ['br-0123456789ab'])).to.deep.equal([]);
  });

  it('refuses a subnet overlapping a host route and names the route', () => {
    expect(() => assertNoSubnetConflicts([{ field: 'networks.wan.subnet', subnet: '192.0.2.128/25' }], hostRoutes, [], 'host')).to.throw(
      /networks\.wan\.subnet 192\.0\.2\.128\/25 overlaps the route "192\.0\.2\.0\/24 dev eth0 proto kernel"/,
    );
  });

  it('catches a wider lab subnet that contains a host route', () => {
    const c = findSubnetConflicts([{ field: 'networks.lan.subnet', subnet: '172.16.0.0/12' }], hostRoutes, []);
    expect(c.map((x) => x.route.dev)).to.deep.equal(['docker0']);
  });

  it('treats another lab\'s bridge as foreign', () => {
    expect(findSubnetConflicts([{ field: 'networks.wan.subnet', subnet: '10.213.1.0/24' }], hostRoutes, [])).to.have.length(1);
  });
});
