/**
 * How many threads an audit uses: by default one per core, and none for a store known to be small
 * (parallel.ts runs them).
 */
import { existsSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import * as path from 'node:path';

/**
 * A worker started on demand judges nothing for its first ≈ 100 ms (thread start, modules, keyring:
 * ≈ 100 ms of CPU, measured on a 2-core machine), in which the calling thread judges ≈ 1,400 signatures
 * at ≈ 70 µs each; below ≈ 2,000 the worker costs more CPU than it saves time (bench/audit.mjs sweeps N).
 */
export const MIN_SIGNATURES_FOR_WORKERS = 2000;

/**
 * Threads for an audit when none are asked for: one per core (`--jobs N` asks for N). Each thread
 * judging signatures also keeps V8's optimizing compiler busy on a background thread, compiling the
 * judging code again in every thread (node --trace-opt, CLI on the bench's 10,000-image store, 2
 * cores: ≈ 0.48 s of compiling in-process, ≈ 0.88 s with one worker), so on 2 cores the second
 * thread gains little: alternated CLI runs, medians of 8-10: --jobs 1 0.89-1.04 s, --jobs 2
 * 0.79-0.96 s (1.09-1.12x, for ≈ 25 % more CPU); the library with the signatures in memory ≈ 1.2x
 * (bench/audit.mjs). It is still the default, as `xz -T0` uses every core: a rule from the load
 * average picked 1 thread on an idle machine here (this VM reads ≈ 1 at rest). On a shared machine,
 * `--jobs 1`.
 */
export function defaultAuditThreads(cores = availableParallelism()): number {
  return Math.max(1, cores);
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
