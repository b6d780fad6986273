import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { errorMessage } from '../errors.js';
import { renderHtml } from './html.js';
import { renderJunit } from './junit.js';
import { loadRun, type RunData } from './load.js';
import { renderMarkdown } from './markdown.js';
import { renderPdf } from './pdf.js';

export const FORMATS = ['json', 'junit', 'md', 'html', 'pdf'] as const;
export type Format = (typeof FORMATS)[number];

export interface Written {
  format: Format;
  file: string;
  ms: number;
  error?: string;
}

/**
 * Write the run's reports from its JSON alone: junit.xml, summary.md, index.html, report.pdf (json: the
 * aggregate result.json per scenario is written by the runner; here it is rewritten from the repeats).
 */
export async function writeReports(dirOrData: string | RunData, formats: readonly Format[] = FORMATS): Promise<Written[]> {
  const d = typeof dirOrData === 'string' ? loadRun(dirOrData) : dirOrData;
  const out: Written[] = [];
  const timed = async (format: Format, file: string, f: () => Promise<void> | void) => {
    const t = performance.now();
    try {
      await f();
      out.push({ format, file, ms: performance.now() - t });
    } catch (e) {
      out.push({ format, file, ms: performance.now() - t, error: errorMessage(e) });
    }
  };
  if (formats.includes('json')) {
    const { aggregate } = await import('../run/suite.js');
    await timed('json', join(d.dir, '<scenario>/result.json'), () => {
      const by = new Map<string, typeof d.results>();
      for (const r of d.results) by.set(r.scenario, [...(by.get(r.scenario) ?? []), r]);
      for (const [s, rs] of by) writeFileSync(join(d.dir, s, 'result.json'), JSON.stringify(aggregate(rs), null, 2) + '\n');
    });
  }
  if (formats.includes('junit')) await timed('junit', join(d.dir, 'junit.xml'), () => writeFileSync(join(d.dir, 'junit.xml'), renderJunit(d)));
  if (formats.includes('md')) await timed('md', join(d.dir, 'summary.md'), () => writeFileSync(join(d.dir, 'summary.md'), renderMarkdown(d)));
  const html = join(d.dir, 'index.html');
  if (formats.includes('html') || formats.includes('pdf')) await timed('html', html, () => writeFileSync(html, renderHtml(d)));
  if (formats.includes('pdf')) await timed('pdf', join(d.dir, 'report.pdf'), async () => void (await renderPdf(html, join(d.dir, 'report.pdf'))));
  return out;
}
