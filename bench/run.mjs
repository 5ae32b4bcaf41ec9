#!/usr/bin/env node
/** `npm run bench`: builds nothing, runs every bench/*.mjs script (except this one) in turn after `npm run build`. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const only = process.argv.slice(2);
// One data set (key and signed images) shared by the scripts of this run, removed at the end.
const data = mkdtempSync(path.join(os.tmpdir(), 'kbsb-bench-data-'));
let failed = 0;
for (const file of readdirSync(here)
  .filter((f) => f.endsWith('.mjs') && f !== 'run.mjs')
  .sort()) {
  if (only.length > 0 && !only.some((o) => file.startsWith(o))) continue;
  console.log(`\n== ${file}`);
  const r = spawnSync(process.execPath, [path.join(here, file)], {
    stdio: 'inherit',
    env: { ...process.env, KBSB_BENCH_DATA: data },
  });
  if (r.status !== 0) failed++;
}
rmSync(data, { recursive: true, force: true });
process.exitCode = failed === 0 ? 0 : 1;
