/**
 * The CLI as another user (the unprivileged-stage tests run it as `nobody`) can run it. A checkout
 * under a private directory — `mktemp -d` makes them 0700 — is out of that user's reach, so then
 * package.json, dist/ and the runtime packages are copied to a world-readable directory under the
 * system temp dir, and that copy's CLI is used. Call `remove()` when done.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CLI, REPO_ROOT } from './paths.js';

export function cliRunnableBy(user: string): { cli: string; remove: () => void } {
  if (spawnSync('runuser', ['-u', user, '--', 'test', '-r', CLI]).status === 0) return { cli: CLI, remove: () => {} };
  const copy = mkdtempSync(path.join(os.tmpdir(), 'kbsb-cli-'));
  chmodSync(copy, 0o755);
  cpSync(path.join(REPO_ROOT, 'package.json'), path.join(copy, 'package.json'));
  cpSync(path.join(REPO_ROOT, 'dist'), path.join(copy, 'dist'), { recursive: true });
  for (const name of runtimePackages())
    cpSync(path.join(REPO_ROOT, 'node_modules', name), path.join(copy, 'node_modules', name), { recursive: true });
  const cli = path.join(copy, path.relative(REPO_ROOT, CLI));
  if (spawnSync('runuser', ['-u', user, '--', 'test', '-r', cli]).status !== 0)
    throw new Error(`${cli} is not readable by ${user} either`);
  return { cli, remove: () => rmSync(copy, { recursive: true, force: true }) };
}

/** package.json's dependencies and theirs, as npm installed them (flat node_modules). */
function runtimePackages(): string[] {
  const seen = new Set<string>();
  const visit = (manifest: string) => {
    const deps =
      (JSON.parse(readFileSync(manifest, 'utf8')) as { dependencies?: Record<string, string> }).dependencies ?? {};
    for (const name of Object.keys(deps)) {
      const dir = path.join(REPO_ROOT, 'node_modules', name);
      if (seen.has(name) || !existsSync(dir)) continue;
      seen.add(name);
      visit(path.join(dir, 'package.json'));
    }
  };
  visit(path.join(REPO_ROOT, 'package.json'));
  return [...seen];
}
