#!/usr/bin/env node
/**
 * `npm run differential -- --oracle PATH …`: bundles test/differential/main.ts (TypeScript, importing
 * src/ directly) with rolldown and runs it with the arguments given. The bundle is written under
 * node_modules/.cache so that the packages left outside it resolve from the checkout, and removed after.
 */
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'rolldown';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const out = path.join(ROOT, 'node_modules', '.cache', `kbs-bundler-differential-${process.pid}`);
try {
  await build({
    input: path.join(ROOT, 'test/differential/main.ts'),
    platform: 'node',
    external: [/^node:/, 'openpgp', 'tar-stream', 'yaml', 'zod', 'commander'],
    resolve: { extensionAlias: { '.js': ['.ts', '.js'] } },
    logLevel: 'warn',
    output: { dir: out, format: 'esm', entryFileNames: 'differential.mjs', codeSplitting: false },
  });
  const r = spawnSync(process.execPath, [path.join(out, 'differential.mjs'), ...process.argv.slice(2)], {
    stdio: 'inherit',
  });
  process.exitCode = r.status ?? 2;
} finally {
  rmSync(out, { recursive: true, force: true });
}
