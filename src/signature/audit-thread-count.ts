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
 * and V8's background threads (mostly the optimizing compiler, which compiles the judging code again
 * in every thread) — measured on 2 cores: in-process the main thread used ≈ 1.0 s and the background
 * threads ≈ 0.3 s for 10,000 signatures. So idle cores are divided by that and rounded up: 2 idle cores
 * give 2 threads, 4 give 3, 8 give 6. On 2 cores the second thread pays off because its worker judges
 * while the calling thread still reads the store (AuditThreads.auditStore): the CLI on the bench's
 * 10,000-image store took ≈ 0.85 s instead of ≈ 0.95 s (bench/audit.mjs); the library, with the
 * signatures already in memory, ≈ 1.2x in-process.
 */
export function defaultAuditThreads(load = loadavg()[0] ?? 0, cores = availableParallelism()): number {
  const idle = Math.max(0, cores - Math.round(load));
  return Math.max(1, Math.min(cores, Math.ceil(idle / 1.35)));
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
