import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { Readable } from 'node:stream';
import { VipdrillError } from '../errors.js';
import { which } from '../util/host.js';
import { cacheDir, labDir } from '../util/paths.js';
import type { Progress } from '../util/progress.js';
import type { Engine } from './engine.js';

export const SUITE = 'bookworm';
const BUILDER_VERSION = '1';

/** The Debian mirror apt is configured with (debootstrap needs one); $VIPDRILL_DEBIAN_MIRROR wins. */
export function debianMirror(): string {
  if (process.env.VIPDRILL_DEBIAN_MIRROR) return process.env.VIPDRILL_DEBIAN_MIRROR;
  const candidates = ['/etc/apt/sources.list.d/debian.sources', '/etc/apt/sources.list'];
  for (const f of candidates) {
    if (!existsSync(f)) continue;
    const text = readFileSync(f, 'utf8');
    const deb822 = /^URIs:\s*(\S+)/m.exec(text);
    if (deb822?.[1] && !deb822[1].includes('security')) return deb822[1];
    const line = /^deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+\S+/m.exec(text);
    if (line?.[1]) return line[1];
  }
  return 'http://deb.debian.org/debian';
}

export function readPackageList(file: string): string[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .map((l) => l.replace(/#.*/, '').trim())
    .filter(Boolean);
}

export function walk(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...walk(p));
    else out.push(p);
  }
  return out;
}

export function hashInputs(parts: (string | Buffer)[]): string {
  const h = createHash('sha256');
  for (const p of parts) {
    h.update(p);
    h.update('\0');
  }
  return h.digest('hex').slice(0, 16);
}

export interface ImageRecipe {
  packagesFile: string;
  overlayDir: string;
}

export const labRecipe: ImageRecipe = {
  packagesFile: join(labDir, 'images', 'lab', 'packages.txt'),
  overlayDir: join(labDir, 'images', 'lab', 'rootfs'),
};

export function rootfsKey(packages: string[]): string {
  return hashInputs([BUILDER_VERSION, SUITE, ...packages]);
}

export function labImageTag(recipe: ImageRecipe = labRecipe): string {
  const packages = readPackageList(recipe.packagesFile);
  const overlay = walk(recipe.overlayDir).flatMap((f) => [relative(recipe.overlayDir, f), String(statSync(f).mode & 0o777), readFileSync(f)]);
  return `vipdrill/lab:${hashInputs([rootfsKey(packages), ...overlay])}`;
}

function runStreaming(cmd: string, args: string[], progress: Progress, label: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const tail: string[] = [];
    const onLine = (buf: Buffer) => {
      for (const line of buf.toString('utf8').split('\n')) {
        if (!line.trim()) continue;
        tail.push(line);
        if (tail.length > 20) tail.shift();
        progress.detail(`${label}: ${line.trim().slice(0, 100)}`);
      }
    };
    child.stdout.on('data', onLine);
    child.stderr.on('data', onLine);
    child.on('error', (e) => reject(new VipdrillError('IMAGE_BUILD_FAILED', `could not run ${cmd}: ${e.message}`)));
    child.on('close', (code) =>
      code === 0 ? resolve() : reject(new VipdrillError('IMAGE_BUILD_FAILED', `${cmd} ${args.slice(0, 3).join(' ')} ... exited with ${code}:\n${tail.join('\n')}`)),
    );
  });
}

/**
 * A Debian root filesystem with `packages`, built offline with debootstrap from the Debian archive apt
 * uses (no container registry needed), cached under the cache directory by a hash of its inputs.
 */
export async function ensureRootfs(packages: string[], progress: Progress, kind: string): Promise<string> {
  const key = rootfsKey(packages);
  const dir = join(cacheDir(), 'rootfs', `${kind}-${key}`);
  if (existsSync(join(dir, '.vipdrill-complete'))) return dir;
  if (!(await which('debootstrap'))) {
    throw new VipdrillError('IMAGE_BUILD_FAILED', 'debootstrap is needed to build the lab image offline. Fix: apt-get install -y debootstrap');
  }
  if (process.getuid?.() !== 0) throw new VipdrillError('IMAGE_BUILD_FAILED', 'building the lab root filesystem with debootstrap needs root');
  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  const mirror = debianMirror();
  progress.step(`building ${kind} root filesystem (debootstrap ${SUITE} from ${mirror}, ${packages.length} packages)`);
  const t0 = performance.now();
  await runStreaming('debootstrap', ['--variant=minbase', `--include=${packages.join(',')}`, SUITE, tmp, mirror], progress, 'debootstrap');
  // slim it: the downloaded .debs and apt lists are not needed in the image
  rmSync(join(tmp, 'var/cache/apt/archives'), { recursive: true, force: true });
  mkdirSync(join(tmp, 'var/cache/apt/archives/partial'), { recursive: true });
  rmSync(join(tmp, 'var/lib/apt/lists'), { recursive: true, force: true });
  mkdirSync(join(tmp, 'var/lib/apt/lists/partial'), { recursive: true });
  rmSync(dir, { recursive: true, force: true });
  renameSync(tmp, dir);
  cpSync('/dev/null', join(dir, '.vipdrill-complete'));
  progress.step(`${kind} root filesystem built in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  return dir;
}

/** Copy the overlay (supervisor and helper scripts) into the rootfs, replacing an older overlay. */
export function applyOverlay(rootfs: string, overlayDir: string): void {
  for (const f of walk(overlayDir)) {
    const rel = relative(overlayDir, f);
    const dst = join(rootfs, rel);
    mkdirSync(join(dst, '..'), { recursive: true });
    cpSync(f, dst);
  }
}

/** Tar a directory to a stream (GNU tar keeps device nodes, owners and modes exactly). */
export function tarDirectory(dir: string): Readable {
  const child = spawn('tar', ['--numeric-owner', '--exclude=./.vipdrill-complete', '-C', dir, '-c', '.'], { stdio: ['ignore', 'pipe', 'inherit'] });
  return child.stdout;
}

export const LAB_ENTRYPOINT = 'ENTRYPOINT ["/usr/bin/tini", "-g", "--", "/usr/local/sbin/vipdrill-supervisor"]';

/** Make sure `engine` has the lab image; build it on the host and import it only if it lacks that hash. */
export async function ensureLabImage(engine: Engine, progress: Progress, recipe: ImageRecipe = labRecipe): Promise<{ tag: string; imported: boolean }> {
  const tag = labImageTag(recipe);
  if (await engine.hasImage(tag)) {
    progress.step(`lab image ${tag} present in engine ${engine.info.name}`);
    return { tag, imported: false };
  }
  const rootfs = await ensureRootfs(readPackageList(recipe.packagesFile), progress, 'lab');
  applyOverlay(rootfs, recipe.overlayDir);
  progress.step(`importing lab image ${tag} into engine ${engine.info.name}`);
  const t0 = performance.now();
  await engine.importImage(tag, tarDirectory(rootfs), [LAB_ENTRYPOINT], { 'vipdrill.image': 'lab' });
  progress.step(`lab image imported in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  return { tag, imported: true };
}
