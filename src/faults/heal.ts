import { VipdrillError, errorMessage } from '../errors.js';
import type { Engine } from '../lab/engine.js';
import type { LabContext } from '../lab/lab.js';
import { LabHosts } from '../hosts/lab-hosts.js';
import { planFault } from './catalog.js';
import { faultEnv } from './env.js';
import { readJournal, writeJournal } from './journal.js';

/** Revert every journalled fault, newest first, with the runner's own revert code; returns what was reverted and what failed. */
export async function revertJournal(engine: Engine, hosts: LabHosts): Promise<{ reverted: string[]; errors: string[] }> {
  const lab = hosts.lab.record.name;
  const reverted: string[] = [];
  const errors: string[] = [];
  for (const e of [...readJournal(lab)].reverse()) {
    try {
      const f = planFault(faultEnv(engine, hosts, { master: e.master, backup: e.backup, id: `vipdrill-${e.id}` }), e.step);
      await f.revert();
      reverted.push(`${e.id} (${f.describe})`);
    } catch (err) {
      errors.push(`revert of ${e.id} failed: ${errorMessage(err)}`);
    }
  }
  writeJournal(lab, []);
  return { reverted, errors };
}

/**
 * `vipdrill heal`: first the reverts of the faults a killed run journalled (the runner's own revert code),
 * then every container running again and swept free of every fault vipdrill can leave, without knowing
 * which were injected (vipdrill-fault heal-all: its nft tables, netem, planted secrets, operator
 * priority, notify flags, daemons left dead, links down). Returns what was undone per host (`journal`
 * lists the replayed reverts).
 */
export async function healLab(engine: Engine, lab: LabContext): Promise<Record<string, string[]>> {
  await using hosts = new LabHosts(engine, lab);
  const out: Record<string, string[]> = {};
  const before = new Map<string, string>();
  for (const h of hosts.hosts.keys()) {
    before.set(h, await hosts.host(h).containerState());
    await hosts.ensureRunning(h);
  }
  const j = await revertJournal(engine, hosts);
  if (j.reverted.length > 0 || j.errors.length > 0) out.journal = [...j.reverted, ...j.errors];
  for (const h of hosts.hosts.keys()) {
    const host = hosts.host(h);
    const r = await host.act<{ out: string }>('fault', { argv: ['heal-all'] }).catch((e: unknown) => {
      throw new VipdrillError('FAULT_FAILED', `heal of ${h} failed: ${errorMessage(e)}`);
    });
    const undone = r.result.out.trim().split(/\s+/).filter(Boolean);
    const st = before.get(h);
    if (st !== 'running') undone.unshift(`container:${st ?? 'missing'}`);
    // hosts whose boot setup is routes only get it again (a node's would reset its MASTER forwarding)
    if (!(h in lab.topology.nodes)) await host.act('fault', { argv: ['boot-setup'] });
    out[h] = undone;
  }
  return out;
}
