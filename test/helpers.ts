import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root, from dist/test or test. */
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', ...(import.meta.url.includes('/dist/') ? ['..'] : []));
export const fixture = (...p: string[]) => join(repoRoot, 'test', 'fixtures', ...p);
export const cli = join(repoRoot, 'dist', 'src', 'cli', 'main.js');
