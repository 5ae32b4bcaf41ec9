#!/usr/bin/env node
/**
 * One `verify` from a cold start (issue #7 target 5): a new CLI process deciding as the guest
 * whether image 0 may be pulled, from a local manifest, a nested KBS tree and a directory rootfs
 * holding its one signature — beside `node -e 0`, interleaved, median of RUNS each.
 * Target: ≤ 3× node -e 0.
 *
 * Run after `npm run build`: `node bench/cold-verify.mjs` (or `npm run bench -- cold`).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { cli, dataset, dataDir, fmtMiB, fmtS, machine, manifestOf, median, REGISTRY, repositoryOf, timed, writeBundle, writeStore } from './lib/dataset.mjs';

const RUNS = Number(process.env.KBSB_BENCH_RUNS ?? 11);
const { blobs, publicKeyFile } = await dataset(1);
const base = mkdtempSync(path.join(dataDir(), 'cold-'));
process.on('exit', () => rmSync(base, { recursive: true, force: true }));

const store = path.join(base, 'sigstore');
writeStore(store, blobs, 1);
const bundle = writeBundle(base, { count: 1, publicKeyFile, signatures: store });
const kbs = path.join(base, 'kbs');
const root = path.join(base, 'rootfs');
mkdirSync(path.join(root, 'etc'), { recursive: true });
cli(['build', '-c', bundle, '-o', kbs]);
cli(['stage', '-c', bundle, '--rootfs', root]);
const manifest = path.join(base, 'manifest.json');
writeFileSync(manifest, manifestOf(0));
const image = `${REGISTRY}/${repositoryOf(0)}:1.0`;
const args = ['verify', image, '--kbs', kbs, '--rootfs', root, '--manifest', manifest];

const first = cli(args);
if (!/allow/i.test(first.stdout)) throw new Error(`expected the image to be allowed:\n${first.stdout}`);
const verify = [];
const node0 = [];
for (let i = 0; i < RUNS; i++) {
  node0.push(timed(process.execPath, ['-e', '0']));
  verify.push(cli(args));
}
const v = median(verify.map((r) => r.seconds));
const n = median(node0.map((r) => r.seconds));
console.log(`machine: ${machine()}`);
console.log(`kbs-bundler ${args.slice(0, 2).join(' ')} --kbs DIR --rootfs DIR --manifest FILE (guest decision: allowed)`);
console.log(`cold verify, median of ${RUNS}: ${fmtS(v)} (min ${fmtS(Math.min(...verify.map((r) => r.seconds)))}), peak RSS ${fmtMiB(median(verify.map((r) => r.maxRssKiB)))}`);
console.log(`node -e 0,   median of ${RUNS}: ${fmtS(n)} (min ${fmtS(Math.min(...node0.map((r) => r.seconds)))}), peak RSS ${fmtMiB(median(node0.map((r) => r.maxRssKiB)))}`);
console.log(`ratio: ${(v / n).toFixed(2)}x; target ≤ 3x: ${v / n <= 3 ? 'met' : 'NOT met'}`);
