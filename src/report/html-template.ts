/**
 * HTML that is safe by construction: `html` is a tagged template that escapes every interpolated value
 * unless it is itself Html (made by `html`). A string from a run's files can only ever become text, never
 * markup, whichever call site forgets what; there is no escape function to remember. The only way to
 * inject markup as is, `trusted`, takes a constant of this package (the style sheet).
 */

const MARKUP: unique symbol = Symbol('vipdrill.html');

export interface Html {
  readonly [MARKUP]: string;
}

/** What may be interpolated: text (escaped), numbers, Html, lists of these (concatenated); null, undefined and false are nothing. */
export type Interpolation = Html | string | number | null | undefined | false | readonly Interpolation[];

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Text as HTML text or attribute content. */
export function escapeText(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ENTITIES[c]!);
}

function isHtml(v: unknown): v is Html {
  return typeof v === 'object' && v !== null && MARKUP in v;
}

function piece(v: Interpolation): string {
  if (v === null || v === undefined || v === false) return '';
  if (isHtml(v)) return v[MARKUP];
  if (Array.isArray(v)) return (v as readonly Interpolation[]).map(piece).join('');
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : '';
  // anything else (a plain object that is not Html) is text too, never markup
  return escapeText(typeof v === 'string' ? v : JSON.stringify(v));
}

export function html(strings: TemplateStringsArray, ...values: Interpolation[]): Html {
  let out = strings[0]!;
  values.forEach((v, i) => (out += piece(v) + strings[i + 1]!));
  return { [MARKUP]: out };
}

/** Markup as is: for this package's own constants only (the style sheet), never for anything read from a file. */
export function trusted(constant: string): Html {
  return { [MARKUP]: constant };
}

/** Html pieces joined with a separator (text, escaped). */
export function joinHtml(xs: readonly Interpolation[], sep: string): Html {
  return { [MARKUP]: xs.map(piece).join(escapeText(sep)) };
}

/** The document's text. */
export function toHtmlString(h: Html): string {
  return h[MARKUP];
}
