import { ConfigError, VipdrillError } from '../errors.js';
import { loadLabInputs } from '../lab/lab.js';
import { leaseOptionsOf } from '../lab/remote.js';
import { formatPlan, planScenario } from '../run/plan.js';
import { remoteScenarioIssues } from '../run/remote-checks.js';
import { targetIssues, topologyPathOf, validateScenarios } from '../scenario/load.js';
import { displayPath } from '../topology/load.js';

const json = (value: unknown) => process.stdout.write(JSON.stringify(value, null, 2) + '\n');

/**
 * Before real hosts are touched: --yes, or the topology's name typed on a terminal. Anything else is a
 * refusal (exit 2) that changed nothing.
 */
export function confirmRealHosts(yes: boolean | undefined): (what: string) => Promise<void> {
  return async (what) => {
    if (yes) return;
    if (!process.stdin.isTTY) throw new VipdrillError('REMOTE_REFUSED', `this would drill ${what}; real hosts need --yes (or a confirmation typed on a terminal). Nothing was run; 'vipdrill plan' shows every command first`);
    const { createInterface } = await import('node:readline/promises');
    const rl = createInterface({ input: process.stdin, output: process.stderr });
    const name = /the real hosts of (\S+)/.exec(what)?.[1] ?? 'yes';
    const answer = await rl.question(`vipdrill: this will drill ${what}.\nType ${name} to go on: `);
    rl.close();
    if (answer.trim() !== name) throw new VipdrillError('REMOTE_REFUSED', 'not confirmed: nothing was run');
  };
}

/** `vipdrill plan` and `run --dry-run`: every lease, inject and revert per host, from the planners a run uses; nothing is reached. */
export async function planCommand(files: string[], o: { topology?: string; profile?: string; json?: boolean }): Promise<void> {
  const checked = validateScenarios(files);
  const bad = checked.filter((v) => !v.ok || v.kind !== 'scenario');
  if (bad.length > 0) throw new ConfigError(bad.flatMap((v) => (v.issues.length > 0 ? v.issues : [{ file: v.file, path: '', message: `a ${v.kind} file, not a scenario` }])));
  const out: unknown[] = [];
  const scenarios = checked.map((v) => v.scenario!);
  const inputsOf = (sc: (typeof scenarios)[number]) => loadLabInputs(o.topology ?? topologyPathOf(sc.topology), o.profile ?? sc.profile);
  // every scenario's problems at once, before any plan is printed
  const issues = scenarios.flatMap((sc) => {
    const t = inputsOf(sc).topology;
    return [...targetIssues(sc, t).map((i) => ({ file: displayPath(sc.file), ...i })), ...remoteScenarioIssues(sc, t)];
  });
  if (issues.length > 0) throw new ConfigError(issues);
  for (const sc of scenarios) {
    const inputs = inputsOf(sc);
    const t = inputs.topology;
    const hosts = t.remote ? Object.keys(t.remote.hosts) : [...Object.keys(t.nodes), 'client', 'lanhost'];
    const lab = { ...inputs, record: { name: t.name, runId: 'plan', engine: t.remote ? ('remote' as const) : ('local' as const), topologyFile: inputs.loaded.file, profile: inputs.profile.name, createdAt: '', phase: 'ready' as const, containers: Object.fromEntries(hosts.map((h) => [h, h])) } };
    const leases = t.remote ? leaseOptionsOf(t.remote) : undefined;
    const steps = await planScenario(sc, lab, leases);
    if (o.json) out.push({ scenario: sc.name, file: sc.file, topology: t.name, remote: !!t.remote, steps });
    else process.stdout.write(formatPlan(sc, lab, steps, leases));
    if (steps.some((s) => s.error)) process.exitCode = 2;
  }
  if (o.json) json(out);
}

