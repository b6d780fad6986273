import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { repoRoot } from './helpers.js';

/**
 * Compare `actual` with test/snapshots/<name>. A missing snapshot is written (and reported) outside CI;
 * in CI (CI=true) it fails, so a snapshot is never silently created there. UPDATE_SNAPSHOTS=1 rewrites.
 */
export function matchSnapshot(name: string, actual: string): void {
  const file = join(repoRoot, 'test', 'snapshots', name);
  if (process.env.UPDATE_SNAPSHOTS === '1' || (!existsSync(file) && process.env.CI !== 'true')) {
    mkdirSync(join(file, '..'), { recursive: true });
    writeFileSync(file, actual);
    return;
  }
  expect(existsSync(file), `snapshot ${name} is missing (run the unit tests outside CI to write it)`).to.equal(true);
  expect(actual).to.equal(readFileSync(file, 'utf8'));
}
