/**
 * `audit` on several cores. The calling thread judges signatures itself and shares the work with
 * `threads - 1` worker threads (by default one thread per core: thread-count.ts). Workers are
 * started before the store is read (`startAuditThreads`), so that they load while the calling thread
 * reads it, and `auditStore` hands them the signatures as they are read: they judge while the store
 * is still being read. Each holds its own copy of the keyrings (a plain key index: no
 * openpgp.js). Work goes out in chunks (fixed while the store is read, then largest first, shrinking
 * towards the end so that all threads finish together) as one transferred buffer each, and comes
 * back as flat findings (wire.ts); the calling thread puts them in store order and builds the
 * report exactly as the in-process audit does (`auditedSignature`, `assembleReport`).
 *
 * A worker is given chunks only once its keyring is ready, so a slow start never holds the audit up.
 * Near the end, an idle main thread also judges chunks a worker has not answered yet (whichever answer
 * comes first is kept: results do not depend on the thread). If a worker fails or an error is thrown,
 * the workers are stopped and every signature still without a finding is judged in-process, in store
 * order, so that the same error surfaces as an in-process audit would give; an error reading the store
 * is thrown as the reader threw it, as in-process.
 */
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { defaultAuditThreads, MIN_SIGNATURES_FOR_WORKERS } from './thread-count.js';
import type { Keyring } from '../keys/index.js';
import { auditSignatures, mergeKeyrings, type AuditReport } from './audit.js';
import { AuditRun, type AuditPool, type PoolWorker, type StoreRead } from './run.js';
import type { FlatFindings, PackedChunk } from './wire.js';
import { plainKeyIndex, type PlainKeyEntry } from '../openpgp/key-index.js';
import { readSignatureStore, type StoredSignature } from '../store/read-store.js';

export interface AuditThreadsOptions {
  /** Threads judging signatures, the calling one included; default: defaultAuditThreads(). 1 = in-process. */
  threads?: number;
}

export interface ParallelAuditOptions extends AuditThreadsOptions {
  onProgress?: (done: number, total: number) => void;
  scopesByFingerprint?: Map<string, string[]>;
  /**
   * Below this many signatures, judge in-process. `auditSignaturesOnAllCores` starts its workers only
   * then; their start (the time before a worker judges anything) does not pay off below
   * MIN_SIGNATURES_FOR_WORKERS signatures. Workers started ahead with `startAuditThreads` are used from 0 signatures by default.
   */
  minForWorkers?: number;
  /**
   * The calling thread only hands out work and collects the answers (it still judges what a failed
   * worker leaves). Default false: it judges its share too.
   */
  workersOnly?: boolean;
  /** Filled in: threads used (1 = in-process) and how many signatures worker threads judged. */
  stats?: ParallelAuditStats;
}

export interface ParallelAuditStats {
  threads: number;
  inWorkers: number;
}

export interface AuditWorkerData {
  keyrings: Uint8Array[];
  /** The key index as plain data (every algorithm node:crypto verifies): the worker then needs no openpgp.js. */
  plainIndex?: PlainKeyEntry[];
}
export interface AuditWorkerRequest {
  id: number;
  chunk: PackedChunk;
}
export type AuditWorkerReply = { ready: true } | { failed: true; id?: number } | { id: number; findings: FlatFindings };

/**
 * The compiled worker beside this module; when this module has been bundled into another file, the
 * package's own dist/audit/worker.js. None when running from TypeScript sources.
 */
function workerEntry(): URL | undefined {
  const here = import.meta.url;
  if (!here.startsWith('file:') || here.endsWith('.ts')) return undefined;
  // Written out in full so that scripts/bundle-cli.mjs rewrites it for the bundle's directory.
  const sibling = new URL('./worker.js', import.meta.url);
  if (existsSync(fileURLToPath(sibling))) return sibling;
  for (let dir = path.dirname(fileURLToPath(here)); ; dir = path.dirname(dir)) {
    try {
      const pkg = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name?: string };
      if (pkg.name === 'kbs-bundler') {
        const file = path.join(dir, 'dist', 'audit', 'worker.js');
        return existsSync(file) ? pathToFileURL(file) : undefined;
      }
    } catch {
      // no package.json here
    }
    if (path.dirname(dir) === dir) return undefined;
  }
}

/** Worker threads started ahead of an audit; `audit` once, then they are gone. */
export class AuditThreads implements AuditPool {
  private readonly pool: PoolWorker[] = [];
  readonly workers: readonly PoolWorker[] = this.pool;
  private closed = false;
  private onEvent: (() => void) | undefined;
  private onReply: ((w: PoolWorker, reply: AuditWorkerReply) => void) | undefined;

  constructor(
    /** All keyrings as one (mergeKeyrings), as the in-process audit uses them. */
    private readonly keyring: Keyring,
    workers: number,
    data: AuditWorkerData,
    entry: URL | undefined,
  ) {
    if (!entry) return;
    for (let i = 0; i < workers; i++) {
      const w: PoolWorker = {
        worker: new Worker(entry, { workerData: data }),
        ready: false,
        dead: false,
        inFlight: [],
      };
      w.worker.unref(); // loading while the store is read must not keep the process alive if reading fails
      w.worker.on('message', (reply: AuditWorkerReply) => {
        if ('ready' in reply) w.ready = true;
        else if ('failed' in reply && reply.id === undefined) this.fail(w);
        else this.onReply?.(w, reply);
        this.onEvent?.();
      });
      const died = () => {
        this.fail(w);
        this.onEvent?.();
      };
      w.worker.on('error', died);
      w.worker.on('messageerror', died);
      w.worker.on('exit', died);
      this.pool.push(w);
    }
  }

  /** Threads an audit would use now: the calling one and the workers still alive. */
  get threads(): number {
    return 1 + this.pool.filter((w) => !w.dead).length;
  }

  fail(w: PoolWorker): void {
    if (w.dead) return;
    w.dead = true;
    void w.worker.terminate().catch(() => undefined);
  }

  listen(onReply: (w: PoolWorker, reply: AuditWorkerReply) => void, onEvent: () => void): void {
    this.onReply = onReply;
    this.onEvent = onEvent;
  }

  notify(): void {
    this.onEvent?.();
  }

  /** Stops the workers (not waiting for them to exit). */
  close(): void {
    this.closed = true;
    this.onEvent = undefined;
    this.onReply = undefined;
    for (const w of this.pool) {
      w.worker.removeAllListeners();
      w.worker.on('error', () => undefined);
      this.fail(w);
    }
  }

  /** Judges `signatures` on the calling thread and the workers, then closes them. */
  async audit(
    signatures: readonly StoredSignature[],
    options: Omit<ParallelAuditOptions, 'threads'> = {},
  ): Promise<AuditReport> {
    if (this.closed || this.threads === 1 || signatures.length < (options.minForWorkers ?? 0))
      return this.auditInProcess(signatures, options);
    return this.auditAsRead((onRead) => {
      onRead(signatures);
      return Promise.resolve(signatures);
    }, options);
  }

  /**
   * Reads the store (readSignatureStore) and judges its signatures, then closes the workers. The
   * workers judge while this thread still reads: they are handed the signatures as they are read.
   * `minForWorkers` is not looked at (the store's size is known only once it is read).
   */
  async auditStore(
    store: string,
    options: Omit<ParallelAuditOptions, 'threads' | 'minForWorkers'> = {},
  ): Promise<AuditReport> {
    if (this.closed || this.threads === 1) {
      this.close();
      return this.auditInProcess(await readSignatureStore(store), options);
    }
    return this.auditAsRead((onRead) => readSignatureStore(store, { onRead }), options);
  }

  private auditInProcess(
    signatures: readonly StoredSignature[],
    options: Omit<ParallelAuditOptions, 'threads'>,
  ): Promise<AuditReport> {
    this.close();
    if (options.stats) Object.assign(options.stats, { threads: 1, inWorkers: 0 });
    return auditSignatures(signatures, this.keyring, options.onProgress, options.scopesByFingerprint);
  }

  /** The audit on threads (see AuditRun). */
  private auditAsRead(read: StoreRead, options: Omit<ParallelAuditOptions, 'threads'>): Promise<AuditReport> {
    return new AuditRun(this, this.keyring, options).run(read);
  }
}

/** Starts the worker threads for an audit (`threads - 1` of them; default: defaultAuditThreads()). */
export async function startAuditThreads(
  keyrings: readonly Keyring[],
  options: AuditThreadsOptions = {},
): Promise<AuditThreads> {
  const threads = Math.max(1, options.threads ?? defaultAuditThreads());
  const keyring = mergeKeyrings(keyrings);
  const entry = threads > 1 ? workerEntry() : undefined;
  if (!entry) return new AuditThreads(keyring, 0, { keyrings: [] }, undefined);
  const plainIndex = await plainKeyIndex(keyring);
  const data: AuditWorkerData = { keyrings: keyrings.map((k) => k.bytes), ...(plainIndex ? { plainIndex } : {}) };
  return new AuditThreads(keyring, threads - 1, data, entry);
}

/** Audits `signatures` on every core (see the module comment and defaultAuditThreads); small stores in-process. */
export async function auditSignaturesOnAllCores(
  signatures: readonly StoredSignature[],
  keyrings: readonly Keyring[],
  options: ParallelAuditOptions = {},
): Promise<AuditReport> {
  if (
    (options.threads ?? defaultAuditThreads()) <= 1 ||
    signatures.length < (options.minForWorkers ?? MIN_SIGNATURES_FOR_WORKERS)
  ) {
    if (options.stats) Object.assign(options.stats, { threads: 1, inWorkers: 0 });
    return auditSignatures(signatures, mergeKeyrings(keyrings), options.onProgress, options.scopesByFingerprint);
  }
  const pool = await startAuditThreads(keyrings, options);
  return pool.audit(signatures, { ...options, minForWorkers: 0 });
}
