#!/usr/bin/env node
/**
 * Build: `kbs-bundler build` of a bundle with N images under N/10 signedBy scopes (so 10,000 images /
 * 1,000 scopes at the top size), at N = 100, 1,000, 10,000 (KBSB_BENCH_SIZES), beside `tar -cf` of
 * the written tree and `node -e 0`, alternated. Also `build --tar` (the tarball streamed to disk),
 * the CLI's peak RSS (/usr/bin/time -v), and the same build as a library call (`buildRepository`
 * from dist/index.js in this process once warm: median of KBSB_BENCH_LIB_RUNS after WARM_RUNS unmeasured
 * runs), its output checked byte for byte against the CLI's.
 * Targets at the largest size: the CLI ≤ 0.5 s wall; the library call ≤ 3× `tar -cf` of the tree.
 *
 * Run after `npm run build`: `node bench/build.mjs` (or `npm run bench -- build`).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { buildRepository } from '../dist/index.js';
import {
  cli,
  dataset,
  dataDir,
  fmtMiB,
  fmtS,
  machine,
  median,
  prepareSize,
  runsOr,
  SIZES,
  timed,
  verdict,
} from './lib/dataset.mjs';

const RUNS = runsOr(3);
const CLI_TARGET_SECONDS = 0.5;
const LIBRARY_TARGET_RATIO = 3;
const LIB_RUNS = Number(process.env.KBSB_BENCH_LIB_RUNS ?? 60);
/**
 * V8 optimizes js-yaml's parser, then re-optimizes it (bursts of deopts) over the first calls; a
 * process that builds repeatedly runs past them.
 */
const WARM_RUNS = 30;

/** Every file under `dir` (relative path → bytes). */
function treeBytes(dir) {
  const out = new Map();
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile())
      out.set(
        path.relative(dir, path.join(e.parentPath ?? e.path, e.name)),
        readFileSync(path.join(e.parentPath ?? e.path, e.name)),
      );
  }
  return out;
}

function assertSameTree(a, b) {
  const x = treeBytes(a);
  const y = treeBytes(b);
  if (x.size !== y.size || [...x].some(([name, bytes]) => !y.get(name)?.equals(bytes)))
    throw new Error(`${a} and ${b} differ`);
}

/**
 * buildRepository in this process, each run into a fresh directory removed after it (outside the
 * time), each measured run followed by `tar -cf` of the tree it wrote, so that both see the machine
 * alike: { seconds (median), cpuSeconds (median of user+system), min, tar (median), out (the last
 * run's tree) }.
 */
async function libraryBuild(bundle, base, ref) {
  const wall = [];
  const cpu = [];
  const tar = [];
  let out;
  for (let run = 0; run < LIB_RUNS + WARM_RUNS; run++) {
    if (out) rmSync(path.dirname(out), { recursive: true, force: true });
    out = path.join(`${base}-${run}`, 'kbs');
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    await buildRepository({ bundle, outDir: out });
    const seconds = (performance.now() - t0) / 1000;
    const c = process.cpuUsage(c0);
    if (run >= WARM_RUNS) {
      wall.push(seconds);
      cpu.push((c.user + c.system) / 1e6);
      tar.push(timed('tar', ['-cf', ref, '-C', out, '.']).seconds);
    }
  }
  return { seconds: median(wall), cpuSeconds: median(cpu), min: Math.min(...wall), tar: median(tar), out };
}
const sizes = SIZES;
const { blobs, publicKeyFile } = await dataset(Math.max(...sizes));
const work = mkdtempSync(path.join(dataDir(), 'build-'));
process.on('exit', () => rmSync(work, { recursive: true, force: true }));

const rows = [];
for (const n of sizes) {
  const { base, bundle } = prepareSize(work, n, { blobs, publicKeyFile });
  const out = path.join(base, 'kbs');
  const tarOut = path.join(base, 'kbs.tar');
  const libOut = path.join(base, 'kbs-lib');
  const ref = path.join(base, 'ref.tar');
  const b = [];
  const t = [];
  const tarRef = [];
  const node0 = [];
  for (let run = 0; run < RUNS; run++) {
    node0.push(timed(process.execPath, ['-e', '0']).seconds);
    // A fresh output each run: a build whose tree is already in place writes nothing.
    b.push(cli(['build', '-c', bundle, '-o', `${out}-${run}`]));
    const r = timed('tar', ['-cf', ref, '-C', `${out}-${run}`, '.']);
    if (r.status !== 0) throw new Error(r.stderr);
    tarRef.push(r.seconds);
    t.push(cli(['build', '-c', bundle, '--tar', tarOut]));
  }
  const lib = await libraryBuild(bundle, libOut, ref);
  assertSameTree(`${out}-0`, lib.out);
  // The reference again, right after the library runs (the machine may have changed meanwhile).
  for (let run = 0; run < RUNS; run++) tarRef.push(timed('tar', ['-cf', ref, '-C', `${out}-0`, '.']).seconds);
  const policyBytes = statSync(path.join(`${out}-0`, 'default', 'security-policy', 'test')).size;
  execFileSync('tar', ['-tf', tarOut], { stdio: 'ignore' });
  rows.push({
    n,
    scopes: Math.ceil(n / 10),
    policyBytes,
    build: median(b.map((x) => x.seconds)),
    buildRss: Math.max(...b.map((x) => x.maxRssKiB)),
    buildCpu: median(b.map((x) => x.userSeconds + x.systemSeconds)),
    lib,
    tar: median(tarRef),
    node0: median(node0),
    buildTar: median(t.map((x) => x.seconds)),
    buildTarRss: Math.max(...t.map((x) => x.maxRssKiB)),
    tarBytes: statSync(tarOut).size,
  });
  rmSync(base, { recursive: true, force: true });
}

console.log(`machine: ${machine()}`);
console.log(
  `build -c bundle.yaml -o DIR and --tar FILE, median of ${RUNS}; references: tar -cf of the written tree (median of ${2 * RUNS}) and node -e 0 (median of ${RUNS}), alternated with the builds`,
);
console.log(
  `library: buildRepository({ bundle, outDir }) from dist/index.js in this (warm) process, each run into a fresh directory (removed after it) and followed by tar -cf of its tree, median of ${LIB_RUNS} after ${WARM_RUNS} unmeasured runs, output equal to the CLI's`,
);
const ratio = (a, c) => `${(a / c).toFixed(2)}x`;
for (const r of rows) {
  console.log(
    `N=${String(r.n).padStart(6)} (${r.scopes} scopes, policy ${(r.policyBytes / 1024).toFixed(0)} KiB)  build -o ${fmtS(r.build).padStart(8)} (CPU ${fmtS(r.buildCpu)})  node -e 0 ${fmtS(r.node0)}  tar -cf ${fmtS(r.tar).padStart(7)}  ` +
      `peak RSS ${fmtMiB(r.buildRss)};  build --tar ${fmtS(r.buildTar)} peak RSS ${fmtMiB(r.buildTarRss)} (${(r.tarBytes / 1024).toFixed(0)} KiB tarball)`,
  );
  console.log(
    `${' '.repeat(8)}library buildRepository ${fmtS(r.lib.seconds).padStart(8)} (min ${fmtS(r.lib.min)}, CPU ${fmtS(r.lib.cpuSeconds)})  tar -cf after each ${fmtS(r.lib.tar)}  ratio ${ratio(r.lib.seconds, r.lib.tar)}`,
  );
}
const growth = (key) =>
  rows
    .slice(1)
    .map((r, i) => `${rows[i].n}→${r.n}: ${ratio(r[key], rows[i][key])}`)
    .join(', ');
console.log(`growth (time): build ${growth('build')}; tar -cf ${growth('tar')}; build --tar ${growth('buildTar')}`);
console.log(`growth (peak RSS): build ${growth('buildRss')}; build --tar ${growth('buildTarRss')}`);
const last = rows[rows.length - 1];
console.log(
  `target: build CLI ≤ ${CLI_TARGET_SECONDS} s wall at N=${last.n}: ${verdict(last.build <= CLI_TARGET_SECONDS)} (${fmtS(last.build)}; node -e 0 alone ${fmtS(last.node0)})`,
);
console.log(
  `target: library call ≤ ${LIBRARY_TARGET_RATIO}x tar -cf at N=${last.n}: ${verdict(last.lib.seconds / last.lib.tar <= LIBRARY_TARGET_RATIO)} (${ratio(last.lib.seconds, last.lib.tar)})`,
);
const peak = Math.max(last.buildRss, last.buildTarRss);
console.log(`peak RSS at N=${last.n}: ${fmtMiB(peak)}`);
