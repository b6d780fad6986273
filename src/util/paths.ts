import { homedir } from 'node:os';
import { dirname, isAbsolute as isAbsolutePath, join, relative as relativePath, resolve, resolve as resolvePath } from 'node:path';
import { VipdrillError } from '../errors.js';
import { fileURLToPath } from 'node:url';

/** The package root (where lab/, scenarios/ and package.json live), from dist/src/util or src/util. */
export const packageRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', ...(import.meta.url.includes('/dist/') ? ['..'] : []));

export const labDir = join(packageRoot, 'lab');

/** Cache for built images: $VIPDRILL_CACHE, else $XDG_CACHE_HOME/vipdrill, else ~/.cache/vipdrill. */
export function cacheDir(): string {
  return process.env.VIPDRILL_CACHE ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'vipdrill');
}

/** Per-lab state (secrets, rendered configs, VM pid): $VIPDRILL_STATE, else ~/.local/state/vipdrill. */
export function stateDir(): string {
  return process.env.VIPDRILL_STATE ?? join(process.env.XDG_STATE_HOME ?? join(homedir(), '.local', 'state'), 'vipdrill');
}

/**
 * A name that becomes part of a path (a scenario's folder in a run, a lab's state folder): at most 64
 * characters of [a-z0-9._-], never `.` or `..`.
 */
export const SAFE_NAME = /^(?!\.\.?$)[a-z0-9._-]{1,64}$/;

/** `parts` joined under `dir`, refused unless the result lies inside `dir` (a name like `../../x` never writes outside). */
export function insideDir(dir: string, ...parts: string[]): string {
  const base = resolvePath(dir);
  const p = resolvePath(base, ...parts);
  const rel = relativePath(base, p);
  if (rel === '' || rel.startsWith('..') || isAbsolutePath(rel)) throw new VipdrillError('CONFIG_INVALID', `refused to write ${JSON.stringify(parts.join('/'))}: it is not inside ${base}`);
  return p;
}
