#!/usr/bin/env node
/**
 * `npm run bench`: runs the script of every target in turn (after `npm run build`), sharing one
 * signed data set, removed at the end. `npm run bench -- stage debugfs` runs only the scripts whose
 * names start with one of the words; `audit` (not a target) runs only when named.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const TARGETS = ['verify.mjs', 'cold-verify.mjs', 'stage.mjs', 'debugfs.mjs', 'build.mjs'];
const ON_REQUEST = ['audit.mjs'];

const here = path.dirname(fileURLToPath(import.meta.url));
const only = process.argv.slice(2);
const scripts =
  only.length === 0 ? TARGETS : [...TARGETS, ...ON_REQUEST].filter((f) => only.some((o) => f.startsWith(o)));
// One data set (key and signed images) shared by the scripts of this run, removed at the end.
const data = process.env.KBSB_BENCH_DATA ?? mkdtempSync(path.join(os.tmpdir(), 'kbsb-bench-data-'));
let failed = 0;
for (const file of scripts) {
  console.log(`\n== ${file} (${new Date().toISOString().slice(0, 19)}Z)`);
  const r = spawnSync(process.execPath, [path.join(here, file)], {
    stdio: 'inherit',
    env: { ...process.env, KBSB_BENCH_DATA: data },
  });
  if (r.status !== 0) failed++;
}
if (process.env.KBSB_BENCH_DATA === undefined) rmSync(data, { recursive: true, force: true });
process.exitCode = failed === 0 ? 0 : 1;
