/**
 * One audit on threads (see parallel.ts): the signatures handed out in chunks as they are read, the
 * workers' answers collected, the rest judged on the calling thread, the report in store order.
 */
import type { Worker } from 'node:worker_threads';
import type { Keyring } from '../keys/index.js';
import type { StoredSignature } from '../store/read-store.js';
import {
  assembleReport,
  auditedSignature,
  auditFinding,
  type AuditedSignature,
  type AuditFinding,
  type AuditReport,
} from './audit.js';
import type { AuditWorkerReply, AuditWorkerRequest, ParallelAuditOptions, ParallelAuditStats } from './parallel.js';
import { decodeFindings, packChunk } from './wire.js';

const MIN_CHUNK = 32;
const MAX_CHUNK = 512;
const MAX_CHUNK_BYTES = 8 << 20;
/** Chunk size while the store is still read (the total, and so the shrinking sizes, not yet known). */
const READING_CHUNK = 256;
/** Chunks sent to a worker ahead of its answers, so that it never waits for the main thread. */
const IN_FLIGHT = 2;
/** The main thread returns to the event loop (worker answers, progress) after this many signatures. */
const SLICE = 32;

export interface Chunk {
  from: number;
  to: number;
  done: boolean;
  /** The main thread is judging it too (a worker had not answered). */
  shadowed: boolean;
}

export interface PoolWorker {
  worker: Worker;
  ready: boolean;
  dead: boolean;
  inFlight: Chunk[];
}

/** The worker threads as a run uses them (AuditThreads). */
export interface AuditPool {
  readonly workers: readonly PoolWorker[];
  /** The calling thread and the workers still alive. */
  readonly threads: number;
  fail(w: PoolWorker): void;
  /** Stops the workers; no answer or event reaches the run after it. */
  close(): void;
  /** Routes the workers' answers and events (ready, answered, died) to the run. */
  listen(onReply: (w: PoolWorker, reply: AuditWorkerReply) => void, onEvent: () => void): void;
  /** Runs the event handler, if still listening. */
  notify(): void;
}

export type StoreRead = (onRead: (batch: readonly StoredSignature[]) => void) => Promise<readonly StoredSignature[]>;

export class AuditRun {
  /** Signatures in the order read, and the finding of each. */
  private readonly signatures: StoredSignature[] = [];
  private readonly findings: Array<AuditFinding | undefined> = [];
  /** Known once the store is read. */
  private total: number | undefined;
  private done = 0;
  private next = 0;
  /** Chunks a dead worker left unanswered. */
  private readonly returned: Chunk[] = [];
  private wake: (() => void) | undefined;
  /**
   * A progress callback that throws inside a worker's message handler must not become an uncaught
   * exception: it is rethrown by the main loop (and then again by the in-process fallback).
   */
  private progressFailed: { error: unknown } | undefined;
  private readonly stats: ParallelAuditStats;

  constructor(
    private readonly pool: AuditPool,
    private readonly keyring: Keyring,
    private readonly options: Omit<ParallelAuditOptions, 'threads'>,
  ) {
    this.stats = options.stats ?? { threads: 1, inWorkers: 0 };
    Object.assign(this.stats, { threads: pool.threads, inWorkers: 0 });
  }

  /**
   * `read` gives every signature once to `onRead` (in any order, in batches) and resolves to all of
   * them in store order. Findings are kept in the order read and put in store order at the end.
   * Progress is reported once the total is known.
   */
  async run(read: StoreRead): Promise<AuditReport> {
    this.pool.listen(
      (w, reply) => this.onReply(w, reply),
      () => this.onEvent(),
    );
    for (const w of this.pool.workers) w.worker.ref();
    const inStoreOrder = await this.readStore(read);
    this.total = this.signatures.length;
    if (this.done > 0) this.progress(); // what the workers judged while the store was read (never 0/total: as in-process)
    await this.judgeAll();
    return this.report(inStoreOrder);
  }

  private async readStore(read: StoreRead): Promise<readonly StoredSignature[]> {
    try {
      const inStoreOrder = await read((batch) => {
        for (const sig of batch) this.signatures.push(sig);
        this.findings.length = this.signatures.length;
        this.pool.notify();
      });
      if (inStoreOrder.length !== this.signatures.length)
        throw new Error(
          `audit: the store reader gave ${this.signatures.length} signatures as read, ${inStoreOrder.length} in store order`,
        );
      return inStoreOrder;
    } catch (e) {
      this.pool.close();
      throw e; // as an in-process audit: the store's error, nothing judged
    }
  }

  /** Until every signature has a finding: chunks left by dead workers, new chunks, then shadowing. */
  private async judgeAll(): Promise<void> {
    const total = this.total!;
    try {
      this.pool.notify();
      while (this.done < total) {
        if (this.progressFailed) throw this.progressFailed.error;
        const mainJudges = !this.options.workersOnly || this.pool.threads === 1;
        const c = this.returned.shift() ?? (mainJudges ? (this.take() ?? this.shadow()) : undefined);
        if (c) {
          if (!c.done) await this.judge(c);
          continue;
        }
        await new Promise<void>((resolve) => (this.wake = resolve));
        this.wake = undefined;
      }
    } catch {
      // Judged again by report(), in store order, without workers: an error surfaces as in-process.
    } finally {
      this.pool.close();
    }
    if (this.progressFailed) throw this.progressFailed.error;
  }

  /** The report in store order; what has no finding yet (a failure above) is judged here. */
  private async report(inStoreOrder: readonly StoredSignature[]): Promise<AuditReport> {
    const total = this.total!;
    const readAt = new Map<StoredSignature, number>();
    for (let i = 0; i < total; i++) readAt.set(this.signatures[i]!, i);
    const audited = new Array<AuditedSignature>(total);
    for (let k = 0; k < total; k++) {
      const sig = inStoreOrder[k]!;
      const i = readAt.get(sig);
      if (i === undefined) throw new Error(`audit: ${sig.source} was not given as read`);
      let finding = this.findings[i];
      if (finding === undefined) {
        finding = this.findings[i] = await auditFinding(sig.bytes, sig.digest, this.keyring);
        this.options.onProgress?.(++this.done, total);
      }
      audited[k] = auditedSignature(sig, finding, this.keyring, this.options.scopesByFingerprint);
    }
    return assembleReport(inStoreOrder, audited);
  }

  private progress(): void {
    if (this.total === undefined) return;
    try {
      this.options.onProgress?.(this.done, this.total);
    } catch (error) {
      this.progressFailed ??= { error };
      this.wake?.();
    }
  }

  private complete(c: Chunk, list: readonly AuditFinding[]): boolean {
    if (c.done) return false;
    c.done = true;
    for (let i = 0; i < list.length; i++) this.findings[c.from + i] = list[i];
    this.done += list.length;
    this.progress();
    return true;
  }

  /** The next chunk to hand out: whole chunks while the store is read, then shrinking towards the end. */
  private take(): Chunk | undefined {
    const n = this.signatures.length;
    if (this.next >= n) return undefined;
    if (this.total === undefined && n - this.next < READING_CHUNK) return undefined;
    const size =
      this.total === undefined
        ? READING_CHUNK
        : Math.min(MAX_CHUNK, Math.max(MIN_CHUNK, Math.ceil((n - this.next) / (4 * this.pool.threads))));
    // Also bounded in bytes: a store may hold files of up to MAX_SIGNATURE_SIZE each.
    let to = this.next + 1;
    for (let bytes = this.signatures[this.next]!.bytes.byteLength; to < Math.min(n, this.next + size); to++) {
      bytes += this.signatures[to]!.bytes.byteLength;
      if (bytes > MAX_CHUNK_BYTES) break;
    }
    const c: Chunk = { from: this.next, to, done: false, shadowed: false };
    this.next = c.to;
    return c;
  }

  /** A chunk a worker still has, for the idle calling thread to judge too. */
  private shadow(): Chunk | undefined {
    for (const w of this.pool.workers) {
      for (let i = w.inFlight.length - 1; i >= 0; i--) {
        const c = w.inFlight[i]!;
        if (!c.done && !c.shadowed) {
          c.shadowed = true;
          return c;
        }
      }
    }
    return undefined;
  }

  private async judge(c: Chunk): Promise<void> {
    const list: AuditFinding[] = [];
    for (let i = c.from; i < c.to; i++) {
      const sig = this.signatures[i]!;
      list.push(await auditFinding(sig.bytes, sig.digest, this.keyring));
      if ((i - c.from) % SLICE === SLICE - 1) {
        await new Promise<void>((resolve) => setImmediate(resolve));
        if (c.done) return; // a worker answered first
      }
    }
    this.complete(c, list);
  }

  private feed(w: PoolWorker): void {
    while (w.ready && !w.dead && w.inFlight.length < IN_FLIGHT) {
      const c = this.take();
      if (!c) return;
      w.inFlight.push(c);
      const chunk = packChunk(this.signatures, c.from, c.to);
      w.worker.postMessage({ id: c.from, chunk } satisfies AuditWorkerRequest, [chunk.bytes, chunk.ends.buffer]);
    }
  }

  private onReply(w: PoolWorker, reply: AuditWorkerReply): void {
    const at = 'id' in reply ? w.inFlight.findIndex((c) => c.from === reply.id) : -1;
    const c = w.inFlight[at];
    let list: AuditFinding[] | undefined;
    try {
      list = c && 'findings' in reply ? decodeFindings(reply.findings) : undefined;
    } catch {
      list = undefined;
    }
    if (!c || !list || list.length !== c.to - c.from) {
      this.pool.fail(w); // an answer that does not fit what was asked: the worker's chunks are judged here instead
      return;
    }
    w.inFlight.splice(at, 1);
    if (this.complete(c, list)) this.stats.inWorkers += list.length;
    this.feed(w);
  }

  private onEvent(): void {
    for (const w of this.pool.workers) {
      if (w.dead) {
        for (const c of w.inFlight.splice(0)) if (!c.done) this.returned.push(c);
      } else this.feed(w);
    }
    this.wake?.();
  }
}
