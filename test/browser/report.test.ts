import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { writeReports } from '../../src/report/index.js';
import { renderHtml } from '../../src/report/html.js';
import { loadRun } from '../../src/report/load.js';
import { mainOutage } from '../../src/report/timeline.js';
import { verdictWord } from '../../src/report/table.js';
import { launchChromium, renderPdf } from '../../src/report/pdf.js';
import { formatMs } from '../../src/util/time.js';
import { fixture, repoRoot } from '../helpers.js';

/**
 * The drill report in headless Chromium (Debian's, driven by Playwright), rendered from the JSON of a
 * real run kept in test/fixtures/report-run (scripts/make-report-fixture.sh regenerates it).
 */
describe('drill report in Chromium', function () {
  this.timeout(120_000);
  let dir: string;
  let browser: Browser;
  let page: Page;
  const errors: string[] = [];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'vipdrill-report-'));
    cpSync(fixture('report-run'), dir, { recursive: true });
    const written = await writeReports(dir, ['junit', 'md', 'html']);
    expect(written.filter((w) => w.error)).to.deep.equal([]);
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1366, height: 900 } });
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('request', (r) => {
      if (!r.url().startsWith('file:')) errors.push(`network request from a self-contained report: ${r.url()}`);
    });
    await page.goto(pathToFileURL(join(dir, 'index.html')).href, { waitUntil: 'load' });
  });

  after(async () => {
    await browser?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('loads from file:// without console errors or network requests', () => {
    expect(errors).to.deep.equal([]);
  });

  it('the verdict table lists every scenario run, with its verdict', async () => {
    const d = loadRun(dir);
    const rows = page.getByTestId('verdict-row');
    expect(await rows.count()).to.equal(d.results.length);
    const names: (string | null)[] = [];
    for (let i = 0; i < (await rows.count()); i++) names.push(await rows.nth(i).getAttribute('data-scenario'));
    expect(names).to.deep.equal(d.results.map((r) => r.scenario));
    for (const [i, r] of d.results.entries()) expect(await rows.nth(i).locator('td.verdict').innerText()).to.equal(verdictWord(r));
  });

  it('each timeline has a fault band for each injected fault, and the outage labelled where there is one', async () => {
    const d = loadRun(dir);
    for (const r of d.results) {
      const svg = page.getByTestId(`timeline-${r.scenario}-r${r.repeat}`);
      expect(await svg.count(), `${r.scenario} #${r.repeat}`).to.equal(1);
      // a run that could not inject its fault (kill-pppd-on-backup) has no band
      const injected = r.events.some((e) => e.kind === 'fault.inject');
      if (injected) expect(await svg.locator('.fault-band').count(), `${r.scenario}: fault band`).to.be.greaterThan(0);
      else expect(await svg.locator('.fault-band').count(), `${r.scenario}: no fault, no band`).to.equal(0);
      const o = mainOutage(r);
      const label = svg.locator('.outage-label');
      if (o) expect(await label.textContent()).to.equal(`outage ${formatMs(o.ms)}`);
      else expect(await label.count()).to.equal(0);
      const box = await svg.boundingBox();
      expect(box!.width, 'the chart fits a laptop screen').to.be.within(900, 1366);
    }
  });

  it('repeats show their distribution', async () => {
    expect(await page.getByTestId('distribution').count()).to.be.greaterThan(0);
    expect(await page.locator('svg.strip').count()).to.be.greaterThan(0);
  });

  it('the raw event log of a scenario opens and closes', async () => {
    const log = page.getByTestId('events').first();
    const rowsVisible = () => log.locator('tbody tr').first().isVisible();
    expect(await log.evaluate((e) => (e as unknown as { open: boolean }).open)).to.equal(false);
    expect(await rowsVisible()).to.equal(false);
    await log.locator('summary').click();
    expect(await rowsVisible()).to.equal(true);
    await log.locator('summary').click();
    expect(await rowsVisible()).to.equal(false);
  });

  it('junit.xml parses (in the browser\'s XML parser) and its counts match the run', async () => {
    const d = loadRun(dir);
    const xml = readFileSync(join(dir, 'junit.xml'), 'utf8');
    const r = await page.evaluate((text) => {
      // runs in the page: the browser's own XML parser (Node has none)
      interface El { getAttribute(n: string): string | null }
      interface Doc { documentElement: El; getElementsByTagName(n: string): { length: number } }
      const Parser = (globalThis as unknown as { DOMParser: new () => { parseFromString(t: string, m: string): Doc } }).DOMParser;
      const doc = new Parser().parseFromString(text, 'application/xml');
      const suites = doc.documentElement;
      return { error: doc.getElementsByTagName('parsererror').length, tests: suites.getAttribute('tests'), failures: suites.getAttribute('failures'), errors: suites.getAttribute('errors'), cases: doc.getElementsByTagName('testcase').length, failed: doc.getElementsByTagName('failure').length };
    }, xml);
    expect(r.error).to.equal(0);
    expect(r.cases).to.equal(d.results.length);
    expect(Number(r.tests)).to.equal(d.results.length);
    expect(Number(r.failures)).to.equal(d.results.filter((x) => x.verdict === 'failed').length);
    expect(r.failed).to.equal(Number(r.failures));
  });

  it('saves a screenshot (test-artifacts/report.png) and prints an A4 PDF with the charts', async () => {
    const art = join(repoRoot, 'test-artifacts');
    mkdirSync(art, { recursive: true });
    await page.screenshot({ path: join(art, 'report.png'), fullPage: true });
    expect(statSync(join(art, 'report.png')).size).to.be.greaterThan(20_000);
    const { ms } = await renderPdf(join(dir, 'index.html'), join(dir, 'report.pdf'));
    const pdf = readFileSync(join(dir, 'report.pdf'));
    expect(pdf.subarray(0, 5).toString()).to.equal('%PDF-');
    // A4 pages (595 x 842 points)
    expect(pdf.toString('latin1')).to.match(/\/MediaBox \[0 0 595(\.\d+)? 842(\.\d+)?\]/);
    expect(pdf.length).to.be.greaterThan(30_000);
    console.log(`      report.pdf rendered in ${formatMs(ms)}`);
    expect(existsSync(join(dir, 'report.pdf'))).to.equal(true);
    // the PDF's pages as images (poppler's pdftoppm), to look at: test-artifacts/report-page-<n>.png
    const r = spawnSync('pdftoppm', ['-png', '-r', '60', join(dir, 'report.pdf'), join(art, 'report-page')], { encoding: 'utf8' });
    expect(r.status, `pdftoppm (apt-get install poppler-utils): ${r.stderr}`).to.equal(0);
    const pages = readdirSync(art).filter((f) => /^report-page-\d+\.png$/.test(f));
    expect(pages.length).to.be.at.least(2);
    await page.locator('svg.timeline').first().screenshot({ path: join(art, 'timeline.png') });
  });

  it('labels never overlap: the fault, outage and failback labels of every timeline lie apart, and clear the VRRP lanes', async () => {
    type Box = { x: number; y: number; width: number; height: number };
    const hit = (a: Box, b: Box) => a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
    const clashes: string[] = [];
    for (const svg of await page.locator('svg.timeline').all()) {
      const name = await svg.getAttribute('data-testid');
      const labels: { t: string; b: Box }[] = [];
      for (const l of await svg.locator('.fault-label, .outage-label, .failback-label, .takeover-label').all()) labels.push({ t: await l.innerHTML(), b: (await l.boundingBox())! });
      const lanes: Box[] = [];
      for (const r of await svg.locator('rect.vrrp').all()) lanes.push((await r.boundingBox())!);
      labels.forEach((x, i) => {
        for (const y of labels.slice(i + 1)) if (hit(x.b, y.b)) clashes.push(`${name}: "${x.t}" on "${y.t}"`);
        if (lanes.some((l) => hit(x.b, l))) clashes.push(`${name}: "${x.t}" on a VRRP lane`);
      });
    }
    expect(clashes).to.deep.equal([]);
  });

  it('one time origin: every axis counts from the first fault', async () => {
    const first = await page.locator('svg.timeline').first().locator('text', { hasText: /^fault$/ }).count();
    expect(first).to.equal(1);
  });

  it('an overall verdict banner, and links to each repeat\'s result.json and events.jsonl', async () => {
    const d = loadRun(dir);
    const bad = d.results.filter((r) => r.verdict !== 'passed').length;
    expect(await page.getByTestId('banner').innerText()).to.match(bad > 0 ? /^(FAILED|COULD NOT DECIDE)/ : /^PASSED/);
    const hrefs: (string | null)[] = [];
    for (const a of await page.locator('a[href$="result.json"], a[href$="events.jsonl"]').all()) hrefs.push(await a.getAttribute('href'));
    expect(hrefs).to.include(`${d.results[0]!.scenario}/repeat-${d.results[0]!.repeat}/result.json`);
    expect(hrefs.length).to.equal(2 * d.results.length);
  });
});

/**
 * A run folder whose strings are hostile (a verdict that closes its attribute and adds an <img onerror>,
 * script in a reason, a description and a profile): the report shows them as text, and no script runs.
 * Before the fix the verdict went unescaped into a class attribute and its onerror ran.
 */
describe('a report built from hostile strings (Chromium)', function () {
  this.timeout(120_000);
  let dir: string;
  let browser: Browser;
  const HOSTILE = {
    verdict: '"><img src=x onerror="window.__pwned=1">',
    reason: '<script>window.__pwned=2</script><img src=x onerror=window.__pwned=3>',
    description: '<svg onload="window.__pwned=4"></svg>',
    profile: "'><iframe src=javascript:window.top.__pwned=5>",
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'vipdrill-hostile-'));
    cpSync(fixture('report-run'), dir, { recursive: true });
    // the hostile strings go into result.json: without the repeats' streams, that is what is read
    for (const k of [1, 2]) rmSync(join(dir, 'node-crash', `repeat-${k}`, 'events.jsonl'));
    const f = join(dir, 'node-crash', 'repeat-1', 'result.json');
    const { verdict: _, ...text } = HOSTILE;
    const r = JSON.parse(readFileSync(f, 'utf8')) as { expectations: { detail: string }[]; events: { message: string }[] };
    r.expectations[0]!.detail = HOSTILE.reason;
    r.events[0]!.message = HOSTILE.description;
    writeFileSync(f, JSON.stringify({ ...r, ...text }));
    // the loader refuses a verdict that is not one of the three; the renderer is proven on one anyway
    const d = loadRun(dir);
    (d.results.find((x) => x.scenario === 'node-crash')! as { verdict: string }).verdict = HOSTILE.verdict;
    writeFileSync(join(dir, 'index.html'), renderHtml(d));
    browser = await launchChromium();
  });

  it('a result.json whose verdict is not passed, failed or error is refused when the run folder is read', () => {
    const f = join(dir, 'node-crash', 'repeat-2', 'result.json');
    const saved = readFileSync(f, 'utf8');
    writeFileSync(f, JSON.stringify({ ...(JSON.parse(saved) as object), verdict: HOSTILE.verdict }));
    expect(() => loadRun(dir)).to.throw(/node-crash\/repeat-2\/result\.json: verdict: expected passed, failed or error/);
    writeFileSync(f, saved);
  });

  after(async () => {
    await browser?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('runs no script, and shows the strings as text', async () => {
    const page = await browser.newPage();
    await page.goto(pathToFileURL(join(dir, 'index.html')).href, { waitUntil: 'load' });
    await page.waitForTimeout(300);
    expect(await page.evaluate(() => (globalThis as unknown as { __pwned?: number }).__pwned)).to.equal(undefined);
    // nothing hostile became an element
    expect(await page.locator('img[src="x"], iframe, svg[onload], script').count()).to.equal(0);
    expect(await page.locator('body').innerText()).to.contain('<script>window.__pwned=2</script>');
    await page.close();
  });

  it('carries a Content-Security-Policy that forbids script, so a missed escape cannot run any', async () => {
    const html = readFileSync(join(dir, 'index.html'), 'utf8');
    const page = await browser.newPage();
    await page.goto(pathToFileURL(join(dir, 'index.html')).href, { waitUntil: 'load' });
    expect(await page.locator('meta[http-equiv="Content-Security-Policy"]').getAttribute('content')).to.equal("default-src 'none'; style-src 'unsafe-inline'; img-src data:");
    // the policy itself, proven: the same page with an unescaped script in it runs nothing
    const planted = join(dir, 'planted.html');
    writeFileSync(planted, html.replace('</body>', '<script>window.__pwned=6</script><img src=x onerror="window.__pwned=7"></body>'));
    await page.goto(pathToFileURL(planted).href, { waitUntil: 'load' });
    await page.waitForTimeout(300);
    expect(await page.evaluate(() => (globalThis as unknown as { __pwned?: number }).__pwned)).to.equal(undefined);
    await page.close();
  });
});
