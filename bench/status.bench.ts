/**
 * npm run bench: one full status sample of a running lab (every node's VRRP state, VIPs and daemons, and
 * the client's tunnel with a ping through it): the old way (one `docker exec vipdrill-ctl` per host) and
 * through the hosts' resident agents (one request each over the live streams). Needs a lab that is up
 * (`vipdrill up`); `-- --lab <name>` picks one. Quotes n, median, p95 and max.
 */
import { LabHosts } from '../src/hosts/lab-hosts.js';
import { loadLabInputs } from '../src/lab/lab.js';
import { openEngineForLab } from '../src/lab/lifecycle.js';
import { requireLab } from '../src/lab/state.js';
import { benchArg, benchLab } from './args.js';
import { sample } from '../src/run/observe.js';
import { execStatus } from './exec-status.js';

const n = Number(benchArg('n') ?? 20);
const lab = benchLab();
if (!lab) {
  console.log('status bench: no lab is up (vipdrill up, then npm run bench -- --lab <name>); skipped');
} else {
  const record = requireLab(lab);
  const engine = await openEngineForLab(record);
  const ctx = { ...loadLabInputs(record.topologyFile, record.profile, record.name), record };
  const hosts = new LabHosts(engine, ctx);
  const q = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))]!;
  const time = async (label: string, fn: () => Promise<unknown>) => {
    await fn(); // warm: connects the agents, the first time
    const ms: number[] = [];
    for (let i = 0; i < n; i++) {
      const t0 = performance.now();
      await fn();
      ms.push(performance.now() - t0);
    }
    return { task: label, n, 'median ms': q(ms, 0.5).toFixed(1), 'p95 ms': q(ms, 0.95).toFixed(1), 'max ms': Math.max(...ms).toFixed(1) };
  };
  try {
    const rows = [
      await time(`${record.engine} (${engine.info.accel}): status by docker exec per host`, () => execStatus(engine, ctx)),
      await time(`${record.engine} (${engine.info.accel}): status through the agents`, () => sample(hosts, 'lan')),
    ];
    console.table(rows);
    console.log(`agent round trips so far: ${hosts.roundTrips}`);
  } finally {
    hosts.release();
    await engine.close();
  }
}
