import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Attached, Engine } from '../../src/lab/engine.js';
import { LabHost } from '../../src/hosts/lab-host.js';
import { AGENT_SOURCE, HOST_PATHS } from '../../src/hosts/paths.js';

/**
 * LabHost's agent install: the real agent (python3) started through a fake engine whose container "has"
 * a file only after putFiles put it there. A restarted container keeps its files, so the agent is copied
 * once; a container that lost them (recreated) gets a fresh copy when the agent does not answer.
 */
describe('LabHost: the agent is copied once per container', function () {
  this.timeout(20_000);
  let root: string;
  const children: ReturnType<typeof spawn>[] = [];
  before(() => {
    root = mkdtempSync(join(tmpdir(), 'vipdrill-labhost-'));
    for (const d of ['run/vipdrill/daemons', 'var/log/vipdrill', 'etc/vipdrill/daemons']) mkdirSync(join(root, d), { recursive: true });
  });
  after(() => {
    for (const c of children) c.kill('SIGKILL');
    rmSync(root, { recursive: true, force: true });
  });

  function fakeEngine() {
    const files = new Set<string>();
    const calls = { puts: 0, attaches: 0 };
    const engine = {
      info: { name: 'vm' },
      putFiles: (_c: string, fs: { path: string }[]) => {
        calls.puts++;
        for (const f of fs) files.add(f.path);
        return Promise.resolve();
      },
      attach: (_c: string, argv: string[]): Promise<Attached> => {
        calls.attaches++;
        // the container runs what it has: the agent when it was put there, else a path that does not exist
        const script = files.has(argv[2]!) ? AGENT_SOURCE : join(root, 'no-such-agent');
        const child = spawn('python3', ['-u', script, ...argv.slice(3)], { env: { ...process.env, VIPDRILL_AGENT_ROOT: root } });
        children.push(child);
        let tail = '';
        child.stderr.on('data', (d: Buffer) => (tail += d.toString()));
        return Promise.resolve({
          stdin: child.stdin,
          stdout: child.stdout,
          stderrTail: () => tail,
          closed: new Promise<void>((r) => child.on('exit', () => r())),
          close: () => child.kill(),
        });
      },
    } as unknown as Engine;
    return { engine, files, calls };
  }

  it('starts the agent it copied, and after a restart starts it again without a copy', async () => {
    const { engine, calls } = fakeEngine();
    const h = new LabHost('a', 'vipdrill-a', engine);
    await h.connect();
    expect(calls).to.deep.equal({ puts: 1, attaches: 1 });
    // the container restarts: its agent's stream ends, the next request opens a new one
    children.at(-1)!.kill();
    await new Promise((r) => setTimeout(r, 300));
    expect(await h.now()).to.be.a('number');
    expect(calls).to.deep.equal({ puts: 1, attaches: 2 });
    h.release();
  });

  it('copies the agent again when the one it started from the copy does not answer (a recreated container)', async () => {
    const { engine, files, calls } = fakeEngine();
    const h = new LabHost('b', 'vipdrill-b', engine);
    await h.connect();
    children.at(-1)!.kill();
    files.delete(HOST_PATHS.agent); // recreated: the file is gone
    await new Promise((r) => setTimeout(r, 300));
    expect(await h.now()).to.be.a('number');
    expect(calls).to.deep.equal({ puts: 2, attaches: 3 });
    h.release();
  });
});
