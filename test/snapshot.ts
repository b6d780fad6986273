import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { repoRoot } from './helpers.js';

/**
 * Compare `actual` with test/snapshots/<name>. A missing or different snapshot fails, in CI and on a
 * developer's machine alike: a snapshot is written only when asked, with UPDATE_SNAPSHOTS=1, and the
 * written file is then reviewed and committed like code.
 */
export function matchSnapshot(name: string, actual: string): void {
  const file = join(repoRoot, 'test', 'snapshots', name);
  if (process.env.UPDATE_SNAPSHOTS === '1') {
    mkdirSync(join(file, '..'), { recursive: true });
    writeFileSync(file, actual);
    return;
  }
  expect(existsSync(file), `snapshot ${name} is missing: write it with UPDATE_SNAPSHOTS=1 npm run test:unit, review it, commit it`).to.equal(true);
  expect(actual, `snapshot ${name} differs (UPDATE_SNAPSHOTS=1 rewrites it)`).to.equal(readFileSync(file, 'utf8'));
}
