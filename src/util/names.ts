import { closest, distance } from 'fastest-levenshtein';

/**
 * The known name an unknown one most likely meant (edit distance, fastest-levenshtein), or undefined when
 * none is close: at most max(3, a third of its length) edits away.
 */
export function nearestName(name: string, known: readonly string[]): string | undefined {
  if (known.length === 0) return undefined;
  const best = closest(name, [...known]);
  return distance(name, best) <= Math.max(3, Math.floor(name.length / 3)) ? best : undefined;
}
