import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { VipdrillError } from '../../errors.js';
import { readImage, type VmImage } from './image.js';

/** The keys of the VM image the lab booted from (recorded in its VmRecord). */
export function readImageForAttach(dir: string): VmImage {
  if (!existsSync(join(dir, 'complete'))) throw new VipdrillError('VM_FAILED', `the VM image ${dir} is gone; stop the VM with 'vipdrill reap'`);
  return readImage(dir);
}
