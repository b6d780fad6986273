import { join } from 'node:path';
import { errorMessage } from '../errors.js';
import { htmlReporter } from './html.js';
import { jsonReporter } from './json.js';
import { junitReporter } from './junit.js';
import { loadRun, type RunData } from './load.js';
import { markdownReporter } from './markdown.js';
import { pdfReporter } from './pdf.js';
import type { Reporter } from './reporter.js';

export const FORMATS = ['json', 'junit', 'md', 'html', 'pdf'] as const;
export type Format = (typeof FORMATS)[number];

export interface Written {
  format: Format;
  file: string;
  ms: number;
  error?: string;
}

/** The file reporters, in the order they write (pdf prints the html). */
export const REPORTERS: Record<Format, Reporter> = { json: jsonReporter, junit: junitReporter, md: markdownReporter, html: htmlReporter, pdf: pdfReporter };

/**
 * Write the run's reports from its JSON alone, each format by its reporter: the aggregate result.json
 * per scenario, junit.xml, summary.md, index.html, report.pdf. A reporter that fails is reported, and the
 * others still write.
 */
export async function writeReports(dirOrData: string | RunData, formats: readonly Format[] = FORMATS): Promise<Written[]> {
  const d = typeof dirOrData === 'string' ? loadRun(dirOrData) : dirOrData;
  const out: Written[] = [];
  for (const format of FORMATS.filter((f) => formats.includes(f))) {
    const t = performance.now();
    try {
      out.push({ format, file: await REPORTERS[format].onEnd(d), ms: performance.now() - t });
    } catch (e) {
      out.push({ format, file: join(d.dir, format), ms: performance.now() - t, error: errorMessage(e) });
    }
  }
  return out;
}
