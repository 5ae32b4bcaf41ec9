/**
 * SIGKILL at random instants: `build` (also while it swaps its output trees) always leaves the old or the
 * new tree at `-o` and `--host-config`; `stage` into a directory and into a loop-mounted ext4 image (root,
 * the default way) is undone byte for byte by `unstage` and finished by `stage` run again to exactly what
 * one uninterrupted run gives. A killed loop-mounted stage leaves its mount behind (no process is left to
 * unmount it): the next stage or unstage refuses the image naming the mount, and once the user has run
 * the umount it names, all is as above.
 */
import { existsSync, promises as fs, readdirSync } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findImageUsers } from '../../src/rootfs/image-in-use.js';
import { exampleBuildArgs, leftovers, treeSnapshot, twoExampleBuilds } from '../build/tree.js';
import { exited, groupAlive, sleep, startCli, until } from '../helpers/child.js';
import { runCli } from '../helpers/run-cli.js';
import { e2fsckClean, makeBareExt4, makeGuestTree, run, tempDir } from '../rootfs/images.js';
import { writeStageInput } from '../stage/fixtures.js';
import { snapshot, snapshotImage } from '../stage/snapshot.js';
import { seeded, themeRng } from './seed.js';

const BUILD_KILLS = 30;
const DIRECTORY_STAGE_KILLS = 20;
const IMAGE_STAGE_KILLS = 10;
const rng = themeRng('kills');

describe('build killed with SIGKILL', () => {
  let work: string;
  let buildMs: number;
  let trees: Awaited<ReturnType<typeof twoExampleBuilds>>['trees'];

  beforeAll(async () => {
    ({ work, trees, buildMs } = await twoExampleBuilds());
  }, 60_000);

  afterAll(async () => {
    if (work) await fs.rm(work, { recursive: true, force: true });
  });

  it(`${BUILD_KILLS} kills, half of them once the new tree is being put in place: the old or the new tree is always there`, async () => {
    const entries = () => readdirSync(work).join('\n');
    let swapKills = 0;
    for (let i = 0; i < BUILD_KILLS; i++) {
      const before = entries();
      const next: 'a' | 'b' = i % 2 === 0 ? 'a' : 'b';
      const child = startCli(exampleBuildArgs(next), { cwd: work });
      if (i % 2 === 1) {
        // a new entry beside the outputs: the new tree or the link that replaces the old one
        await until(child, () => entries() !== before);
        if (child.exitCode === null) swapKills++;
        await sleep(rng.int(4));
      } else await sleep(rng.next() * buildMs);
      child.kill('SIGKILL');
      await exited(child);
      const out = await treeSnapshot(path.join(work, 'out'));
      const host = await treeSnapshot(path.join(work, 'host'));
      expect([trees.a.out, trees.b.out], seeded(`kill ${i}: -o`)).toContainEqual(out);
      expect([trees.a.host, trees.b.host], seeded(`kill ${i}: --host-config`)).toContainEqual(host);
      if (i % 5 === 4) {
        const r = await runCli(exampleBuildArgs(next), { cwd: work });
        expect(r.code, r.stderr).toBe(0);
        expect(await treeSnapshot(path.join(work, 'out'))).toEqual(trees[next].out);
        expect(await leftovers(work), seeded(`after kill ${i}, the next run`)).toEqual([]);
      }
    }
    expect(swapKills, seeded('kills while the new tree was being put in place')).toBeGreaterThan(BUILD_KILLS / 4);
  }, 180_000);
});

describe('stage killed with SIGKILL', () => {
  let work: string;
  let cfg: string;
  let template: string;
  let original: Record<string, string>;
  let single: Record<string, string>;
  let templateImage: string;
  let imageOriginal: Record<string, string>;
  let imageSingle: Record<string, string>;
  let stageMs = 1000;
  let imageStageMs = 1500;

  beforeAll(async () => {
    work = await tempDir('kbs-hostile-kills-');
    cfg = await writeStageInput(work, 50, 'Kill Test CA');
    template = path.join(work, 'template');
    await makeGuestTree(template);
    original = await snapshot(template);
    const once = path.join(work, 'single');
    await run('cp', ['-a', template, once]);
    let started = Date.now();
    const r = await runCli(['stage', '-c', cfg, '--rootfs', once]);
    stageMs = Date.now() - started;
    expect(r.code, r.stderr).toBe(0);
    single = await snapshot(once);

    templateImage = path.join(work, 'template.img');
    await makeBareExt4(template, templateImage);
    imageOriginal = await snapshotImage(templateImage);
    const onceImage = path.join(work, 'single.img');
    await fs.copyFile(templateImage, onceImage);
    started = Date.now();
    const ri = await runCli(['stage', '-c', cfg, '--rootfs', onceImage]);
    imageStageMs = Date.now() - started;
    expect(ri.code, ri.stderr).toBe(0);
    imageSingle = await snapshotImage(onceImage);
    expect(imageSingle).not.toEqual(imageOriginal);
  }, 180_000);

  afterAll(async () => {
    if (work) await fs.rm(work, { recursive: true, force: true });
  });

  it(`${DIRECTORY_STAGE_KILLS} kills of a stage into a directory: unstage restores it, stage again completes it`, async () => {
    let partial = 0;
    for (let i = 0; i < DIRECTORY_STAGE_KILLS; i++) {
      const root = path.join(work, `dir-${i}`);
      await run('cp', ['-a', template, root]);
      const child = startCli(['stage', '-c', cfg, '--rootfs', root]);
      if (i % 2 === 1) {
        await until(child, () => existsSync(path.join(root, 'var/lib/kbs-bundler/staged.json')));
        await sleep(rng.int(40));
      } else await sleep(rng.next() * stageMs);
      child.kill('SIGKILL');
      await exited(child);
      const after = await snapshot(root);
      if (JSON.stringify(after) !== JSON.stringify(original) && JSON.stringify(after) !== JSON.stringify(single))
        partial++;
      const other = `${root}-again`;
      await run('cp', ['-a', root, other]);
      const un = await runCli(['unstage', '--rootfs', root]);
      if (un.code === 2) expect(un.stderr, seeded(`kill ${i}`)).toContain('nothing was staged here');
      else expect(un.code, seeded(`kill ${i}: ${un.stderr}`)).toBe(0);
      expect(await snapshot(root), seeded(`unstage after kill ${i}`)).toEqual(original);
      const again = await runCli(['stage', '-c', cfg, '--rootfs', other]);
      expect(again.code, seeded(`kill ${i}: ${again.stderr}`)).toBe(0);
      expect(await snapshot(other), seeded(`stage again after kill ${i}`)).toEqual(single);
      await fs.rm(root, { recursive: true });
      await fs.rm(other, { recursive: true });
    }
    expect(partial, seeded('kills that left a half-staged tree')).toBeGreaterThan(0);
  }, 180_000);

  it(`${IMAGE_STAGE_KILLS} kills of a stage into a loop-mounted ext4 image: after the umount, unstage restores the files, stage again completes them`, async () => {
    let mountedKills = 0;
    // the killed runs' mount points (made before a kill, never removed by the killed run) stay in here
    const tmp = path.join(work, 'tmp');
    await fs.mkdir(tmp);
    for (let i = 0; i < IMAGE_STAGE_KILLS; i++) {
      const img = path.join(work, `img-${i}.img`);
      await fs.copyFile(templateImage, img);
      // the whole process group: a mount or umount it started must not finish the job after the kill
      const child = startCli(['stage', '-c', cfg, '--rootfs', img], { group: true, env: { TMPDIR: tmp } });
      if (i % 2 === 1) {
        // while the image is mounted, where a kill leaves the most behind
        while (child.exitCode === null && findImageUsers(img).every((u) => u.mountPoints.length === 0)) await sleep(2);
        await sleep(rng.int(60));
      } else await sleep(rng.next() * imageStageMs);
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch (e) {
        // the run finished before the kill came: what follows holds for a complete stage too
        if ((e as NodeJS.ErrnoException).code !== 'ESRCH') throw e;
      }
      await exited(child);
      while (groupAlive(child.pid!)) await sleep(5);
      const users = findImageUsers(img);
      if (users.length > 0) {
        mountedKills++;
        const refused = await runCli(['unstage', '--rootfs', img]);
        expect(refused.code, seeded(`kill ${i}: ${refused.stderr}`)).toBe(2);
        expect(refused.stderr.trim().split('\n'), seeded(`kill ${i}`)).toHaveLength(1);
        expect(refused.stderr, seeded(`kill ${i}`)).toContain(users[0]!.mountPoints[0] ?? users[0]!.device);
        for (const u of users) {
          for (const m of u.mountPoints) {
            await run('umount', [m]);
            await fs.rmdir(m).catch(() => undefined);
          }
          await run('losetup', ['-d', u.device]).catch(() => undefined);
        }
      }
      expect(findImageUsers(img), seeded(`kill ${i}: the image is still in use`)).toEqual([]);
      const other = `${img}-again`;
      await fs.copyFile(img, other);
      const un = await runCli(['unstage', '--rootfs', img]);
      if (un.code === 2) expect(un.stderr, seeded(`kill ${i}`)).toContain('nothing was staged here');
      else expect(un.code, seeded(`kill ${i}: ${un.stderr}`)).toBe(0);
      expect(await snapshotImage(img), seeded(`unstage after kill ${i}`)).toEqual(imageOriginal);
      expect((await e2fsckClean(img, 0)).code, seeded(`kill ${i}: fsck after unstage`)).toBe(0);
      const again = await runCli(['stage', '-c', cfg, '--rootfs', other]);
      expect(again.code, seeded(`kill ${i}: ${again.stderr}`)).toBe(0);
      expect(await snapshotImage(other), seeded(`stage again after kill ${i}`)).toEqual(imageSingle);
      await fs.rm(img);
      await fs.rm(other);
    }
    expect(mountedKills, seeded('kills while the image was mounted')).toBeGreaterThan(0);
  }, 240_000);
});
