import { engineLine } from '../report/table.js';
import type { EngineInfo } from '../lab/engine.js';
import type { LabStatus, UpResult } from '../lab/lab.js';
import type { PreflightReport } from '../lab/preflight.js';
import { formatMs } from '../util/time.js';

const out = (s = '') => process.stdout.write(s + '\n');

export function printPreflight(r: PreflightReport): void {
  for (const e of r.engines) {
    out(`engine ${e.name}: ${e.available ? 'available' : 'not available'}, full stack: ${e.fullStack ? 'yes' : 'no'}, loss/delay faults: ${e.degradation}`);
    for (const m of e.missing) out(`  missing ${m.name}: ${m.why}\n    fix: ${m.fix}`);
    for (const n of e.notes) out(`  note: ${n}`);
  }
  out(r.chosen ? `chosen: ${r.chosen} (${r.reason})` : `no engine can run the full stack: ${r.reason}`);
}


export function printUp(r: UpResult, info: EngineInfo): void {
  out(`lab ${r.record.name} is up (run ${r.record.runId}, profile ${r.profile.name}) on ${engineLine(info)}`);
  for (const s of r.stages) out(`  ${s.stage.padEnd(36)} ${formatMs(s.ms).padStart(9)}`);
  const total = r.stages.reduce((a, s) => a + s.ms, 0);
  out(`  ${'total'.padEnd(36)} ${formatMs(total).padStart(9)}`);
  for (const w of r.warnings) out(`  warning: ${w}`);
}

export function printLabStatus(s: LabStatus): void {
  out(`lab ${s.lab} (${s.phase}, run ${s.runId}, profile ${s.profile}) on ${engineLine(s.engineInfo)}`);
  out(`VIP holder: ${s.vipHolder ?? (s.vipHolders.length > 1 ? `SPLIT BRAIN (${s.vipHolders.join(', ')})` : 'none')}`);
  for (const n of s.nodes) {
    const d = Object.entries(n.daemons).map(([k, v]) => `${k}:${v ? 'up' : 'DOWN'}`).join(' ');
    out(`  node ${n.name.padEnd(8)} ${n.vrrpState.padEnd(8)} ${n.holdsVip ? 'VIP ' : '    '} ${n.containerState.padEnd(8)} ${d}`);
  }
  const c = s.client;
  out(`  client: ike=${c.ikeSa ? 'up' : 'down'} l2tp=${c.l2tpTunnel ? 'up' : 'down'} ppp=${c.pppUp ? `up (${c.tunnelIp})` : 'down'} lan=${c.lanReachable ? 'reachable' : 'unreachable'}`);
}
