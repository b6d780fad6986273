import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { VipdrillError } from '../errors.js';
import { renderHtml } from './html.js';
import type { Reporter } from './reporter.js';

/** Debian's Chromium: Playwright drives it, it downloads no browser (LAB-FACTS: downloads fail here). */
export const CHROMIUM = process.env.VIPDRILL_CHROMIUM ?? '/usr/bin/chromium';

export function chromiumMissing(): string | undefined {
  return existsSync(CHROMIUM) ? undefined : `no Chromium at ${CHROMIUM}: install it with \`apt-get install -y chromium\` (or run scripts/setup-host.sh), or point VIPDRILL_CHROMIUM at one`;
}

export async function launchChromium() {
  const missing = chromiumMissing();
  if (missing) throw new VipdrillError('PREFLIGHT_FAILED', missing);
  const { chromium } = await import('playwright-core');
  // --no-sandbox: CI runs as root, where Chromium's sandbox refuses to start
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu'] });
}

/** report.pdf: index.html printed by headless Chromium on A4, backgrounds (the charts' colours) kept. */
export async function renderPdf(htmlFile: string, pdfFile: string): Promise<{ ms: number }> {
  const started = performance.now();
  const browser = await launchChromium();
  try {
    const page = await browser.newPage();
    await page.goto(pathToFileURL(htmlFile).href, { waitUntil: 'load' });
    await page.pdf({ path: pdfFile, format: 'A4', printBackground: true, margin: { top: '12mm', bottom: '12mm', left: '10mm', right: '10mm' } });
  } finally {
    await browser.close();
  }
  return { ms: performance.now() - started };
}

/** report.pdf: the run's index.html (written afresh) printed. */
export const pdfReporter: Reporter = {
  name: 'pdf',
  async onEnd(d) {
    const html = join(d.dir, 'index.html');
    writeFileSync(html, renderHtml(d));
    const file = join(d.dir, 'report.pdf');
    await renderPdf(html, file);
    return file;
  },
};
