import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { VipdrillError } from '../../errors.js';
import type { VmImage } from './image.js';

/** The keys of the VM image the lab booted from (the cache dir of the current VM recipe). */
export function readImageForAttach(dir: string): VmImage {
  if (!existsSync(join(dir, 'complete'))) throw new VipdrillError('VM_FAILED', `the VM image ${dir} is gone; stop the VM with 'vipdrill reap'`);
  return {
    dir,
    disk: join(dir, 'disk.img'),
    kernel: join(dir, 'vmlinuz'),
    initrd: join(dir, 'initrd.img'),
    clientKey: readFileSync(join(dir, 'id_ed25519'), 'utf8'),
    hostKey: readFileSync(join(dir, 'host_ed25519.pub'), 'utf8').trim(),
  };
}
