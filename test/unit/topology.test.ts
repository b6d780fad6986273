import { expect } from 'chai';
import { ConfigError } from '../../src/errors.js';
import { defaultTopologyPath, loadProfile, loadTopology } from '../../src/topology/load.js';
import { join } from 'node:path';
import { fixture, repoRoot } from '../helpers.js';

function issuesOf(file: string): string[] {
  try {
    loadTopology(fixture('topologies', file));
  } catch (e) {
    expect(e).to.be.instanceOf(ConfigError);
    return (e as ConfigError).message.split('\n');
  }
  throw new Error(`${file} was accepted`);
}

describe('topology files', () => {
  it('loads the default topology and the fixture', () => {
    const t = loadTopology(defaultTopologyPath()).topology;
    expect(Object.keys(t.nodes)).to.deep.equal(['a', 'b']);
    expect(t.vips.wan).to.equal('10.213.1.100');
    expect(loadTopology(fixture('topologies', 'good.yaml')).topology.name).to.equal('t');
  });

  it('names file, field and expectation for a wrong type', () => {
    const [msg] = issuesOf('wrong-type.yaml');
    expect(msg).to.match(/wrong-type\.yaml:\d+:\d+: nodes\.a\.priority: expected a whole number from 1 to 254/);
  });

  it('rejects unknown keys', () => {
    expect(issuesOf('unknown-key.yaml').join('\n')).to.match(/unknown-key\.yaml:\d+:\d+: client: unknown key "password"/);
  });

  it('rejects overlapping subnets', () => {
    expect(issuesOf('overlapping-subnets.yaml').join('\n')).to.match(/networks\.lan\.subnet: 10\.213\.1\.0\/25 overlaps networks\.wan\.subnet \(10\.213\.1\.0\/24\)/);
  });

  it('rejects a VIP outside its subnet', () => {
    expect(issuesOf('vip-outside-subnet.yaml').join('\n')).to.match(/vips\.wan: 10\.213\.9\.100 is outside networks\.wan\.subnet \(10\.213\.1\.0\/24\)/);
  });

  it('rejects a document that is not a mapping', () => {
    expect(issuesOf('not-a-mapping.yaml')[0]).to.match(/not-a-mapping\.yaml: expected a mapping .* got a list/);
  });

  it('refuses the documentation ranges these hosts route', () => {
    expect(issuesOf('documentation-range.yaml').join('\n')).to.match(/networks\.wan\.subnet: 198\.51\.100\.0\/24 overlaps the documentation range/);
  });

  it('loads the NAT-client variant, and checks the client sits on the home network behind the router', () => {
    const t = loadTopology(join(repoRoot, 'lab', 'topologies', 'nat-client.yaml')).topology;
    expect(t.client.nat).to.deep.equal({ subnet: '10.213.4.0/24', inside: '10.213.4.10', outside: '10.213.1.60' });
    expect(issuesOf('nat-client-on-wan.yaml').join('\n')).to.match(/client\.wan: 10\.213\.1\.50 is outside client\.nat\.subnet \(10\.213\.4\.0\/24\)/);
  });

  it('calls a missing section missing', () => {
    expect(issuesOf('missing-lanhost.yaml').join('\n')).to.match(/missing-lanhost\.yaml(:\d+:\d+)?: lanhost: missing/);
  });
});

describe('profiles', () => {
  it('ships fast and distro-defaults', () => {
    expect(loadProfile('fast').vrrp.advertInt).to.equal(0.3);
    expect(loadProfile('distro-defaults').ike.dpdTimeout).to.equal(150);
  });

  it('names an unknown profile', () => {
    expect(() => loadProfile('nope')).to.throw(ConfigError, /no profile named "nope"/);
  });
});

describe('node names', () => {
  it('a node named like a role is refused: scenarios could not tell them apart', async () => {
    const { mkdtempSync, readFileSync, writeFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const dir = mkdtempSync(join(tmpdir(), 'vipdrill-topo-'));
    const file = join(dir, 'roles.yaml');
    writeFileSync(file, readFileSync(defaultTopologyPath(), 'utf8').replace('  a: {', '  master: {').replace('  b: {', '  backup: {'));
    expect(() => loadTopology(file)).to.throw(ConfigError, /nodes: expected node names that are not role words \(master, backup, client, lanhost, original, other, all\)/);
  });
});
