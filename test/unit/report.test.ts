import { expect } from 'chai';
import { renderHtml } from '../../src/report/html.js';
import { renderJunit } from '../../src/report/junit.js';
import { loadRun } from '../../src/report/load.js';
import { renderMarkdown } from '../../src/report/markdown.js';
import { label, textTable } from '../../src/report/table.js';
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

  it('summary.md and the console share one table: a row per run with outage, takeover, reconnect and longest phase', () => {
    const md = renderMarkdown(d);
    const text = textTable(d.results);
    for (const r of d.results) {
      expect(md).to.contain(`| ${label(r)} |`);
      expect(text).to.contain(label(r));
    }
    expect(md).to.contain('| scenario | verdict | outage | VIP takeover | reconnect | longest phase |');
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
