#!/usr/bin/env node
/**
 * One `verify` from a cold start: a new CLI process deciding as the guest
 * whether image 0 may be pulled, from a local manifest, a nested KBS tree and a directory rootfs
 * holding its one signature — beside `node -e 0`, interleaved, median of RUNS each. Wall time is the
 * target; CPU time (user + system, from /usr/bin/time) is printed too, as it is far less disturbed by
 * other load on the machine. Once with the key as gpg --export writes it, once armored.
 * Target: ≤ 3× node -e 0.
 *
 * Run after `npm run build`: `node bench/cold-verify.mjs` (or `npm run bench -- cold`).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import {
  CLI,
  cli,
  dataset,
  dataDir,
  fmtMiB,
  fmtS,
  machine,
  manifestOf,
  median,
  REGISTRY,
  repositoryOf,
  runsOr,
  timed,
  verdict,
  writeBundle,
  writeStore,
} from './lib/dataset.mjs';

const RUNS = runsOr(11);
const { blobs, publicKeyFile, armoredKeyFile } = await dataset(1);
const base = mkdtempSync(path.join(dataDir(), 'cold-'));
process.on('exit', () => rmSync(base, { recursive: true, force: true }));

const store = path.join(base, 'sigstore');
writeStore(store, blobs, 1);
const manifest = path.join(base, 'manifest.json');
writeFileSync(manifest, manifestOf(0));
const image = `${REGISTRY}/${repositoryOf(0)}:1.0`;

/** A KBS tree and a staged directory rootfs for one image, its bundle trusting `keyFile`. */
function setup(name, keyFile) {
  const dir = path.join(base, name);
  const bundle = writeBundle(dir, { count: 1, publicKeyFile: keyFile, signatures: store });
  const kbs = path.join(dir, 'kbs');
  const root = path.join(dir, 'rootfs');
  mkdirSync(path.join(root, 'etc'), { recursive: true });
  cli(['build', '-c', bundle, '-o', kbs]);
  cli(['stage', '-c', bundle, '--rootfs', root]);
  return ['verify', image, '--kbs', kbs, '--rootfs', root, '--manifest', manifest];
}

const forms = [
  ['binary key (gpg --export)', setup('binary', publicKeyFile)],
  ['armored key (gpg --export --armor)', setup('armored', armoredKeyFile)],
];
const results = forms.map(([label, args]) => {
  const first = cli(args);
  if (!/^ALLOWED/m.test(first.stdout)) throw new Error(`expected the image to be allowed:\n${first.stdout}`);
  return { label, args, runs: [] };
});
const node0 = [];
for (let i = 0; i < RUNS; i++) {
  node0.push(timed(process.execPath, ['-e', '0']));
  for (const r of results) r.runs.push(cli(r.args));
}
const cpu = (r) => r.userSeconds + r.systemSeconds;
const n = median(node0.map((r) => r.seconds));
const nCpu = median(node0.map(cpu));
console.log(`machine: ${machine()}`);
console.log(`CLI: ${CLI} (package.json bin)`);
console.log(
  `kbs-bundler verify IMAGE --kbs DIR --rootfs DIR --manifest FILE (guest decision: allowed); median of ${RUNS}, interleaved with node -e 0`,
);
console.log(
  `node -e 0: wall ${fmtS(n)} (min ${fmtS(Math.min(...node0.map((r) => r.seconds)))}), CPU ${fmtS(nCpu)}, peak RSS ${fmtMiB(median(node0.map((r) => r.maxRssKiB)))}`,
);
for (const r of results) {
  const v = median(r.runs.map((x) => x.seconds));
  const c = median(r.runs.map(cpu));
  console.log(
    `cold verify, ${r.label}: wall ${fmtS(v)} (min ${fmtS(Math.min(...r.runs.map((x) => x.seconds)))}), CPU ${fmtS(c)}, peak RSS ${fmtMiB(median(r.runs.map((x) => x.maxRssKiB)))}; ` +
      `ratio wall ${(v / n).toFixed(2)}x, CPU ${(c / nCpu).toFixed(2)}x; target ≤ 3x node -e 0 (wall): ${verdict(v / n <= 3)}`,
  );
}
