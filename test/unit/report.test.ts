import { expect } from 'chai';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { renderHtml } from '../../src/report/html.js';
import { renderJunit } from '../../src/report/junit.js';
import { loadRun } from '../../src/report/load.js';
import { renderMarkdown } from '../../src/report/markdown.js';
import { label, textTable } from '../../src/report/table.js';
import { insideDir, SAFE_NAME } from '../../src/util/paths.js';
import { formatMs } from '../../src/util/time.js';
import { fixture } from '../helpers.js';

/** The report renderers on the JSON of a real run (test/fixtures/report-run). */
describe('reports from a run\'s JSON', () => {
  const d = loadRun(fixture('report-run'));

  it('loads every repeat of every scenario, in the order they ran', () => {
    expect(d.results.length).to.be.greaterThan(3);
    const starts = d.results.map((r) => r.startedAt);
    expect(starts).to.deep.equal([...starts].sort());
  });

  it('junit.xml: one testcase per scenario x repeat; a failure names the failed expectation', () => {
    const x = renderJunit(d);
    expect(x.match(/<testcase /g)).to.have.length(d.results.length);
    expect(x).to.contain(`tests="${d.results.length}"`);
    expect(x).to.contain(`failures="${d.results.filter((r) => r.verdict === 'failed').length}"`);
    for (const r of d.results.filter((y) => y.verdict === 'failed')) {
      for (const e of r.expectations.filter((y) => !y.ok)) expect(x).to.contain(`${e.name}: `);
    }
  });

  it('junit.xml: the failed run carries a <failure> with its expectation, the errored run an <error> with its reason', () => {
    const x = renderJunit(d);
    const failed = d.results.filter((r) => r.verdict === 'failed');
    const errored = d.results.filter((r) => r.verdict === 'error');
    // the fixture holds both on purpose (test/fixtures/report-scenarios): a real crash held to 100 ms, a
    // kill of a pppd the backup does not run
    expect(failed.map((r) => r.scenario)).to.deep.equal(['node-crash-tight', 'node-crash-tight']);
    expect(errored.map((r) => r.scenario)).to.deep.equal(['kill-pppd-on-backup', 'kill-pppd-on-backup']);
    expect(x.match(/<failure message="/g)).to.have.length(2);
    expect(x.match(/<error message="/g)).to.have.length(2);
    expect(x).to.contain(`failures="2" errors="2"`);
    expect(x).to.match(/<failure message="outage: expected &lt;= 100 ms, got [\d.]+ s" type="expectation">/);
    expect(x).to.contain(`<error message="the run could not continue: kill pppd on b: vipdrill-ctl: no daemon or process named 'pppd' runs here" type="could-not-run">`);
  });

  it('summary.md and the console share one table: a row per run with outage, takeover, reconnect and longest phase', () => {
    const md = renderMarkdown(d);
    const text = textTable(d.results);
    for (const r of d.results) {
      expect(md).to.contain(`| ${label(r)} |`);
      expect(text).to.contain(label(r));
    }
    expect(md).to.contain('| scenario | verdict | outage | failback outage | VIP takeover | reconnect | longest phase |');
  });

  it('the method lines name the probe interval the runs kept (the fixture was recorded at 5 ms), not the default', () => {
    // the fixture's achieved intervals: 5.30-5.75 ms per repeat (their median rounds to 6)
    expect(renderMarkdown(d)).to.contain('outage = the loss window of the data-plane probe (a probe every 6 ms)');
    expect(renderHtml(d)).to.contain("ping's own timestamps (a probe every 6 ms each way");
  });

  it('the failback sits beside the outage: in the table, and as JUnit properties', () => {
    const r = d.results.find((x) => x.metrics.failbackOutageMs !== undefined);
    expect(r, 'a repeat of the fixture with a failback').to.not.equal(undefined);
    expect(textTable([r!])).to.contain(formatMs(r!.metrics.failbackOutageMs!));
    expect(renderJunit(d)).to.contain(`<property name="failbackOutageMs" value="${Math.round(r!.metrics.failbackOutageMs! * 10) / 10}"/>`);
  });

  it('index.html is self-contained: no script, no external resource', () => {
    const html = renderHtml(d);
    expect(html).not.to.match(/<script/i);
    expect(html).not.to.match(/(src|href)="(https?:)?\/\//i);
    expect(html).not.to.match(/@import|url\(/i);
    expect(html.match(/<svg class="timeline"/g)).to.have.length(d.results.length);
  });

  it('a directory without run.json is refused with what was expected', () => {
    expect(() => loadRun(fixture('topologies'))).to.throw(/no run\.json \(expected reports\/<run id>\//);
  });
});

describe('a run folder cannot make report write outside it', () => {
  for (const via of ['result.json', 'events.jsonl'] as const) {
    it(`a repeat whose scenario is '../../x' (in its ${via}) is refused naming its file, and nothing is written anywhere`, async () => {
      const root = mkdtempSync(join(tmpdir(), 'vipdrill-traversal-'));
      const dir = join(root, 'a', 'b', 'run');
      cpSync(fixture('report-run'), dir, { recursive: true });
      const rep = join(dir, 'node-crash', 'repeat-1');
      if (via === 'result.json') {
        // without a stream to compute it from, the result.json is what is read
        rmSync(join(rep, 'events.jsonl'));
        const f = join(rep, 'result.json');
        writeFileSync(f, JSON.stringify({ ...(JSON.parse(readFileSync(f, 'utf8')) as object), scenario: '../../x' }));
      } else {
        const f = join(rep, 'events.jsonl');
        const lines = readFileSync(f, 'utf8').trim().split('\n');
        const ev = JSON.parse(lines.at(-1)!) as { result: { scenario: string } };
        ev.result.scenario = '../../x';
        writeFileSync(f, [...lines.slice(0, -1), JSON.stringify(ev)].join('\n') + '\n');
      }
      const before = readdirSync(root, { recursive: true }).length;
      expect(() => loadRun(dir)).to.throw(via === 'result.json' ? /node-crash\/repeat-1\/result\.json: scenario: expected a name of at most 64 characters of \[a-z0-9._-\], got "\.\.\/\.\.\/x"/ : /node-crash\/repeat-1\/events\.jsonl: evidence: a corrupted evidence line/);
      const { writeReports } = await import('../../src/report/index.js');
      await writeReports(dir).catch(() => {});
      expect(readdirSync(root, { recursive: true }).length, 'files under the folder above the run').to.equal(before);
      expect(existsSync(join(root, 'a', 'x'))).to.equal(false);
      rmSync(root, { recursive: true, force: true });
    });
  }

  it('insideDir joins names under a folder and refuses any that leave it', () => {
    expect(insideDir('/r/run', 'node-crash', 'result.json')).to.equal('/r/run/node-crash/result.json');
    for (const bad of [['..', 'x'], ['../../x'], ['/etc/passwd'], ['a/../../x'], ['.']]) expect(() => insideDir('/r/run', ...bad), bad.join('/')).to.throw(/refused to write .* it is not inside \/r\/run/);
    expect(['node-crash', 'calibrate-outage-1s', 'a.b_c'].every((n) => SAFE_NAME.test(n))).to.equal(true);
    expect(['..', '.', '../x', 'A', 'x'.repeat(65), '', 'a/b'].some((n) => SAFE_NAME.test(n))).to.equal(false);
  });
});

describe('reporters as plug-ins', () => {
  it('each format is a reporter; writeReports runs the chosen ones and reports each file', async () => {
    const { REPORTERS, FORMATS, writeReports } = await import('../../src/report/index.js');
    expect(Object.keys(REPORTERS)).to.deep.equal([...FORMATS]);
    const dir = mkdtempSync(join(tmpdir(), 'vipdrill-rep-'));
    cpSync(fixture('report-run'), dir, { recursive: true });
    const w = await writeReports(dir, ['junit', 'md', 'html']);
    expect(w.map((x) => [x.format, x.file.replace(dir, '<dir>'), x.error])).to.deep.equal([
      ['junit', '<dir>/junit.xml', undefined],
      ['md', '<dir>/summary.md', undefined],
      ['html', '<dir>/index.html', undefined],
    ]);
    for (const f of ['junit.xml', 'summary.md', 'index.html']) expect(existsSync(join(dir, f)), f).to.equal(true);
    expect(existsSync(join(dir, 'report.pdf'))).to.equal(false);
  });

  it('the console reporter prints the runner\'s events as they come, not what the hosts push', async () => {
    const { consoleReporter } = await import('../../src/report/console.js');
    const lines: string[] = [];
    const c = consoleReporter({ step: (s: string) => lines.push(s), detail: () => {} }, () => {});
    const at = { scenario: 'x', repeat: 1 };
    c.onEvent!({ source: 'runner', seq: 0, t: 1, kind: 'fault.inject', message: 'step0: crash of a' }, at);
    c.onEvent!({ source: 'host', host: 'a', ev: 'host.lag', t: 1, maxMs: 3, meanMs: 1, ticks: 10 }, at);
    expect(lines).to.deep.equal(['fault.inject step0: crash of a']);
  });
});
