import { ConfigError, type ConfigIssue } from '../src/errors.js';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root, from dist/test or test. */
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', ...(import.meta.url.includes('/dist/') ? ['..'] : []));
export const fixture = (...p: string[]) => join(repoRoot, 'test', 'fixtures', ...p);
export const cli = join(repoRoot, 'dist', 'src', 'cli', 'main.js');

/** The issues of the ConfigError `f` throws (a test fails if it throws nothing, or something else). */
export function configIssues(f: () => unknown): ConfigIssue[] {
  try {
    f();
  } catch (e) {
    if (e instanceof ConfigError) return e.issues;
    throw e;
  }
  throw new Error('expected a ConfigError, and nothing was thrown');
}
