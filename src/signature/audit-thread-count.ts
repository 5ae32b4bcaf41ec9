/**
 * How many threads an audit uses: by default from the idle cores, and none for a store known to be
 * small (audit-parallel.ts runs them).
 */
import { existsSync, statSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import * as path from 'node:path';

/**
 * A worker started on demand judges nothing for its first ≈ 100 ms (thread start, modules, keyring:
 * ≈ 100 ms of CPU, measured on a 2-core machine), in which the calling thread judges ≈ 1,400 signatures
 * at ≈ 70 µs each; below ≈ 2,000 the worker costs more CPU than it saves time (bench/audit.mjs sweeps N).
 */
export const MIN_SIGNATURES_FOR_WORKERS = 2000;

/**
 * Threads for an audit when none are asked for, from the cores the 1-minute load average leaves idle
 * (as `make -l` holds jobs back). Each thread that judges signatures keeps ≈ 1.35 cores busy: itself
 * and V8's background threads (garbage collector, optimizing compiler) — measured in-process on 2 cores:
 * main thread 0.84 s, background threads 0.30 s for 10,000 signatures. So the idle cores are divided by
 * that: 2 idle cores give 1 thread (in-process: there, at load average ≈ 3, a second thread brought
 * 1.14x for 10,000 signatures in memory and 0.82x for the whole CLI, as the worker's start, warm-up and
 * own background threads cost ≈ 0.4 s CPU, bench/audit.mjs), 4 give 3, 8 give 6.
 */
export function defaultAuditThreads(load = loadavg()[0] ?? 0, cores = availableParallelism()): number {
  const idle = Math.max(0, cores - Math.round(load));
  return Math.max(1, Math.min(cores, Math.round(idle / 1.35)));
}

/**
 * Whether a store is small enough to be sure that worker threads would not pay off before reading it:
 * a `dir:` layout (one image's signatures) or a tarball under 1 MiB (a few hundred signatures).
 * Anything it cannot tell (lookaside trees, unreadable paths) is not small.
 */
export function isSmallStore(store: string): boolean {
  const p = store.startsWith('dir:') ? store.slice(4) : store;
  try {
    const st = statSync(p);
    if (st.isFile()) return st.size < 1 << 20;
    return store.startsWith('dir:') || existsSync(path.join(p, 'manifest.json'));
  } catch {
    return false;
  }
}
