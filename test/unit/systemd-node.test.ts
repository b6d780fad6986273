import { expect } from 'chai';
import { systemdProblems, type Discovery } from '../../src/lab/remote.js';
import { renderNode } from '../../src/stack/render.js';
import { withSshd } from '../../src/stack/sshd.js';
import { asSystemdNode, STACK_UNITS } from '../../src/stack/systemd.js';
import { loadProfile, loadTopology } from '../../src/topology/load.js';
import { fixture } from '../helpers.js';

const input = {
  topology: loadTopology(fixture('topologies', 'good.yaml')).topology,
  profile: loadProfile('fast'),
  secrets: { psk: 'PSK-unit-test-secret-0001', chap: 'CHAP-unit-test-secret-0002' },
  ifaces: { a: { wan: 'eth1', lan: 'eth0' }, b: { wan: 'eth0', lan: 'eth1' }, client: { wan: 'eth0' }, lanhost: { lan: 'eth0' } },
};

describe('a node systemd runs (up --systemd)', () => {
  const plain = renderNode(input, 'a');
  const cfg = asSystemdNode(plain);
  const file = (p: string) => cfg.files.find((f) => f.path === p);

  it("keeps the stack's config files, and hands the daemons to Debian's units: no supervisor descriptions", () => {
    expect(cfg.init).to.equal('systemd');
    expect(cfg.daemons).to.deep.equal([]);
    for (const f of plain.files.filter((x) => !x.path.startsWith('/etc/ppp/options'))) expect(file(f.path), f.path).to.deep.equal(f);
    expect(cfg.setup).to.deep.equal(plain.setup);
  });

  it('orders every stack unit after the boot setup, with drop-ins (the packaged units stay as they are)', () => {
    for (const u of Object.values(STACK_UNITS)) expect(file(`/etc/systemd/system/${u}.d/vipdrill.conf`)?.content, u).to.include('After=vipdrill-boot.service');
    expect(file('/etc/systemd/system/vipdrill-boot.service')?.content).to.include('ExecStart=/usr/local/sbin/vipdrill-boot').and.include('Before=strongswan.service xl2tpd.service keepalived.service');
    expect(file('/etc/default/keepalived')?.content).to.include('DAEMON_ARGS="--vrrp --log-detail"');
  });

  it("pppd logs to syslog (the journal), not to the supervisor's fifo", () => {
    expect(plain.files.find((f) => f.path === '/etc/ppp/options.xl2tpd')!.content).to.match(/^logfile /m);
    expect(file('/etc/ppp/options.xl2tpd')!.content).to.not.match(/^logfile /m);
  });

  it("gets sshd as a unit of its own with --ssh, not as a supervisor's daemon", () => {
    const withSsh = withSshd(cfg, { hostPrivate: 'KEY', clientPublic: 'ssh-ed25519 AAAA test' });
    expect(withSsh.init).to.equal('systemd');
    expect(withSsh.daemons).to.deep.equal([]);
    const unit = withSsh.files.find((f) => f.path === '/etc/systemd/system/vipdrill-sshd.service');
    expect(unit?.content).to.include('ExecStart=/usr/sbin/sshd -D -e -f /etc/vipdrill/sshd_config').and.include("ExecStartPre=/bin/sh -c 'mkdir -p /run/sshd'");
    expect(withSshd(plain, { hostPrivate: 'KEY', clientPublic: 'ssh-ed25519 AAAA test' }).daemons.map((d) => d.name)).to.include('sshd');
  });
});

describe('a remote node systemd runs: refused before anything changes when vipdrill could not drive it', () => {
  const discovery = (units: string[], journalctl: boolean): Discovery => ({
    user: 'root', uid: 0, hostname: 'n1', layout: 'systemd', systemd: true, versions: {}, configs: {}, keepalived: null,
    tools: { journalctl: journalctl ? '/usr/bin/journalctl' : null },
    units: Object.fromEntries(units.map((u) => [u, 'active'])),
  });

  it("accepts Debian's units, charon under any of its unit names", () => {
    expect(systemdProblems('a', discovery(['keepalived', 'strongswan', 'xl2tpd'], true))).to.deep.equal([]);
    expect(systemdProblems('a', discovery(['keepalived', 'strongswan-starter', 'xl2tpd'], true))).to.deep.equal([]);
  });

  it('names each missing unit, what it looked for, and the missing journal', () => {
    const p = systemdProblems('b', discovery(['keepalived'], false));
    expect(p).to.have.length(3);
    expect(p[0]).to.match(/^b: journalctl is missing/);
    expect(p[1]).to.match(/^b: no systemd unit runs charon \(looked for strongswan\.service, strongswan-starter\.service, ipsec\.service; found: keepalived\)/);
    expect(p[2]).to.match(/^b: no systemd unit runs xl2tpd/);
  });
});
