#!/usr/bin/env node
/**
 * `audit` on every core — not one of the targets, so `npm run bench` runs it only when named
 * (`npm run bench -- audit`). Two measures, each beside the in-process audit measured in the same
 * run, alternated:
 *  1. the library: `auditSignaturesOnAllCores` over the bench's N signatures (already in memory) with
 *     `threads: 1` (in-process) and with one thread per core, plus a sweep over smaller N that shows
 *     from where worker threads started on demand pay off (MIN_SIGNATURES_FOR_WORKERS);
 *  2. the CLI: `kbs-bundler audit --store STORE --keys KEY --json` of the 10,000-image bench store with
 *     `--jobs 1`, `--jobs <cores>` (every core) and no --jobs (the default: defaultAuditThreads, one
 *     thread per core), under /usr/bin/time -v (wall and user+sys CPU), and the outputs
 *     compared byte for byte.
 * CPU time is printed beside wall time: on a shared machine the second core may be busy elsewhere.
 *
 * Run after `npm run build`: `node bench/audit.mjs` (KBSB_BENCH_RUNS runs each, default 5;
 * KBSB_BENCH_AUDIT_SIZE images, default 10000).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { auditSignaturesOnAllCores, manifestDigest, readPublicKeyring } from '../dist/index.js';
// Internal: how many threads audit picks by default (not part of the library API).
import { defaultAuditThreads, MIN_SIGNATURES_FOR_WORKERS } from '../dist/audit/thread-count.js';
import { cli, dataset, dataDir, fmtS, machine, manifestOf, median, prepareSize, repositoryOf } from './lib/dataset.mjs';

const RUNS = Number(process.env.KBSB_BENCH_RUNS ?? 5);
const N = Number(process.env.KBSB_BENCH_AUDIT_SIZE ?? 10000);
const cores = os.availableParallelism();

const { blobs, publicKeyFile } = await dataset(N);
const keyring = await readPublicKeyring(readFileSync(publicKeyFile), { file: publicKeyFile });
const signatures = blobs.map((bytes, i) => ({
  repositoryPath: repositoryOf(i),
  digest: manifestDigest(manifestOf(i)),
  name: 'signature-1',
  bytes,
  source: `bench:${i}`,
}));

/** One library audit: wall seconds, CPU seconds of the whole process (all threads), signatures judged in workers. */
async function libraryRun(sigs, threads, minForWorkers) {
  const stats = { threads: 0, inWorkers: 0 };
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const report = await auditSignaturesOnAllCores(sigs, [keyring], {
    threads,
    ...(minForWorkers !== undefined ? { minForWorkers } : {}),
    stats,
  });
  const seconds = (performance.now() - t0) / 1000;
  const c = process.cpuUsage(c0);
  if (report.good !== sigs.length) throw new Error(`audit: ${report.good}/${sigs.length} good`);
  return { seconds, cpu: (c.user + c.system) / 1e6, inWorkers: stats.inWorkers, threads: stats.threads };
}

await libraryRun(signatures.slice(0, 200), 1); // warm-up: key index, JIT
const lib = { one: [], all: [] };
for (let r = 0; r < RUNS; r++) {
  lib.one.push(await libraryRun(signatures, 1));
  lib.all.push(await libraryRun(signatures, cores, 0));
}
const rate = (runs) => signatures.length / median(runs.map((x) => x.seconds));
const med = (runs, f) => median(runs.map(f));

const sweep = [];
for (const n of [250, 500, 1000, 2000, 4000]) {
  const sigs = signatures.slice(0, n);
  const one = [];
  const all = [];
  for (let r = 0; r < RUNS; r++) {
    one.push(await libraryRun(sigs, 1));
    all.push(await libraryRun(sigs, cores, 0));
  }
  sweep.push({
    n,
    one: med(one, (x) => x.seconds),
    all: med(all, (x) => x.seconds),
    allCpu: med(all, (x) => x.cpu),
    oneCpu: med(one, (x) => x.cpu),
  });
}

// The CLI over the bench's lookaside store.
const work = mkdtempSync(path.join(dataDir(), 'audit-'));
process.on('exit', () => rmSync(work, { recursive: true, force: true }));
const { store } = prepareSize(work, N, { blobs, publicKeyFile });
const args = ['audit', '--store', store, '--keys', publicKeyFile, '--json'];
const cliRuns = { one: [], all: [], auto: [] };
let reference;
for (let r = 0; r < RUNS; r++) {
  for (const [key, extra] of [
    ['one', ['--jobs', '1']],
    ['all', ['--jobs', String(cores)]],
    ['auto', []],
  ]) {
    const run = cli([...args, ...extra], { env: { KBS_BUNDLER_DEBUG: '1' } });
    reference ??= run.stdout;
    if (run.stdout !== reference) throw new Error(`audit ${extra.join(' ')}: output differs from the first run`);
    run.threads = Number(/^audit: \d+ signatures on (\d+) threads/m.exec(run.stderr)?.[1]);
    cliRuns[key].push(run);
  }
}
const cpu = (x) => x.userSeconds + x.systemSeconds;

const fmt = (n) => Math.round(n).toLocaleString('en-US');
console.log(`machine: ${machine()}`);
console.log(
  `library auditSignaturesOnAllCores, ${fmt(signatures.length)} signatures in memory, median of ${RUNS} (alternated):`,
);
console.log(
  `  in-process (threads: 1)      : ${fmt(rate(lib.one))} signatures/s, CPU ${fmtS(med(lib.one, (x) => x.cpu))}`,
);
console.log(
  `  ${cores} threads (${cores - 1} worker${cores === 2 ? '' : 's'} + this one) : ${fmt(rate(lib.all))} signatures/s, CPU ${fmtS(med(lib.all, (x) => x.cpu))}; ` +
    `${(rate(lib.all) / rate(lib.one)).toFixed(2)}x in-process; ${Math.round((100 * med(lib.all, (x) => x.inWorkers)) / signatures.length)}% judged in workers`,
);
console.log(
  `  smaller N, workers started on demand vs in-process (wall, median of ${RUNS}); MIN_SIGNATURES_FOR_WORKERS = ${fmt(MIN_SIGNATURES_FOR_WORKERS)}:`,
);
for (const s of sweep)
  console.log(
    `    N=${String(s.n).padStart(5)}: in-process ${fmtS(s.one)} (CPU ${fmtS(s.oneCpu)}), ${cores} threads ${fmtS(s.all)} (CPU ${fmtS(s.allCpu)}): ${(s.one / s.all).toFixed(2)}x`,
  );
const w1 = med(cliRuns.one, (x) => x.seconds);
const wAll = med(cliRuns.all, (x) => x.seconds);
console.log(
  `CLI kbs-bundler audit --store STORE --keys KEY --json, ${fmt(N)} images (lookaside store), median of ${RUNS} (alternated), outputs identical:`,
);
console.log(`  --jobs 1 (in-process)        : wall ${fmtS(w1)}, CPU ${fmtS(med(cliRuns.one, cpu))}`);
console.log(
  `  --jobs ${cores} (every core)         : wall ${fmtS(wAll)}, CPU ${fmtS(med(cliRuns.all, cpu))}; ${(w1 / wAll).toFixed(2)}x faster (wall)`,
);
const wAuto = med(cliRuns.auto, (x) => x.seconds);
const autoThreads = [...new Set(cliRuns.auto.map((x) => x.threads))].join(' or ');
console.log(
  `  no --jobs (default: ${autoThreads} thread(s)) : wall ${fmtS(wAuto)}, CPU ${fmtS(med(cliRuns.auto, cpu))}; ${(w1 / wAuto).toFixed(2)}x faster (wall)`,
);
console.log(`  (the default is one thread per core: defaultAuditThreads() gives ${defaultAuditThreads()} here)`);
