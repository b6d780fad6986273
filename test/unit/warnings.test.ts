import { expect } from 'chai';
import { DEFAULT_OUTAGE_BOUND_MS, warningsOf } from '../../src/analysis/warnings.js';
import { renderHtml } from '../../src/report/html.js';
import { renderJunit } from '../../src/report/junit.js';
import { loadRun } from '../../src/report/load.js';
import { renderMarkdown } from '../../src/report/markdown.js';
import { countsLine, textTable } from '../../src/report/table.js';
import type { ScenarioResult } from '../../src/run/result.js';
import type { Scenario } from '../../src/scenario/schema.js';
import { fixture } from '../helpers.js';

/** A pass that is not a healthy failover is "passed with warnings": shown first, counted apart. */

const sc = (expect: Scenario['expect']) => ({ name: 's', description: 'd', steps: [], expect }) as unknown as Scenario;
const res = (m: Partial<ScenarioResult['metrics']>) => ({ verdict: 'passed', metrics: m }) as unknown as ScenarioResult;

describe('verdicts with warnings', () => {
  it('an outage beyond the default bound warns when the scenario sets no bound, and only then', () => {
    const long = DEFAULT_OUTAGE_BOUND_MS + 151_000;
    expect(warningsOf(sc({}), res({ outageMs: long })).join()).to.match(/the fault's outage lasted 3 min 1 s, beyond the default bound of 30.0 s/);
    expect(warningsOf(sc({ outage: { min: 0, max: 200_000 } }), res({ outageMs: long }))).to.deep.equal([]);
    expect(warningsOf(sc({}), res({ outageMs: DEFAULT_OUTAGE_BOUND_MS }))).to.deep.equal([]);
  });

  it('so does the outage after the heal (split brain healed, a failback), unless expect.failbackOutage bounds it', () => {
    expect(warningsOf(sc({ outage: { min: 0, max: 1000 } }), res({ outageMs: 500, failbackOutageMs: 181_000 })).join()).to.match(/after the revert \(the heal, the failback\) lasted 3 min 1 s/);
    expect(warningsOf(sc({ failbackOutage: { max: 200_000 } }), res({ failbackOutageMs: 181_000 }))).to.deep.equal([]);
  });

  it('every report shows the warning and counts it apart; the HTML escapes it', () => {
    const d = loadRun(fixture('report-run'));
    const r = d.results.find((x) => x.verdict === 'passed')!;
    r.warnings = ['the outage after the revert lasted 3 min 1 s <script>alert(1)</script>'];
    const passed = d.results.filter((x) => x.verdict === 'passed').length;
    expect(countsLine(d.results, 0)).to.match(new RegExp(`^${passed} passed \\(1 with warnings\\), `));
    expect(textTable(d.results)).to.contain('PASSED WITH WARNINGS');
    const md = renderMarkdown(d);
    expect(md).to.contain('### Passed with warnings').and.contain('(1 with warnings)');
    expect(renderJunit(d)).to.contain('<property name="warning" value="the outage after the revert lasted 3 min 1 s &lt;script&gt;');
    const html = renderHtml(d);
    expect(html).to.contain('data-testid="warnings"').and.contain('PASSED WITH WARNINGS');
    expect(html).to.not.contain('<script>alert(1)');
  });
});
