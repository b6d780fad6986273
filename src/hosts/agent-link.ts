import { EventEmitter } from 'node:events';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { VipdrillError } from '../errors.js';
import type { AgentEvent } from '../run/events.js';

export type { AgentEvent };

/** A request's answer: the result and the host's clock when it was taken. */
export interface Answer<T> {
  t: number;
  result: T;
}

interface Pending {
  resolve: (a: Answer<unknown>) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
  op: string;
}

/**
 * The controller's end of one agent stream: JSON lines both ways. Requests carry an id and a deadline;
 * a request not answered by its deadline (plus a grace for the trip) fails with what was asked and how
 * long it waited. Pushed events are emitted as 'event'. When the stream ends, every pending request fails
 * at once and 'closed' is emitted.
 */
export class AgentLink extends EventEmitter<{ event: [AgentEvent]; closed: [string] }> {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private ended: string | undefined;
  /** requests sent over this link: the lab round trips of a run */
  requests = 0;
  /** the latest host time seen on this link (answers and events) */
  lastT = 0;

  constructor(
    readonly label: string,
    private readonly input: Writable,
    output: Readable,
  ) {
    super();
    const rl = createInterface({ input: output, crlfDelay: Infinity });
    rl.on('line', (line) => this.onLine(line));
    rl.on('close', () => this.end('the agent stream ended'));
    input.on('error', (e: Error) => this.end(`the agent stream broke: ${e.message}`));
  }

  get isOpen(): boolean {
    return this.ended === undefined;
  }

  private onLine(line: string): void {
    let msg: { id?: number | null; ok?: boolean; t?: number; result?: unknown; error?: string; ev?: string };
    try {
      msg = JSON.parse(line) as typeof msg;
    } catch {
      return; // not ours (python's own warnings): ignored
    }
    if (typeof msg.t === 'number') this.lastT = Math.max(this.lastT, msg.t);
    if (typeof msg.ev === 'string') {
      this.emit('event', msg as AgentEvent);
      return;
    }
    if (typeof msg.id !== 'number') return;
    const p = this.pending.get(msg.id);
    if (!p) return; // answered after its deadline: already failed
    this.pending.delete(msg.id);
    clearTimeout(p.timer);
    if (msg.ok) p.resolve({ t: Number(msg.t), result: msg.result });
    else p.reject(new VipdrillError('EXEC_FAILED', `${this.label}: ${p.op} failed: ${msg.error ?? 'no reason given'}`));
  }

  /** Ask the agent; fails after deadlineMs plus `graceMs` for the trip there and back. */
  request<T>(op: string, args: Record<string, unknown> = {}, deadlineMs = 10_000, graceMs = 5_000): Promise<Answer<T>> {
    if (this.ended !== undefined) return Promise.reject(new VipdrillError('EXEC_FAILED', `${this.label}: ${op}: ${this.ended}`));
    const id = this.nextId++;
    this.requests++;
    return new Promise<Answer<T>>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new VipdrillError('TIMEOUT', `${this.label}: ${op} not answered within ${deadlineMs + graceMs} ms (deadline ${deadlineMs} ms + ${graceMs} ms for the trip)`));
      }, deadlineMs + graceMs);
      this.pending.set(id, { resolve: resolve as (a: Answer<unknown>) => void, reject, timer, op });
      this.input.write(JSON.stringify({ id, op, args, deadlineMs }) + '\n');
    });
  }

  /** End the link: pending requests fail with `why`. Idempotent. */
  end(why = 'closed by the controller'): void {
    if (this.ended !== undefined) return;
    this.ended = why;
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(new VipdrillError('EXEC_FAILED', `${this.label}: ${p.op}: ${why}`));
      this.pending.delete(id);
    }
    this.input.end();
    this.emit('closed', why);
  }
}
