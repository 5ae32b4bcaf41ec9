#!/usr/bin/env node
/**
 * Stage N signatures (default 4,000) into an ext4 image without mounting it: `stage --no-mount`,
 * the path an unprivileged user (or a container without loop devices) takes, writing through
 * debugfs — beside the same stage through stage's own loop mount, into a fresh image made alike.
 * KBSB_BENCH_RUNS (default 3) pairs, alternating which side goes first; the pair with the median
 * ratio is reported with every pair's ratio. Target: debugfs ≤ 4× the loop mount.
 *
 * The loop mount needs root; without it only the debugfs figure is printed. Afterwards the last
 * debugfs-staged image is mounted read-only (root) and must hold N signature files, and e2fsck -fn
 * must find it clean.
 *
 * Run after `npm run build`: `node bench/debugfs.mjs` (or `npm run bench -- debugfs`);
 * KBSB_BENCH_DEBUGFS_SIZE=N for another size.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import * as path from 'node:path';
import {
  cli,
  dataDir,
  dataset,
  fmtMiB,
  fmtS,
  isRoot,
  machine,
  makeExt4Image,
  medianBy,
  prepareSize,
  runsOr,
  skeleton,
  spawnOk,
  verdict,
} from './lib/dataset.mjs';

const N = Number(process.env.KBSB_BENCH_DEBUGFS_SIZE ?? 4000);
const RUNS = runsOr(3);
const TARGET = 4;

const { blobs, publicKeyFile } = await dataset(N);
const work = mkdtempSync(path.join(dataDir(), 'debugfs-'));
process.on('exit', () => rmSync(work, { recursive: true, force: true }));
const { base, bundle } = prepareSize(work, N, { blobs, publicKeyFile });
const skel = path.join(base, 'skel');
skeleton(skel);

/** One stage into a fresh image: the CLI's wall time, CPU and peak RSS. */
function stageInto(img, noMount) {
  makeExt4Image(img, N, skel);
  spawnOk('sync', []);
  return cli(['stage', '-c', bundle, '--rootfs', img, ...(noMount ? ['--no-mount'] : [])]);
}

const debugfsImg = path.join(base, 'debugfs.img');
const mountImg = path.join(base, 'mount.img');
const pairs = [];
for (let run = 0; run < RUNS; run++) {
  if (!isRoot) {
    pairs.push({ debugfs: stageInto(debugfsImg, true) });
    continue;
  }
  const pair = {};
  for (const side of run % 2 === 0 ? ['debugfs', 'mount'] : ['mount', 'debugfs'])
    pair[side] = stageInto(side === 'debugfs' ? debugfsImg : mountImg, side === 'debugfs');
  pairs.push(pair);
  rmSync(mountImg, { force: true });
}

spawnOk('e2fsck', ['-fn', debugfsImg]);
let files = 'not counted (needs root to mount)';
if (isRoot) {
  const mnt = path.join(base, 'mnt');
  mkdirSync(mnt);
  spawnOk('mount', ['-o', 'loop,ro', debugfsImg, mnt]);
  try {
    const found = spawnOk('find', [path.join(mnt, 'var/lib/containers/sigstore'), '-type', 'f', '-name', 'signature-*'])
      .split('\n')
      .filter(Boolean).length;
    if (found !== N) throw new Error(`the debugfs-staged image holds ${found} signature files, expected ${N}`);
    files = `${found} signature files read back through a loop mount`;
  } finally {
    spawnOk('umount', [mnt]);
  }
}

console.log(`machine: ${machine()}`);
console.log(
  `stage of N=${N} images (one signature each) into a fresh ext4 image: --no-mount (debugfs) beside the loop mount; ${RUNS} pairs, alternated`,
);
const cpu = (r) => r.userSeconds + r.systemSeconds;
if (!isRoot) {
  const d = medianBy(pairs, (p) => p.debugfs.seconds).debugfs;
  console.log(`debugfs: ${fmtS(d.seconds)} (CPU ${fmtS(cpu(d))}, peak RSS ${fmtMiB(d.maxRssKiB)}); ${files}`);
  console.log('(not root: no loop mount to compare with; the target is not judged)');
} else {
  const mid = medianBy(pairs, (p) => p.debugfs.seconds / p.mount.seconds);
  const ratio = mid.debugfs.seconds / mid.mount.seconds;
  console.log(
    `debugfs ${fmtS(mid.debugfs.seconds)} (CPU ${fmtS(cpu(mid.debugfs))}, peak RSS ${fmtMiB(mid.debugfs.maxRssKiB)})  ` +
      `loop mount ${fmtS(mid.mount.seconds)} (CPU ${fmtS(cpu(mid.mount))}, peak RSS ${fmtMiB(mid.mount.maxRssKiB)})  ` +
      `ratio ${ratio.toFixed(2)}x (pairs: ${pairs.map((p) => `${(p.debugfs.seconds / p.mount.seconds).toFixed(2)}x`).join(', ')})`,
  );
  console.log(`check: ${files}; e2fsck -fn clean`);
  console.log(
    `target: debugfs ≤ ${TARGET}x the loop mount at N=${N}: ${verdict(ratio <= TARGET)} (${ratio.toFixed(2)}x)`,
  );
}
