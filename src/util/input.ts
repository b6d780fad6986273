import { closeSync, fstatSync, openSync, readSync, constants as fsc } from 'node:fs';
import { ConfigError } from '../errors.js';

/**
 * The one way vipdrill reads a file it was given (scenario, topology, profile, sweep, BYO config, a run's
 * JSON): a regular file only (a FIFO would hang, a directory or device is not a file), at most 1 MiB, and
 * UTF-8 only. Every refusal is a ConfigError naming the file and what was expected.
 */
export const MAX_INPUT_BYTES = 1024 * 1024;

/** stdin, read once (validate looks at a file twice: what it is, then the file itself) */
let stdinRead: { text: string } | { error: unknown } | undefined;

export function readInputFile(file: string, shown = file, maxBytes = MAX_INPUT_BYTES): string {
  const fail = (message: string): never => {
    throw new ConfigError([{ file: file === '-' ? '<stdin>' : shown, path: '', message }]);
  };
  if (file === '-') {
    stdinRead ??= (() => {
      try {
        return { text: readStdin(maxBytes, fail) };
      } catch (e) {
        return { error: e };
      }
    })();
    if ('error' in stdinRead) throw stdinRead.error;
    return stdinRead.text;
  }
  let fd: number;
  try {
    // O_NONBLOCK: opening a FIFO with no writer returns at once instead of hanging
    fd = openSync(file, fsc.O_RDONLY | fsc.O_NONBLOCK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return fail('file not found');
    if (code === 'EACCES' || code === 'EPERM') return fail('permission denied: vipdrill cannot read this file (check its mode and owner)');
    if (code === 'EISDIR') return fail('expected a file, got a directory');
    if (code === 'ELOOP') return fail('expected a file, got a symbolic link loop');
    return fail(`cannot open: ${(e as Error).message}`);
  }
  try {
    const st = fstatSync(fd);
    if (st.isDirectory()) return fail('expected a file, got a directory');
    if (st.isFIFO()) return fail('expected a regular file, got a FIFO (named pipe)');
    if (st.isCharacterDevice() || st.isBlockDevice()) return fail('expected a regular file, got a device');
    if (st.isSocket()) return fail('expected a regular file, got a socket');
    if (st.size > maxBytes) return fail(`too large: ${st.size} bytes, the limit is ${maxBytes} bytes (1 MiB)`);
    const buf = Buffer.alloc(st.size);
    let off = 0;
    while (off < st.size) {
      const n = readSync(fd, buf, off, st.size - off, off);
      if (n === 0) break;
      off += n;
    }
    return decodeUtf8(buf.subarray(0, off), fail);
  } finally {
    closeSync(fd);
  }
}

/** Standard input up to the limit (a pipe has no size to check first: it is read, and refused past the limit). */
function readStdin(maxBytes: number, fail: (message: string) => never): string {
  const chunks: Buffer[] = [];
  let total = 0;
  const buf = Buffer.alloc(64 * 1024);
  for (;;) {
    let n: number;
    try {
      n = readSync(0, buf, 0, buf.length, null);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EAGAIN') continue;
      if (code === 'EOF') break;
      return fail(`cannot read standard input: ${(e as Error).message}`);
    }
    if (n === 0) break;
    total += n;
    if (total > maxBytes) return fail(`too large: more than ${maxBytes} bytes on standard input, the limit is ${maxBytes} bytes (1 MiB)`);
    chunks.push(Buffer.from(buf.subarray(0, n)));
  }
  return decodeUtf8(Buffer.concat(chunks), fail);
}

/** Strict UTF-8: a bad byte is an error with its offset (never a silent U+FFFD). A BOM is dropped. */
export function decodeUtf8(buf: Uint8Array, fail: (message: string) => never): string {
  try {
    const text = new TextDecoder('utf-8', { fatal: true }).decode(buf);
    return text.startsWith('\uFEFF') ? text.slice(1) : text;
  } catch {
    return fail(`not UTF-8: the first invalid byte is at offset ${firstInvalidUtf8(buf)} (0x${(buf[firstInvalidUtf8(buf)] ?? 0).toString(16).padStart(2, '0')}); save the file as UTF-8`);
  }
}

/** The offset of the first byte that is not part of a valid UTF-8 sequence. */
export function firstInvalidUtf8(b: Uint8Array): number {
  let i = 0;
  while (i < b.length) {
    const c = b[i]!;
    const n = c < 0x80 ? 0 : c >= 0xc2 && c <= 0xdf ? 1 : c >= 0xe0 && c <= 0xef ? 2 : c >= 0xf0 && c <= 0xf4 ? 3 : -1;
    if (n < 0) return i;
    for (let k = 1; k <= n; k++) {
      const x = b[i + k];
      if (x === undefined || (x & 0xc0) !== 0x80) return i;
    }
    // overlongs and surrogates
    if (n === 2 && ((c === 0xe0 && b[i + 1]! < 0xa0) || (c === 0xed && b[i + 1]! > 0x9f))) return i;
    if (n === 3 && ((c === 0xf0 && b[i + 1]! < 0x90) || (c === 0xf4 && b[i + 1]! > 0x8f))) return i;
    i += n + 1;
  }
  return b.length;
}
