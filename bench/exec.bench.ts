/**
 * npm run bench [-- --lab <name>]: what one controller round trip into the lab costs — docker exec on
 * the local engine, and docker exec over SSH into the VM engine's lab. These are the reasons vipdrill
 * takes every timestamp inside the lab (ping -D, the daemons' stamped logs, keepalived's own lines)
 * instead of around an exec: a round trip is milliseconds locally and tens to hundreds under TCG.
 */
import Docker from 'dockerode';
import { Bench } from 'tinybench';
import { LABEL_LAB } from '../src/lab/engine.js';
import { LocalEngine } from '../src/lab/engines/local.js';
import { openEngineForLab } from '../src/lab/lifecycle.js';
import { listLabs, requireLab } from '../src/lab/state.js';

const args = process.argv.slice(2);
const labArg = args.includes('--lab') ? args[args.indexOf('--lab') + 1] : undefined;
const bench = new Bench({ time: 3000, warmupTime: 300 });
const cleanups: (() => Promise<unknown>)[] = [];

// local engine: a throwaway container of the newest local lab image (labelled: `vipdrill reap` removes it)
try {
  const local = await LocalEngine.connect();
  const docker = new Docker();
  const images = (await docker.listImages({ filters: { reference: ['vipdrill/lab'] } })).sort((a, b) => b.Created - a.Created);
  if (images[0]) {
    const c = await docker.createContainer({ Image: images[0].RepoTags![0]!, Entrypoint: ['sleep', '600'], Labels: { [LABEL_LAB]: `bench-${process.pid}` }, name: `vipdrill-bench-${process.pid}` });
    await c.start();
    cleanups.push(() => c.remove({ force: true }));
    const name = `vipdrill-bench-${process.pid}`;
    bench.add('local: docker exec true', async () => void (await local.exec(name, ['true'])));
    bench.add('local: docker exec (read the lab clock)', async () => void (await local.exec(name, ['bash', '-c', 'echo $EPOCHREALTIME'])));
  } else console.log('local engine: no vipdrill/lab image here (vipdrill up builds it); skipped');
} catch (e) {
  console.log(`local engine unavailable: ${(e as Error).message}; skipped`);
}

// VM engine: a running lab's client, over SSH
const lab = labArg ?? listLabs().find((l) => l.engine === 'vm')?.name;
if (lab) {
  const record = requireLab(lab);
  const engine = await openEngineForLab(record);
  cleanups.push(() => engine.close());
  const client = record.containers.client!;
  bench.add(`${record.engine} (${engine.info.accel}): docker exec true in ${client}`, async () => void (await engine.exec(client, ['true'])));
  bench.add(`${record.engine} (${engine.info.accel}): read the lab clock in ${client}`, async () => void (await engine.exec(client, ['bash', '-c', 'echo $EPOCHREALTIME'])));
} else console.log('VM engine: no lab is up (vipdrill up, then npm run bench -- --lab <name>); skipped');

try {
  await bench.run();
  const rows = bench.tasks.map((t) => {
    const r = t.result as { latency?: { p50?: number; p99?: number; min?: number; max?: number; samplesCount?: number } } | undefined;
    const l = r?.latency;
    return { task: t.name, samples: l?.samplesCount ?? 0, 'min ms': l?.min?.toFixed(2), 'median ms': l?.p50?.toFixed(2), 'p99 ms': l?.p99?.toFixed(2), 'max ms': l?.max?.toFixed(2) };
  });
  console.table(rows);
  console.log('A probe every 5 ms cannot be driven from here: timestamps are taken inside the lab.');
} finally {
  for (const c of cleanups) await c().catch(() => {});
}
