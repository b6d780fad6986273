import { expect } from 'chai';
import { assessLocal, assessVm, choose, kernelOption, type HostFacts } from '../../src/lab/preflight.js';

/** A micro-VM kernel like this project's machines: no PPP, L2TP, ESP, netem, no modules. */
const microVm: HostFacts = {
  kernelRelease: '6.18.44-fc',
  kernelConfig: ['CONFIG_XFRM_USER=y', '# CONFIG_PPP is not set', '# CONFIG_NET_SCH_NETEM is not set', 'CONFIG_NETFILTER_XT_MATCH_L2TP=y'].join('\n'),
  loadableModules: [],
  loadedModules: [],
  devPpp: false,
  dockerReachable: true,
  tools: { 'qemu-system-x86_64': true, 'qemu-img': true, debootstrap: true, mke2fs: true, tar: true },
  vmImageCached: false,
};

/** A stock Debian kernel: everything as modules. */
const debian: HostFacts = {
  ...microVm,
  kernelRelease: '6.1.0-18-amd64',
  kernelConfig: ['CONFIG_PPP=m', 'CONFIG_PPPOL2TP=m', 'CONFIG_L2TP=m', 'CONFIG_INET_ESP=m', 'CONFIG_XFRM_USER=m', 'CONFIG_NET_SCH_NETEM=m'].join('\n'),
  loadableModules: ['ppp_generic', 'l2tp_ppp', 'esp4', 'xfrm_user', 'sch_netem'],
  devPpp: true,
};

describe('preflight', () => {
  it('reads kernel options', () => {
    expect(kernelOption(debian.kernelConfig, 'CONFIG_PPP')).to.equal('m');
    expect(kernelOption(microVm.kernelConfig, 'CONFIG_PPP')).to.equal('n');
    expect(kernelOption(undefined, 'CONFIG_PPP')).to.equal('unknown');
  });

  it('names PPP, L2TP and ESP as missing on a micro-VM kernel, with fixes', () => {
    const r = assessLocal(microVm);
    expect(r.fullStack).to.equal(false);
    expect(r.available).to.equal(true);
    const names = r.missing.map((m) => m.name);
    expect(names).to.include.members(['ppp_generic (PPP)', 'l2tp_ppp (L2TP)', 'esp4 (XFRM ESP)', '/dev/ppp']);
    expect(names).not.to.include('xfrm_user (XFRM netlink)');
    expect(r.missing.every((m) => m.fix.length > 0)).to.equal(true);
    expect(r.degradation).to.equal('nft');
  });

  it('accepts a stock Debian kernel with loadable modules', () => {
    const r = assessLocal(debian);
    expect(r.missing).to.deep.equal([]);
    expect(r.fullStack).to.equal(true);
    expect(r.degradation).to.equal('netem');
  });

  it('asks for docker when no engine answers', () => {
    const r = assessLocal({ ...debian, dockerReachable: false, dockerError: 'connect ENOENT /var/run/docker.sock' });
    expect(r.available).to.equal(false);
    expect(r.missing[0]!.fix).to.match(/apt-get install -y docker.io/);
  });

  it('auto picks local when it runs the full stack, vm otherwise, and says why', () => {
    const vm = assessVm(microVm);
    expect(choose([assessLocal(debian), vm], 'auto').chosen).to.equal('local');
    const c = choose([assessLocal(microVm), vm], 'auto');
    expect(c.chosen).to.equal('vm');
    expect(c.reason).to.match(/missing: ppp_generic/);
    const none = choose([assessLocal(microVm), assessVm({ ...microVm, tools: {} })], 'auto');
    expect(none.chosen).to.equal(null);
  });
});
