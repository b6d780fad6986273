import { expect } from 'chai';
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cli, fixture, repoRoot } from '../helpers.js';

/**
 * The malformed-input corpus (test/fixtures/malformed, written by test/make-malformed-corpus.ts),
 * plus the inputs that cannot live in git (a FIFO, a device, a directory, files over the size limit).
 * Every one must end in under 10 s with exit 2, name its file, say what was expected, print no stack
 * trace, and write nothing.
 */
interface Case {
  class: string;
  file: string;
  cmd: 'validate' | 'report';
  expect: string;
}

const corpus = JSON.parse(readFileSync(fixture('malformed', 'cases.json'), 'utf8')) as Case[];

function run(args: string[]): Promise<{ status: number | null; out: string; ms: number }> {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const p = spawn(process.execPath, [cli, ...args], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const killer = setTimeout(() => p.kill('SIGKILL'), 15_000);
    p.on('close', (status) => {
      clearTimeout(killer);
      resolve({ status, out, ms: performance.now() - t0 });
    });
  });
}

/** Every file under a folder with its size and modification time: what "nothing was written" compares. */
function listing(dir: string): string[] {
  return (readdirSync(dir, { recursive: true }) as string[]).map((f) => {
    const st = lstatSync(join(dir, f));
    return `${f} ${st.size} ${st.mtimeMs}`;
  }).sort();
}

describe('malformed inputs (the corpus)', function () {
  this.timeout(300_000);
  let work: string;
  const results = new Map<string, { status: number | null; out: string; ms: number }>();
  const extra: Case[] = [];
  let snapshot: string[];

  before(async () => {
    work = mkdtempSync(join(tmpdir(), 'vipdrill-malformed-'));
    cpSync(fixture('malformed'), join(work, 'c'), { recursive: true });
    // the cases git cannot hold
    const x = join(work, 'c', 'runtime');
    mkdirSync(x);
    spawnSync('mkfifo', [join(x, 'fifo.yaml')]);
    extra.push({ class: 'special-file', file: 'runtime/fifo.yaml', cmd: 'validate', expect: 'expected a regular file, got a FIFO' });
    extra.push({ class: 'special-file', file: '/dev/zero', cmd: 'validate', expect: 'expected a regular file, got a device' });
    symlinkSync('loop.yaml', join(x, 'loop.yaml'));
    extra.push({ class: 'special-file', file: 'runtime/loop.yaml', cmd: 'validate', expect: 'expected a file, got a symbolic link loop' });
    mkdirSync(join(x, 'dir.yaml'));
    extra.push({ class: 'special-file', file: 'runtime/dir.yaml', cmd: 'validate', expect: 'a directory with no .yaml or .yml files' });
    writeFileSync(join(x, 'two-mib.yaml'), `name: big\ndescription: ${'x'.repeat(2 * 1024 * 1024)}\n`);
    extra.push({ class: 'size', file: 'runtime/two-mib.yaml', cmd: 'validate', expect: 'too large: 2097176 bytes, the limit is 1048576 bytes (1 MiB)' });
    writeFileSync(join(x, 'forty-two-mb.yaml'), '');
    truncateSync(join(x, 'forty-two-mb.yaml'), 42 * 1000 * 1000);
    extra.push({ class: 'size', file: 'runtime/forty-two-mb.yaml', cmd: 'validate', expect: 'too large: 42000000 bytes' });
    snapshot = listing(join(work, 'c'));
    const all = [...corpus, ...extra];
    // two at a time: this machine has two cores
    const queue = [...all];
    await Promise.all(
      [0, 1].map(async () => {
        for (let c = queue.shift(); c; c = queue.shift()) {
          const path = c.file.startsWith('/') ? c.file : join(work, 'c', c.file);
          results.set(c.file, await run(c.cmd === 'validate' ? ['validate', path] : ['report', path, '--format', 'json,junit,md,html']));
        }
      }),
    );
  });

  after(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('holds at least 100 cases, of every class', () => {
    const classes = new Set(corpus.map((c) => c.class));
    expect(corpus.length).to.be.at.least(100);
    expect([...classes].sort()).to.deep.equal(['encoding', 'profile', 'run-folder', 'scenario-semantic', 'scenario-structure', 'sweep', 'topology', 'yaml-limits', 'yaml-syntax']);
  });

  for (const c of [...corpus, { class: 'special-file', file: 'runtime/fifo.yaml' }, { class: 'special-file', file: '/dev/zero' }, { class: 'special-file', file: 'runtime/dir.yaml' }, { class: 'special-file', file: 'runtime/loop.yaml' }, { class: 'size', file: 'runtime/two-mib.yaml' }, { class: 'size', file: 'runtime/forty-two-mb.yaml' }] as Case[]) {
    it(`${c.class}: ${c.file}`, () => {
      const want = [...corpus, ...extra].find((x) => x.file === c.file)!;
      const r = results.get(c.file)!;
      expect(r, 'ran').to.not.equal(undefined);
      expect(r.status, r.out).to.equal(2);
      expect(r.ms, 'seconds').to.be.below(10_000);
      expect(r.out, 'names the file').to.contain(c.file.replace(/^\//, ''));
      expect(r.out, 'says what was expected').to.contain(want.expect);
      expect(r.out, 'no stack trace').not.to.match(/\n\s+at .+:\d+:\d+\)?\n/);
      expect(r.out, 'no crash').not.to.match(/unexpected error|TypeError|RangeError|heap out of memory/);
    });
  }

  it('nothing was written: every file of the corpus is as it was', () => {
    expect(listing(join(work, 'c'))).to.deep.equal(snapshot);
  });
});
