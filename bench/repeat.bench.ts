/**
 * npm run bench: the cost of one drill repeat on a running lab (`vipdrill up`; `-- --lab <name>`): a
 * node-crash repeat's wall time, the span from the fault to the client's tunnel seen back (what the
 * drill is about), the rest (the overhead: baseline, calm window, watchers, heal, the node's restart,
 * the failback, reading the evidence), and the lab round trips it took. `--repeats N` (default 1).
 */
import { loadLabInputs } from '../src/lab/lab.js';
import { openEngineForLab } from '../src/lab/lifecycle.js';
import { requireLab } from '../src/lab/state.js';
import { benchArg, benchLab } from './args.js';
import { LabHosts } from '../src/hosts/lab-hosts.js';
import { runScenario } from '../src/run/scenario.js';
import { loadScenario } from '../src/scenario/load.js';
import { silentProgress } from '../src/util/progress.js';
import { packageRoot } from '../src/util/paths.js';
import { join } from 'node:path';

const repeats = Number(benchArg('repeats') ?? 1);
const lab = benchLab();
if (!lab) {
  console.log('repeat bench: no lab is up (vipdrill up, then npm run bench -- --lab <name>); skipped');
} else {
  const record = requireLab(lab);
  const engine = await openEngineForLab(record);
  const ctx = { ...loadLabInputs(record.topologyFile, record.profile, record.name), record };
  const hosts = new LabHosts(engine, ctx);
  const sc = loadScenario(join(packageRoot, 'scenarios', 'node-crash.yaml'));
  const rows = [];
  try {
    for (let k = 1; k <= repeats; k++) {
      const t0 = performance.now();
      const r = await runScenario(engine, ctx, sc, { repeat: k, repeats, progress: silentProgress, hosts });
      const wall = performance.now() - t0;
      const span = r.metrics.tunnelRestoredMs ?? NaN;
      if (r.verdict !== 'passed') console.log(`repeat ${k}: ${r.verdict}: ${r.reason ?? r.expectations.filter((x) => !x.ok).map((x) => `${x.name}: ${x.detail}`).join('; ')}`);
      // where the overhead goes, on the lab clock: the node's start (revert asked → returned), the
      // failback (→ back at baseline), and the rest of the wall time (baseline, calm, evidence, analysis)
      const rev = r.events.find((e) => e.kind === 'fault.revert');
      const asked = typeof rev?.data?.asked === 'number' ? rev.data.asked : undefined;
      const back = r.events.filter((e) => e.kind === 'baseline.ok').at(-1);
      const s = (ms: number) => (ms / 1000).toFixed(1);
      const nodeBack = rev && asked !== undefined ? (rev.t - asked) * 1000 : NaN;
      // of the node's start, the engine's part: from the revert asked to the node's first daemon started
      // (its container start and boot setup; the agent's attach comes after it)
      const crashed = r.holderAtFault;
      const firstDaemon = asked === undefined ? undefined : r.hostEvents?.find((e) => e.ev === 'daemon.start' && e.host === crashed && e.t >= asked);
      const failback = rev && back ? (back.t - rev.t) * 1000 : NaN;
      rows.push({ repeat: k, verdict: r.verdict, 'wall s': s(wall), 'fault→tunnel s': s(span), 'overhead s': s(wall - span), 'node start s': s(nodeBack), 'of it to 1st daemon s': s(firstDaemon && asked !== undefined ? (firstDaemon.t - asked) * 1000 : NaN), 'failback s': s(failback), 'rest s': s(wall - span - nodeBack - failback), 'of it calm wait s': s(r.calm?.waitedMs ?? NaN), 'round trips': r.roundTrips, 'lag p90 ms': r.starvation?.lagP90Ms });
    }
    console.table(rows);
  } finally {
    hosts.release();
    await engine.close();
  }
}
