import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadScenario } from '../../src/scenario/load.js';
import { firstInvalidUtf8 } from '../../src/util/input.js';
import { cli, configIssues, repoRoot } from '../helpers.js';

const issuesOf = configIssues;

describe('the input layer', () => {
  let dir: string;
  before(() => (dir = mkdtempSync(join(tmpdir(), 'vipdrill-input-'))));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const file = (name: string, text: string) => {
    const f = join(dir, name);
    writeFileSync(f, text);
    return f;
  };

  it('an error names file:line:column of the field, and a missing field is called missing', () => {
    const f = file('s.yaml', 'name: x\ndescription: y\nrepeat: many\nsteps:\n  - sleep: 1s\n');
    const [i] = issuesOf(() => loadScenario(f));
    expect(i!.file).to.match(/s\.yaml:3:9$/);
    expect(i!.path).to.equal('repeat');
    const [m] = issuesOf(() => loadScenario(file('m.yaml', 'name: x\nsteps:\n  - sleep: 1s\n')));
    expect([m!.path, m!.message]).to.deep.equal(['description', 'missing: expected a sentence saying what the drill shows']);
  });

  it('an unknown key gets a "did you mean" (edit distance), pointing at the key itself', () => {
    const [i] = issuesOf(() => loadScenario(file('k.yaml', 'name: x\ndescription: y\nsteps:\n  - sleep: 1s\nexpect:\n  vipMovd: true\n')));
    expect(i!.message).to.equal('unknown key "vipMovd" (did you mean "vipMoved"?)');
    expect(i!.file).to.match(/k\.yaml:6:3$/);
    const [far] = issuesOf(() => loadScenario(file('f.yaml', 'name: x\ndescription: y\nsteps:\n  - sleep: 1s\nzzzzzz: 1\n')));
    expect(far!.message).to.match(/^unknown key "zzzzzz"; expected one of name, description, topology, profile, repeat, steps, expect$/);
  });

  it('the first invalid UTF-8 byte is found where it is', () => {
    expect(firstInvalidUtf8(Buffer.from('abc'))).to.equal(3);
    expect(firstInvalidUtf8(Buffer.from([0x61, 0xe9, 0x62]))).to.equal(1);
    expect(firstInvalidUtf8(Buffer.from([0x61, 0xc3, 0xa9, 0xc3]))).to.equal(3);
    expect(firstInvalidUtf8(Buffer.from([0xe0, 0x80, 0x80]))).to.equal(0);
    expect(firstInvalidUtf8(Buffer.from('€😀'))).to.equal(7);
  });

  it('validate - reads a scenario from standard input', () => {
    const ok = spawnSync(process.execPath, [cli, 'validate', '-'], { cwd: repoRoot, input: 'name: x\ndescription: y\nsteps:\n  - fault: node-crash\n    target: master\n    for: 1s\n', encoding: 'utf8' });
    expect(ok.status, ok.stdout + ok.stderr).to.equal(0);
    expect(ok.stdout).to.match(/^ok +<stdin> +\(x: 1 steps\)/m);
    const bad = spawnSync(process.execPath, [cli, 'validate', '-'], { cwd: repoRoot, input: Buffer.from([0x6e, 0xe9]), encoding: 'utf8' });
    expect(bad.status).to.equal(2);
    expect(bad.stdout).to.match(/FAIL +<stdin>[\s\S]*not UTF-8: the first invalid byte is at offset 1/);
  });
});
