/**
 * stage killed with SIGKILL at random instants while it stages several hundred signatures into a
 * directory rootfs: afterwards unstage gives back the original tree, and stage run again gives
 * exactly the tree a single run gives; unstage killed the same way and run again gives back the
 * original. And two runs at once on one rootfs: the second stops.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, promises as fs, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI } from '../helpers/paths.js';
import { runCli } from '../helpers/run-cli.js';
import { makeGuestTree, run, tempDir } from '../rootfs/images.js';
import { writeStageInput } from './fixtures.js';
import { snapshot } from './snapshot.js';

const IMAGES = 300;
const KILLS = 32;
let work: string;
let cfg: string;
let template: string;
let original: Record<string, string>;
let single: Record<string, string>;

beforeAll(async () => {
  work = await tempDir('kbs-stage-crash-');
  cfg = await writeStageInput(work, IMAGES, 'Test Registry CA');
  template = path.join(work, 'template');
  await makeGuestTree(template);
  original = await snapshot(template);
  const once = await copyOfTemplate('single');
  const r = await runCli(['stage', '-c', cfg, '--rootfs', once]);
  expect(r.code, r.stderr).toBe(0);
  single = await snapshot(once);
}, 180_000);

afterAll(async () => {
  await fs.rm(work, { recursive: true, force: true });
});

async function copyOfTemplate(name: string): Promise<string> {
  const dir = path.join(work, name);
  await run('cp', ['-a', template, dir]);
  return dir;
}

function startStage(root: string): ChildProcess {
  return spawn(process.execPath, [CLI, 'stage', '-c', cfg, '--rootfs', root], {
    stdio: 'ignore',
    env: { ...process.env, NO_COLOR: '1' },
  });
}

const exited = (child: ChildProcess) =>
  new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });

/** Resolves when `cond` holds (checked on every turn of the event loop) or the child has exited. */
async function until(child: ChildProcess, cond: () => boolean): Promise<void> {
  while (!cond() && child.exitCode === null && child.signalCode === null)
    await new Promise((resolve) => setImmediate(resolve));
}

describe('stage killed with SIGKILL at a random instant', () => {
  it(`${KILLS} kills: unstage restores the original tree, stage again gives the single-run tree`, async () => {
    let partial = 0;
    for (let i = 0; i < KILLS; i++) {
      const root = await copyOfTemplate(`killed-${i}`);
      const child = startStage(root);
      // Half of the kills at any instant of the run, half once the intent is written (while the
      // changes are being made), where a kill has the most to break.
      if (i % 2 === 1) await until(child, () => existsSync(path.join(root, 'var/lib/kbs-bundler/staged.json')));
      await new Promise((resolve) => setTimeout(resolve, Math.random() * (i % 2 === 1 ? 60 : 1500)));
      child.kill('SIGKILL');
      await exited(child);
      const after = await snapshot(root);
      if (JSON.stringify(after) !== JSON.stringify(original) && JSON.stringify(after) !== JSON.stringify(single))
        partial++;

      const other = path.join(work, `killed-${i}-restage`);
      await run('cp', ['-a', root, other]);
      const un = await runCli(['unstage', '--rootfs', root]);
      if (un.code === 2) expect(un.stderr, `kill ${i}`).toContain('nothing was staged here');
      else expect(un.code, `kill ${i}: ${un.stderr}`).toBe(0);
      expect(await snapshot(root), `unstage after kill ${i}`).toEqual(original);

      const again = await runCli(['stage', '-c', cfg, '--rootfs', other]);
      expect(again.code, `kill ${i}: ${again.stderr}`).toBe(0);
      expect(await snapshot(other), `stage again after kill ${i}`).toEqual(single);
      await fs.rm(root, { recursive: true });
      await fs.rm(other, { recursive: true });
    }
    // the kills did land while the tree was half-staged, not only before or after
    expect(partial).toBeGreaterThan(0);
  }, 600_000);
});

describe('unstage killed with SIGKILL at a random instant', () => {
  it('unstage run again gives back the original tree', async () => {
    for (let i = 0; i < 10; i++) {
      const root = path.join(work, `unstage-killed-${i}`);
      await run('cp', ['-a', path.join(work, 'single'), root]);
      const child = spawn(process.execPath, [CLI, 'unstage', '--rootfs', root], { stdio: 'ignore' });
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 800));
      child.kill('SIGKILL');
      await exited(child);
      const again = await runCli(['unstage', '--rootfs', root]);
      if (again.code === 2) expect(again.stderr, `kill ${i}`).toContain('nothing was staged here');
      else expect(again.code, `kill ${i}: ${again.stderr}`).toBe(0);
      expect(await snapshot(root), `unstage again after kill ${i}`).toEqual(original);
      await fs.rm(root, { recursive: true });
    }
  }, 300_000);
});

describe('two stages at once on one rootfs', () => {
  it('the second exits 2 saying another run holds the rootfs; the first finishes as a single run', async () => {
    const root = await copyOfTemplate('concurrent');
    const first = startStage(root);
    try {
      // once the first run holds the lock it is stopped, so the second surely overlaps it; the lock is
      // looked for in /proc/locks (taking it to test it could make the first run find it taken)
      const ino = (await fs.stat(root)).ino;
      const locked = () =>
        readFileSync('/proc/locks', 'utf8')
          .split('\n')
          .some((l) => l.includes(' FLOCK ') && (l.trim().split(/\s+/)[5] ?? '').endsWith(`:${ino}`));
      await until(first, locked);
      expect(first.exitCode).toBe(null);
      first.kill('SIGSTOP');
      for (const args of [
        ['stage', '-c', cfg, '--rootfs', root],
        ['unstage', '--rootfs', root],
      ]) {
        const second = await runCli(args);
        expect(second.code, second.stderr).toBe(2);
        expect(second.stderr.trim()).toBe(
          `kbs-bundler: ${root}: another kbs-bundler stage or unstage is working on this rootfs (it holds the lock); run again when it has finished`,
        );
      }
    } finally {
      first.kill('SIGCONT');
      await exited(first);
    }
    expect(first.exitCode).toBe(0);
    expect(await snapshot(root)).toEqual(single);
  }, 120_000);
});
