import { expect } from 'chai';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { writeReports } from '../../src/report/index.js';
import { loadRun } from '../../src/report/load.js';
import { mainOutage } from '../../src/report/timeline.js';
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
    for (const [i, r] of d.results.entries()) expect(await rows.nth(i).locator('td.verdict').innerText()).to.equal(r.verdict.toUpperCase());
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
  });
});
