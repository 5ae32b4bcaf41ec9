/**
 * unstage killed with SIGKILL at random instants while it takes several hundred staged signatures out
 * of a directory rootfs: unstage run again gives back the original tree. And two runs at once on one
 * rootfs: the second stops, naming the lock. (stage killed at random instants, into a directory and an
 * image: test/hostile/kills.test.ts.)
 */
import { promises as fs, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exited, sleep, startCli, until } from '../helpers/child.js';
import { runCli } from '../helpers/run-cli.js';
import { makeGuestTree, run, tempDir } from '../rootfs/images.js';
import { writeStageInput } from './fixtures.js';
import { snapshot } from './snapshot.js';

const IMAGES = 300;
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

describe('unstage killed with SIGKILL at a random instant', () => {
  it('unstage run again gives back the original tree', async () => {
    for (let i = 0; i < 10; i++) {
      const root = path.join(work, `unstage-killed-${i}`);
      await run('cp', ['-a', path.join(work, 'single'), root]);
      const child = startCli(['unstage', '--rootfs', root]);
      await sleep(Math.random() * 800);
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
    const first = startCli(['stage', '-c', cfg, '--rootfs', root]);
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
