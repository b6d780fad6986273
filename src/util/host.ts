import { spawn } from 'node:child_process';
import { VipdrillError } from '../errors.js';

export interface HostResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Run a program on the controller host (never a shell string), collecting its output. */
export function runHost(cmd: string, args: string[], opts: { input?: string; timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Promise<HostResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'], env: opts.env ?? process.env });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout!.on("data", (c: Buffer) => out.push(c));
    child.stderr!.on("data", (c: Buffer) => err.push(c));
    const t = opts.timeoutMs ? setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs) : undefined;
    child.on('error', (e) => {
      if (t) clearTimeout(t);
      reject(new VipdrillError('EXEC_FAILED', `could not run ${cmd}: ${e.message}`, { cause: e }));
    });
    child.on('close', (code) => {
      if (t) clearTimeout(t);
      resolve({ code: code ?? -1, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') });
    });
    if (opts.input !== undefined && child.stdin) {
      child.stdin.on('error', () => {});
      child.stdin.end(opts.input);
    }
  });
}

export async function which(cmd: string): Promise<string | undefined> {
  for (const dir of (process.env.PATH ?? '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin').split(':')) {
    const { access, constants } = await import('node:fs/promises');
    try {
      await access(`${dir}/${cmd}`, constants.X_OK);
      return `${dir}/${cmd}`;
    } catch {
      /* next */
    }
  }
  return undefined;
}

/** Parse `ip -j -4 route show table all` into routes the subnet guard compares against. */
export function parseIpRoutes(json: string): { dst: string; dev?: string; protocol?: string; type?: string }[] {
  const raw = JSON.parse(json || '[]') as { dst: string; dev?: string; protocol?: string; type?: string }[];
  return raw.map((r) => ({ dst: r.dst, dev: r.dev, protocol: r.protocol, type: r.type }));
}
