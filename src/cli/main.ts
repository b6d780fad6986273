#!/usr/bin/env node
import { Command, CommanderError, Option } from 'commander';
import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { loadRun } from '../report/load.js';
import { FORMATS, writeReports, type Format } from '../report/index.js';
import { ConfigError, PreflightError, VipdrillError } from '../errors.js';
import { defaultTopologyPath } from '../topology/load.js';
import { packageRoot } from '../util/paths.js';
import { consoleProgress } from '../util/progress.js';
import { formatMs, parseDuration } from '../util/time.js';
import { printRemedies, printSuite, printTune, printValidation } from './run.js';
import { tuneCommand } from '../tune/run.js';
import { parseChange } from '../tune/remedies.js';
import { tryRemediesCommand } from '../tune/try-remedies.js';
import { expandScenarioArgs, loadSuite, validateScenarios } from '../scenario/load.js';
import { runSuite } from '../run/suite.js';
import { scenarioJsonSchema } from '../scenario/json-schema.js';
import { sweepJsonSchema } from '../tune/sweep.js';
import { printLabStatus, printPreflight, printUp } from './format.js';
import { downCommand, openEngineForLab, reapCommand, upCommand } from '../lab/lifecycle.js';
import { status } from '../lab/lab.js';
import { preflight } from '../lab/select.js';
import { requireLab, writeLab } from '../lab/state.js';
import { healLab } from '../faults/heal.js';
import { confirmRealHosts, planCommand } from './plan.js';

const version = (JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8')) as { version: string }).version;

function json(value: unknown): void {
  process.stdout.write(JSON.stringify(value, null, 2) + '\n');
}

const engineOption = () => new Option('--engine <engine>', 'where the lab runs: auto picks local when its kernel runs the full stack, else vm').choices(['auto', 'local', 'vm']).default('auto');

const program = new Command();
program
  .name('vipdrill')
  .description('Failover drills for HA L2TP/IPsec VPN endpoints (keepalived + strongSwan + xl2tpd + pppd)')
  .version(version)
  .showHelpAfterError()
  // usage errors are exit 2 (1 is reserved for a failed verdict): commander throws, report() decides
  .exitOverride();

program
  .command('preflight')
  .description('check which engines can run the lab here, and what is missing with the fix for each')
  .addOption(engineOption())
  .option('--json', 'print JSON')
  .action(async (o: { engine: 'auto' | 'local' | 'vm'; json?: boolean }) => {
    const report = await preflight(o.engine);
    // an engine asked for by name must run the full stack (up --wait vrrp may still use a partial one)
    const asked = o.engine === 'auto' ? undefined : report.engines.find((e) => e.name === o.engine);
    const partial = asked && !asked.fullStack ? `--engine ${o.engine} cannot run the full stack here: missing ${asked.missing.map((m) => `${m.name} (fix: ${m.fix})`).join('; ')}` : undefined;
    if (o.json) json(partial ? { ...report, fullStack: false, problem: partial } : report);
    else {
      printPreflight(report);
      if (partial) process.stderr.write(`vipdrill: ${partial}\n`);
    }
    if (!report.chosen || partial) process.exitCode = 2;
  });

program
  .command('up')
  .description('start a lab from a topology file and wait until the tunnel works')
  .option('-t, --topology <file>', 'topology file', defaultTopologyPath())
  .option('--profile <name>', 'tunables profile (lab/profiles/<name>.yaml or a path); default: the topology\'s')
  .addOption(engineOption())
  .option('--name <lab>', 'lab name (default: the topology\'s name)')
  .addOption(new Option('--wait <until>', 'what "up" means: tunnel (client reaches the LAN through ppp0) or vrrp (one VIP holder)').choices(['tunnel', 'vrrp']).default('tunnel'))
  .option('--timeout <duration>', 'deadline for each wait stage', '180s')
  .option('--keep-on-failure', 'leave containers/VM in place when up fails (for debugging)')
  .option('--ssh', 'also run sshd in every container and write a remote topology for them (drill the lab as real hosts, over SSH alone)')
  .option('--systemd', "the nodes boot systemd and run the stack as Debian's own units (keepalived, strongswan, xl2tpd), as a staging pair does")
  .option('--json', 'print JSON')
  .action(async (o: { topology: string; profile?: string; engine: 'auto' | 'local' | 'vm'; name?: string; wait: 'tunnel' | 'vrrp'; timeout: string; keepOnFailure?: boolean; ssh?: boolean; systemd?: boolean; json?: boolean }) => {
    const { loadLabInputs } = await import('../lab/lab.js');
    const inputs = loadLabInputs(o.topology, o.profile, o.name);
    const progress = consoleProgress();
    const { result, engine } = await upCommand({
      topologyFile: o.topology,
      profile: o.profile,
      name: inputs.topology.name,
      engine: o.engine,
      waitUntil: o.wait,
      timeoutMs: parseDuration(o.timeout),
      keepOnFailure: o.keepOnFailure,
      ssh: o.ssh,
      systemd: o.systemd,
      progress,
    });
    await engine.close();
    if (o.json) json({ lab: result.record.name, engine: engine.info, runId: result.record.runId, profile: result.profile.name, stages: result.stages, warnings: result.warnings, ...(result.remoteTopology ? { remoteTopology: result.remoteTopology } : {}) });
    else printUp(result, engine.info);
  });

program
  .command('status')
  .description('show VRRP state, VIP holder, daemons and the client tunnel of a running lab')
  .option('--name <lab>', 'lab name', 'vipdrill')
  .option('--json', 'print JSON')
  .action(async (o: { name: string; json?: boolean }) => {
    const record = requireLab(o.name);
    const engine = await openEngineForLab(record);
    try {
      const s = await status(engine, record);
      if (o.json) json(s);
      else printLabStatus(s);
    } finally {
      await engine.close();
    }
  });

program
  .command('down')
  .description('remove a lab: containers, networks, its VM and its state')
  .option('--name <lab>', 'lab name', 'vipdrill')
  .option('--json', 'print JSON')
  .action(async (o: { name: string; json?: boolean }) => {
    const r = await downCommand(o.name, consoleProgress(!!o.json));
    if (o.json) json({ lab: o.name, removed: r });
    else process.stdout.write(`lab ${o.name} removed (${r.containers} containers, ${r.networks} networks${r.vm ? ', VM stopped' : ''})\n`);
  });

program
  .command('heal')
  .description('undo every vipdrill fault left in a running lab (a run killed mid-fault), keeping the lab')
  .option('--name <lab>', 'lab name', 'vipdrill')
  .option('--json', 'print JSON')
  .action(async (o: { name: string; json?: boolean }) => {
    const record = requireLab(o.name);
    const { loadLabInputs } = await import('../lab/lab.js');
    const engine = await openEngineForLab(record);
    try {
      const undone = await healLab(engine, { ...loadLabInputs(record.topologyFile, record.profile, record.name), record });
      record.phase = 'ready';
      delete record.controllerPid;
      writeLab(record);
      if (o.json) json({ lab: o.name, undone });
      else for (const [h, u] of Object.entries(undone)) process.stdout.write(`${h.padEnd(8)} ${u.length > 0 ? u.join(' ') : 'nothing to undo'}\n`);
    } finally {
      await engine.close();
    }
  });

program
  .command('reap')
  .description('remove leftovers of killed or crashed runs (found by label, no topology file needed)')
  .option('--all', 'also remove labs that are up and idle')
  .option('--name <lab>', 'only this lab')
  .option('--json', 'print JSON')
  .action(async (o: { all?: boolean; name?: string; json?: boolean }) => {
    const r = await reapCommand({ all: !!o.all, name: o.name }, consoleProgress(!!o.json));
    if (o.json) json(r);
    else {
      process.stdout.write(`reaped ${r.labs.length} lab(s)${r.labs.length ? ` (${r.labs.join(', ')})` : ''}: ${r.containers} containers, ${r.networks} networks, ${r.vms} VMs\n`);
      if (r.kept.length) process.stdout.write(`kept lab(s) that are up: ${r.kept.join(', ')} (use --all or 'vipdrill down --name <lab>')\n`);
    }
  });

program
  .command('validate')
  .description('check scenario files (or directories of them); each error names file, field and what was expected')
  .argument('<files...>', 'scenario files or directories')
  .option('--json', 'print JSON')
  .action((files: string[], o: { json?: boolean }) => {
    const vs = validateScenarios(expandScenarioArgs(files));
    if (o.json) json(vs.map((v) => ({ file: v.file, ok: v.ok, issues: v.issues })));
    else printValidation(vs);
    if (vs.some((v) => !v.ok)) process.exitCode = 2;
  });

const runOptions = (c: Command) =>
  c
    .addOption(engineOption())
    .option('--report-dir <dir>', 'where results go: <dir>/<run id>/, and <dir>/latest', 'reports')
    .option('--name <lab>', 'name of the lab the run brings up', 'vipdrill-run')
    .option('--json', 'print the run summary as JSON');

type RunOpts = { engine: 'auto' | 'local' | 'vm'; reportDir: string; name: string; json?: boolean; lab?: string; repeat?: string; topology?: string; profile?: string; yes?: boolean; dryRun?: boolean; tryRemedies?: boolean; remedy?: string[]; maxRemedies?: string; seed?: string };

/** After Ctrl-C, how long the heal and the clean-up may take before the process exits anyway. */
const INTERRUPT_BUDGET_MS = 25_000;

/**
 * Ctrl-C (or SIGTERM): abort the returned signal, so the running scenario heals and labs this command
 * brought up are removed; a second one exits at once, and the clean-up has a budget.
 */
function interruptible(): AbortController {
  const abort = new AbortController();
  const onSignal = (sig: NodeJS.Signals) => {
    if (abort.signal.aborted) process.exit(130);
    process.stderr.write(`\nvipdrill: ${sig}: healing the running scenario and cleaning up (again to exit now; 'vipdrill reap' cleans up after that)\n`);
    abort.abort(new Error(`interrupted by ${sig}`));
    // the heal and the clean-up have a budget: a lab call that hangs must not keep the process
    setTimeout(() => {
      process.stderr.write(`vipdrill: the clean-up did not finish within ${INTERRUPT_BUDGET_MS / 1000} s; exiting. 'vipdrill heal --name <lab>' undoes faults left in a lab that is up, 'vipdrill reap' removes what this run brought up\n`);
      process.exit(130);
    }, INTERRUPT_BUDGET_MS).unref();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return abort;
}

async function runAndReport(files: string[], o: RunOpts): Promise<void> {
  const repeat = o.repeat === undefined ? undefined : Number(o.repeat);
  if (repeat !== undefined && (!Number.isInteger(repeat) || repeat < 1 || repeat > 100)) throw new VipdrillError('CONFIG_INVALID', `--repeat: expected a whole number from 1 to 100, got ${o.repeat}`);
  if (o.dryRun) return planCommand(files, o);
  if (o.tryRemedies || o.remedy) return tryRemedies(files, o, repeat);
  const abort = interruptible();
  const s = await runSuite({ files, lab: o.lab, engine: o.engine, repeat, reportDir: o.reportDir, labName: o.name, progress: consoleProgress(), signal: abort.signal, topology: o.topology, profile: o.profile, confirm: confirmRealHosts(o.yes) });
  // the reports, from the JSON just written (a PDF that cannot be rendered is a warning, not a failed run)
  const progress = consoleProgress();
  progress.step('writing reports: junit.xml, summary.md, index.html, report.pdf');
  const written = await writeReports(s.dir);
  for (const w of written.filter((x) => x.error)) process.stderr.write(`vipdrill: ${w.format} report not written: ${w.error}\n`);
  const pdf = written.find((w) => w.format === 'pdf' && !w.error);
  if (pdf) progress.step(`report.pdf rendered by Chromium in ${formatMs(pdf.ms)}`);
  if (o.json) json({ runId: s.runId, dir: s.dir, exitCode: s.exitCode, counts: s.counts, labErrors: s.labErrors, results: s.results.map((r) => ({ scenario: r.scenario, repeat: r.repeat, verdict: r.verdict, reason: r.reason, metrics: r.metrics, expectations: r.expectations, ...(r.findings ? { findings: r.findings } : {}), ...(r.warnings?.length ? { warnings: r.warnings } : {}) })) });
  else printSuite(s);
  process.exitCode = s.exitCode;
}

/** `run <scenario> --try-remedies`: the scenario before and after each proposed (or asked) profile change. */
async function tryRemedies(files: string[], o: RunOpts, repeat: number | undefined): Promise<void> {
  if (files.length !== 1) throw new VipdrillError('CONFIG_INVALID', `--try-remedies measures one scenario; got ${files.length} files`);
  if (o.topology) throw new VipdrillError('CONFIG_INVALID', '--try-remedies switches the profile of a lab; it does not change real hosts (-t)');
  if (repeat !== undefined && repeat < 2) throw new VipdrillError('CONFIG_INVALID', `--repeat ${repeat}: --try-remedies compares medians with their intervals, which need at least 2 repeats per arm`);
  const asked = (o.remedy ?? []).map(parseChange);
  const seed = intOption('--seed', o.seed, 0, 2 ** 31 - 1);
  const abort = interruptible();
  const r = await tryRemediesCommand({ file: files[0]!, lab: o.lab, repeats: repeat ?? 5, asked, maxProposed: intOption('--max-remedies', o.maxRemedies, 0, 20) ?? 3, reportDir: o.reportDir, engine: o.engine, labName: o.name, ...(seed !== undefined ? { seed } : {}), progress: consoleProgress(!!o.json), signal: abort.signal });
  if (o.json) json(r.json);
  else printRemedies(r);
  process.exitCode = r.exitCode;
}

runOptions(
  program
    .command('run')
    .description('run scenario files against a lab: exit 0 all passed, 1 an expectation failed, 2 could not run or decide')
    .argument('<files...>', 'scenario files or directories')
    .option('--lab <name>', 'use this running lab (vipdrill up) instead of bringing one up')
    .option('-t, --topology <file>', 'drill the existing hosts of this remote topology over SSH (lab/topologies/remote.example.yaml)')
    .option('--profile <name>', "with -t: the profile of the timers the hosts run (default: the topology's); checked against their keepalived.conf")
    .option('--yes', 'with -t: drill the real hosts without asking')
    .option('--dry-run', 'print the plan (every command and revert, per host) and run nothing')
    .option('--repeat <n>', 'run each scenario n times (overrides the files; 5 with --try-remedies)')
    .option('--try-remedies', 'one scenario on the lab\'s profile, then again with each profile change its findings propose (the profile switched on the running lab), and whether it helped')
    .option('--remedy <field=value...>', 'with --try-remedies: also try this profile change (e.g. vrrp.garpLowerPrioRepeat=5)')
    .option('--max-remedies <n>', 'with --try-remedies: measure at most n of the proposed changes (default 3)')
    .option('--seed <n>', 'with --try-remedies: seed of the bootstrap intervals'),
).action((files: string[], o: RunOpts) => runAndReport(expandScenarioArgs(files), o));

program
  .command('plan')
  .description('print, per host, every command a run would send and every revert (and lease, on real hosts), without reaching any host')
  .argument('<files...>', 'scenario files or directories')
  .option('-t, --topology <file>', "the topology to plan against (default: each scenario's own)")
  .option('--profile <name>', "the profile (default: the scenario's, else the topology's)")
  .option('--json', 'print JSON')
  .action((files: string[], o: { topology?: string; profile?: string; json?: boolean }) => planCommand(expandScenarioArgs(files), o));

runOptions(
  program
    .command('drill')
    .description('the default drill end to end: preflight, up, run the default suite (scenarios/suites/default.yaml), report, down')
    .option('--suite <name>', 'suite: scenarios/suites/<name>.yaml or a path', 'default'),
).action(async (o: RunOpts & { suite: string }) => {
  const files = loadSuite(o.suite);
  const pf = await preflight(o.engine);
  if (!pf.chosen) {
    printPreflight(pf);
    throw new PreflightError(`no engine can run the lab here: ${pf.reason}`, []);
  }
  await runAndReport(files, o);
});

/** A whole number option within [lo, hi], or a usage error naming it. */
function intOption(name: string, v: string | undefined, lo: number, hi: number): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < lo || n > hi) throw new VipdrillError('CONFIG_INVALID', `${name}: expected a whole number from ${lo} to ${hi}, got ${v}`);
  return n;
}

program
  .command('tune')
  .description('sweep timers on one running lab (profile switched per point), measure every point, and recommend settings from the distributions: exit 0 a recommendation, 1 no point passed the false-failover check, 2 could not finish')
  .argument('[sweep]', 'a sweep file (lab/sweeps/<name>.yaml)')
  .option('--repeats <n>', "repeats per point and scenario (overrides the sweep's)")
  .option('--workers <n>', 'labs in parallel', '1')
  .option('--resume <dir>', 'continue the sweep stored in this run folder (reports/tune-<id>)')
  .option('--lab <name>', 'use this running lab (its own profile is restored at the end) instead of bringing one up')
  .option('--topology <file>', 'the topology of the lab the sweep brings up', undefined)
  .option('--seed <n>', 'seed of the bootstrap intervals (default: random, written in tune.json)')
  .addOption(engineOption())
  .option('--report-dir <dir>', 'where the sweep goes: <dir>/tune-<run id>/, and <dir>/latest-tune', 'reports')
  .option('--name <lab>', 'name of the lab the sweep brings up', 'vipdrill-tune')
  .option('--json', 'print tune.json')
  .action(async (file: string | undefined, o: { repeats?: string; workers: string; resume?: string; lab?: string; topology?: string; seed?: string; engine: 'auto' | 'local' | 'vm'; reportDir: string; name: string; json?: boolean }) => {
    if (!file && !o.resume) throw new VipdrillError('CONFIG_INVALID', 'tune needs a sweep file (lab/sweeps/<name>.yaml), or --resume <run folder>');
    if (file && o.resume) throw new VipdrillError('CONFIG_INVALID', 'tune takes a sweep file or --resume <run folder>, not both (a resumed sweep reads its own file)');
    const repeats = intOption('--repeats', o.repeats, 1, 1000);
    const workers = intOption('--workers', o.workers, 1, 8)!;
    const seed = intOption('--seed', o.seed, 0, 2 ** 31 - 1);
    const abort = interruptible();
    const r = await tuneCommand({ file, resume: o.resume, ...(repeats !== undefined ? { repeats } : {}), workers, lab: o.lab, topology: o.topology, ...(seed !== undefined ? { seed } : {}), engine: o.engine, reportDir: o.reportDir, labName: o.name, progress: consoleProgress(!!o.json), signal: abort.signal });
    if (o.json) process.stdout.write(readFileSync(join(r.dir, 'tune.json'), 'utf8'));
    else printTune(r);
    process.exitCode = r.exitCode;
  });

program
  .command('report')
  .description("compute every repeat again from its events.jsonl (the runner's analysis on the recorded stream), then write the reports: result.json, junit.xml, summary.md, index.html, report.pdf")
  .argument('[run-dir]', 'a run directory (reports/<run id>)', 'reports/latest')
  .option('--format <list>', `comma-separated: ${FORMATS.join(', ')}`, FORMATS.join(','))
  .option('--rewrite-results', "also write each repeat's result.json as computed again (the run's own are left alone otherwise)")
  .option('--json', 'print JSON')
  .action(async (dir: string, o: { format: string; rewriteResults?: boolean; json?: boolean }) => {
    const formats = o.format.split(',').map((f) => f.trim()).filter(Boolean);
    const bad = formats.filter((f) => !(FORMATS as readonly string[]).includes(f));
    if (bad.length > 0) throw new VipdrillError('CONFIG_INVALID', `--format: unknown ${bad.join(', ')}; expected a comma-separated list of ${FORMATS.join(', ')}`);
    const data = { ...loadRun(dir), rewriteResults: !!o.rewriteResults };
    const repeats = data.results.map((r, k) => ({ scenario: r.scenario, repeat: r.repeat, verdict: r.verdict, from: data.sources?.[k]?.from, recordedVerdict: data.sources?.[k]?.recordedVerdict }));
    const written = await writeReports(data, formats as Format[]);
    if (written.some((w) => w.error)) process.exitCode = 2;
    if (o.json) return json({ dir: data.dir, repeats, written });
    const fromStream = repeats.filter((x) => x.from === 'events.jsonl').length;
    process.stdout.write(`${repeats.length} repeat(s): ${fromStream} computed again from events.jsonl${fromStream < repeats.length ? `, ${repeats.length - fromStream} read from result.json (no evidence in their stream)` : ''}\n`);
    // a verdict the analysis of this vipdrill reaches differently from the run's own is said, never hidden
    for (const x of repeats) if (x.recordedVerdict && x.recordedVerdict !== x.verdict) process.stdout.write(`  ${x.scenario} repeat ${x.repeat}: ${x.verdict} (the run recorded ${x.recordedVerdict})\n`);
    for (const w of written) process.stdout.write(`${w.error ? 'FAIL' : 'ok  '}  ${w.format.padEnd(5)} ${relative(process.cwd(), w.file) || w.file}  (${formatMs(w.ms)})${w.error ? `: ${w.error}` : ''}\n`);
  });

program
  .command('schema')
  .description('print the JSON Schema of scenario files (scenarios/scenario.schema.json is this output), or with --sweep of sweep files (lab/sweeps/sweep.schema.json)')
  .option('--sweep', 'the schema of sweep files')
  .option('--json', 'print JSON (it always does: the schema is JSON)')
  .action((o: { sweep?: boolean }) => json(o.sweep ? sweepJsonSchema() : scenarioJsonSchema()));

/** --json anywhere on the command line: errors are JSON on stdout too. */
const jsonMode = process.argv.slice(2).includes('--json');

function report(e: unknown): number {
  if (e instanceof CommanderError) {
    // help and version are not errors; commander has already printed what was wrong
    if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help' || e.exitCode === 0) return 0;
    if (jsonMode) json({ error: { code: 'USAGE', message: e.message.replace(/^error: /, '') } });
    return 2;
  }
  if (jsonMode) {
    const issues = e instanceof ConfigError ? e.issues : undefined;
    json({
      error: {
        code: e instanceof VipdrillError ? e.code : 'UNEXPECTED',
        message: e instanceof Error ? e.message : String(e),
        ...(issues?.[0] ? { file: issues[0].file, ...(issues[0].path ? { path: issues[0].path } : {}) } : {}),
        ...(issues && issues.length > 1 ? { issues } : {}),
      },
    });
    return e instanceof VipdrillError ? e.exitCode : 2;
  }
  if (e instanceof ConfigError) {
    process.stderr.write(`vipdrill: invalid configuration (nothing was created):\n${e.issues.map((i) => `  ${i.file}: ${i.path ? `${i.path}: ` : ''}${i.message}`).join('\n')}\n`);
    return 2;
  }
  if (e instanceof PreflightError) {
    process.stderr.write(`vipdrill: ${e.message}\n`);
    return 2;
  }
  if (e instanceof VipdrillError) {
    process.stderr.write(`vipdrill: ${e.message}\n`);
    return e.exitCode;
  }
  process.stderr.write(`vipdrill: unexpected error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  return 2;
}

program.parseAsync(process.argv).then(
  () => process.exit(process.exitCode ?? 0),
  (e: unknown) => process.exit(report(e)),
);
