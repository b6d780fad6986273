/**
 * npm run bench: switching a running lab (`vipdrill up`; `-- --lab <name>`) to another tune point and
 * back: render and write the stack, the pair takes what changed (keepalived reloads: the VIP stays), the
 * client's daemons restart, the baseline, then the timers read back from
 * the daemons (issue 12's target: at most 30 s under TCG). `--switches N` (default 2: 1 s adverts, then
 * the lab's own profile again). `--rt-priority N` runs both with keepalived's VRRP process at that realtime
 * priority (0: not realtime, so keepalived reloads instead of restarting from the second switch on).
 */
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { loadLabInputs } from '../src/lab/lab.js';
import { openEngineForLab } from '../src/lab/lifecycle.js';
import { requireLab, writeLab } from '../src/lab/state.js';
import { benchArg, benchLab } from './args.js';
import { LabHosts } from '../src/hosts/lab-hosts.js';
import { switchProfile } from '../src/tune/switch.js';
import { silentProgress } from '../src/util/progress.js';

const switches = Number(benchArg('switches') ?? 2);
const lab = benchLab();
if (!lab) {
  console.log('switch bench: no lab is up (vipdrill up, then npm run bench -- --lab <name>); skipped');
} else {
  const record = requireLab(lab);
  const ownProfile = record.profile;
  const engine = await openEngineForLab(record);
  const ctx = { ...loadLabInputs(record.topologyFile, record.profile, record.name), record };
  const rt = benchArg('rt-priority');
  const own = rt === undefined ? ctx.profile : { ...ctx.profile, vrrp: { ...ctx.profile.vrrp, rtPriority: Number(rt) } };
  const other = { ...own, name: `${own.name}-bench`, vrrp: { ...own.vrrp, advertInt: own.vrrp.advertInt === 1 ? 2 : 1 } };
  const hosts = new LabHosts(engine, ctx);
  const rows = [];
  try {
    // once per process, as tune does before its first point: not a switch's cost
    const a0 = performance.now();
    await hosts.connect();
    console.log(`switch bench: agents attached on ${hosts.hosts.size} hosts in ${((performance.now() - a0) / 1000).toFixed(1)} s`);
    for (let k = 1; k <= switches; k++) {
      const p = k % 2 === 1 ? other : own;
      const t0 = performance.now();
      const r = await switchProfile(engine, hosts, ctx, p, join(tmpdir(), `vipdrill-switch-bench-${k}.yaml`), silentProgress);
      rows.push({ switch: k, to: `advert ${p.vrrp.advertInt} s`, 'switch s': (r.ms / 1000).toFixed(1), 'write s': (r.steps.write / 1000).toFixed(1), 'pair s': (r.steps.pair / 1000).toFixed(1), 'client s': `${(r.steps.client / 1000).toFixed(1)} (${r.client})`, 'VRRP moves': r.vrrpTransitions, 'with timer check s': ((performance.now() - t0) / 1000).toFixed(1), 'adverts seen ms': r.timers.advert.spacingMedianMs?.toFixed(0), timers: r.timers.ok ? 'as asked' : r.timers.problems.join('; ') });
    }
    console.table(rows);
  } finally {
    record.profile = ownProfile;
    writeLab(record);
    hosts.release();
    await engine.close();
  }
}
