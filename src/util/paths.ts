import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
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
