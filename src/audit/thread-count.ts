/**
 * How many threads an audit uses: by default one per core, and none for a store known to be small
 * (parallel.ts runs them).
 */
import { existsSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import * as path from 'node:path';

/**
 * A worker started on demand judges nothing until its thread, modules and keyring are ready, and the
 * calling thread judges signatures all that time; below this many signatures a worker costs more CPU
 * than it saves time (bench/audit.mjs sweeps the store size; its figures are in bench/README.md).
 */
export const MIN_SIGNATURES_FOR_WORKERS = 2000;

/**
 * Threads for an audit when none are asked for: one per core (`--jobs N` asks for N), as `xz -T0`
 * uses every core. Each thread judging signatures also keeps V8's optimizing compiler busy on a
 * background thread, compiling the judging code again in every thread, so on few cores the extra
 * threads gain less than their count suggests (bench/audit.mjs measures it). A rule from the load
 * average would misjudge an idle machine whose load never reads zero; on a shared machine, `--jobs 1`.
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
