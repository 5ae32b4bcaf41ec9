#!/usr/bin/env node
/**
 * Stage: `kbs-bundler stage` of N images (one signature each) from a lookaside store into
 *  - a directory rootfs, beside `cp -a` of the same staged tree into a fresh directory;
 *  - an ext4 disk image (mkfs.ext4, staged through stage's own loop mount; root only), beside
 *    `mount -o loop` + `cp -a` of the same tree into a fresh image of the same size + `umount`;
 * at N = 100, 1,000, 10,000 (KBSB_BENCH_SIZES), with the CLI's peak RSS (/usr/bin/time -v).
 * Targets at the largest size: ≤ 1.5× the reference, both kinds; peak RSS ≤ 200 MiB. How time and
 * memory grow with N is printed too.
 *
 * Run after `npm run build`: `node bench/stage.mjs` (or `npm run bench -- stage`). Each size runs
 * KBSB_BENCH_RUNS (default 3) alternated stage/reference pairs and reports the pair with the median
 * ratio (the host disk's speed varies between runs); the peak RSS is the largest of the runs.
 * KBSB_BENCH_PHASES=1 adds, per size, where the time of a directory stage goes (module load,
 * bundle.yaml, store read, planning, writes: wall, CPU, GC) from one in-process run.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import * as path from 'node:path';
import {
  cli,
  dataset,
  dataDir,
  fmtMiB,
  fmtS,
  isRoot,
  machine,
  makeExt4Image,
  medianBy,
  prepareSize,
  runsOr,
  SIZES,
  skeleton,
  timed,
  verdict,
} from './lib/dataset.mjs';

/** Runs per size (stage and its reference alternated); the pair with the median ratio is reported. */
const RUNS = runsOr(3);
const sizes = SIZES;
const { blobs, publicKeyFile } = await dataset(Math.max(...sizes));
const work = mkdtempSync(path.join(dataDir(), 'stage-'));
process.on('exit', () => rmSync(work, { recursive: true, force: true }));

/**
 * Where the time of a stage into a directory goes, in one process: the same library calls the CLI
 * makes (module load, bundle.yaml, store read, planning, writes), each with wall time, CPU time
 * (user/system), GC time (perf_hooks 'gc' entries) and the heap after it; then the peak RSS.
 */
const PHASES = `
import { mkdirSync } from 'node:fs';
import { PerformanceObserver } from 'node:perf_hooks';
const [dist, bundleFile, root] = process.argv.slice(1);
let gc = 0;
new PerformanceObserver((l) => { for (const e of l.getEntries()) gc += e.duration; }).observe({ entryTypes: ['gc'] });
const out = [];
let t = performance.now(), c = process.cpuUsage(), g = 0;
const mark = (name) => {
  const now = performance.now(), cpu = process.cpuUsage(c);
  out.push(name + ' ' + (now - t).toFixed(0) + ' ms (CPU ' + (cpu.user / 1000).toFixed(0) + ' user + ' + (cpu.system / 1000).toFixed(0) + ' sys, GC ' + (gc - g).toFixed(0) + ' ms, heap ' + (process.memoryUsage().heapUsed / 2 ** 20).toFixed(0) + ' MiB)');
  t = performance.now(); c = process.cpuUsage(); g = gc;
};
const { loadBundle } = await import(dist + '/bundle/index.js');
const { readSignatures } = await import(dist + '/stage/stage.js');
const { planStage } = await import(dist + '/stage/plan.js');
const { openRootfsTarget } = await import(dist + '/rootfs/target.js');
mark('modules');
const bundle = await loadBundle(bundleFile);
mark('bundle.yaml');
for (const d of ['etc', 'usr/bin', 'var/lib']) mkdirSync(root + '/' + d, { recursive: true });
const target = await openRootfsTarget(root, {});
const signatures = await readSignatures(bundle.signatureSources);
mark('store read');
const plan = await planStage(target.view, bundle, signatures, {});
mark('planning');
await target.apply(plan.changes, {});
mark('writes');
console.log(out.join('; ') + '; peak RSS ' + (process.resourceUsage().maxRSS / 1024).toFixed(1) + ' MiB');
`;
const DIST = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', 'dist');
const phaseRows = [];

const rows = [];
for (const n of sizes) {
  const { base, bundle } = prepareSize(work, n, { blobs, publicKeyFile });

  // directory rootfs: RUNS alternated pairs (fresh rootfs, stage, sync; cp -a of the staged tree into a
  // fresh directory, sync), each side starting with the store's and the last run's writes on disk.
  const pairs = [];
  let root;
  for (let run = 0; run < RUNS; run++) {
    root = path.join(base, `rootfs-${run}`);
    skeleton(root);
    execFileSync('sync');
    const st = cli(['stage', '-c', bundle, '--rootfs', root]);
    const files = Number(
      spawnSync('sh', ['-c', `find '${root}/var/lib/containers/sigstore' -type f | wc -l`], {
        encoding: 'utf8',
      }).stdout.trim(),
    );
    if (files !== n) throw new Error(`stage wrote ${files} signature files, expected ${n}`);
    execFileSync('sync');
    const cp = timed('cp', ['-a', root, path.join(base, `rootfs-copy-${run}`)]);
    if (cp.status !== 0) throw new Error(cp.stderr);
    pairs.push({ st, cp });
  }
  const mid = medianBy(pairs, (p) => p.st.seconds / p.cp.seconds);
  const { st, cp } = mid;
  const row = {
    n,
    dir: st.seconds,
    dirRss: Math.max(...pairs.map((p) => p.st.maxRssKiB)),
    cp: cp.seconds,
    cpu: st.userSeconds + st.systemSeconds,
    cpCpu: cp.userSeconds + cp.systemSeconds,
    dirRuns: pairs.map((p) => p.st.seconds / p.cp.seconds),
  };
  if (process.env.KBSB_BENCH_PHASES) {
    const ph = spawnSync(
      process.execPath,
      ['--input-type=module', '-e', PHASES, DIST, bundle, path.join(base, 'rootfs-phases')],
      { encoding: 'utf8' },
    );
    if (ph.status !== 0) throw new Error(ph.stderr);
    phaseRows.push(`N=${n}: ${ph.stdout.trim()}`);
  }

  if (isRoot) {
    const skel = path.join(base, 'skel');
    skeleton(skel);
    const mnt = path.join(base, 'mnt');
    mkdirSync(mnt);
    const imagePairs = [];
    for (let run = 0; run < RUNS; run++) {
      const imgA = path.join(base, 'a.img');
      const imgB = path.join(base, 'b.img');
      makeExt4Image(imgA, n, skel);
      makeExt4Image(imgB, n, skel);
      execFileSync('sync');
      const si = cli(['stage', '-c', bundle, '--rootfs', imgA]);
      // The reference: mount, cp -a the staged tree's contents into the same kind of image, unmount.
      const t0 = performance.now();
      execFileSync('mount', ['-o', 'loop', imgB, mnt]);
      const c = spawnSync('sh', ['-c', `cp -a '${root}'/. '${mnt}'/`]);
      execFileSync('sync', ['-f', mnt]);
      execFileSync('umount', [mnt]);
      const ref = (performance.now() - t0) / 1000;
      if (c.status !== 0) throw new Error(String(c.stderr));
      imagePairs.push({ si, ref });
      rmSync(imgA, { force: true });
      rmSync(imgB, { force: true });
    }
    const { si, ref } = medianBy(imagePairs, (p) => p.si.seconds / p.ref);
    Object.assign(row, {
      img: si.seconds,
      imgRss: Math.max(...imagePairs.map((p) => p.si.maxRssKiB)),
      imgCp: ref,
      imgRuns: imagePairs.map((p) => p.si.seconds / p.ref),
    });
  }
  rows.push(row);
  rmSync(base, { recursive: true, force: true });
}

console.log(`machine: ${machine()}`);
console.log('stage of N images (one signature each); reference measured in the same run');
const ratio = (a, b) => `${(a / b).toFixed(2)}x`;
const runsOf = (runs) =>
  runs.length > 1 ? ` (median of ${runs.length}: ${runs.map((x) => `${x.toFixed(2)}x`).join(', ')})` : '';
for (const r of rows) {
  console.log(
    `N=${String(r.n).padStart(6)}  directory: stage ${fmtS(r.dir).padStart(8)}  cp -a ${fmtS(r.cp).padStart(8)}  ratio ${ratio(r.dir, r.cp)}${runsOf(r.dirRuns)}  peak RSS ${fmtMiB(r.dirRss)}  (CPU user+sys: stage ${fmtS(r.cpu)}, cp -a ${fmtS(r.cpCpu)})`,
  );
  if (r.img !== undefined) {
    console.log(
      `          ext4 image: stage ${fmtS(r.img).padStart(8)}  mount+cp -a+umount ${fmtS(r.imgCp).padStart(8)}  ratio ${ratio(r.img, r.imgCp)}${runsOf(r.imgRuns)}  peak RSS ${fmtMiB(r.imgRss)}`,
    );
  }
}
const growth = (key) =>
  rows
    .slice(1)
    .map((r, i) => `${rows[i].n}→${r.n}: ${ratio(r[key], rows[i][key])}`)
    .join(', ');
console.log(`growth (time), directory: ${growth('dir')}; cp -a: ${growth('cp')}`);
if (isRoot) console.log(`growth (time), ext4 image: ${growth('img')}; reference: ${growth('imgCp')}`);
console.log(`growth (peak RSS), directory: ${growth('dirRss')}${isRoot ? `; ext4 image: ${growth('imgRss')}` : ''}`);
if (phaseRows.length > 0)
  console.log(`phases of a stage into a directory, in one process (KBSB_BENCH_PHASES):\n  ${phaseRows.join('\n  ')}`);
const last = rows[rows.length - 1];
console.log(
  `target: directory ≤ 1.5x cp -a at N=${last.n}: ${verdict(last.dir / last.cp <= 1.5)} (${ratio(last.dir, last.cp)})`,
);
if (isRoot)
  console.log(
    `target: ext4 image ≤ 1.5x mount + cp -a + umount at N=${last.n}: ${verdict(last.img / last.imgCp <= 1.5)} (${ratio(last.img, last.imgCp)})`,
  );
const peak = Math.max(last.dirRss, last.imgRss ?? 0);
console.log(`target: peak RSS ≤ 200 MiB at N=${last.n}: ${verdict(peak <= 200 * 1024)} (${fmtMiB(peak)})`);
if (!isRoot) console.log('(not root: the ext4 loop-mount figures were skipped)');
