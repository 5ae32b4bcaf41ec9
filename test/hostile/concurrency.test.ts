/**
 * Runs at once on one target: two stages (or a stage and an unstage) on one rootfs directory or one
 * ext4 image, two builds to one output. Each run either finishes or exits 2 saying another run holds the
 * target; the result is exactly what one run gives (or, for stage and unstage, what one of them gives).
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exampleBuildArgs, leftovers, treeSnapshot, twoExampleBuilds } from '../build/tree.js';
import { runCli, type CliResult } from '../helpers/run-cli.js';
import { makeBareExt4, makeGuestTree, run, tempDir } from '../rootfs/images.js';
import { writeStageInput } from '../stage/fixtures.js';
import { snapshot, snapshotImage } from '../stage/snapshot.js';
import { seeded, themeRng } from './seed.js';

const ROUNDS = 6;
const rng = themeRng('concurrency');
const LOCKED = 'another kbs-bundler stage or unstage is working on this rootfs \\(it holds the lock\\)';

/** Both started together (the second after 0-30 ms), both awaited. */
async function together(a: string[], b: string[], cwd?: string): Promise<[CliResult, CliResult]> {
  const first = runCli(a, { cwd });
  await new Promise((resolve) => setTimeout(resolve, rng.int(30)));
  return Promise.all([first, runCli(b, { cwd })]);
}

/** A run that lost the race: exit 2, one line naming why; a run that won: exit 0. */
function expectWonOrLocked(r: CliResult, what: string, lockedText: RegExp): boolean {
  if (r.code === 0) return true;
  expect(r.code, seeded(`${what}: ${r.stderr}`)).toBe(2);
  const lines = r.stderr.trim().split('\n');
  expect(lines, seeded(what)).toHaveLength(1);
  expect(lines[0], seeded(what)).toMatch(lockedText);
  return false;
}

describe('two stages at once', () => {
  let work: string;
  let cfg: string;
  let template: string;
  let original: Record<string, string>;
  let single: Record<string, string>;
  let image: string;
  let imageSingle: Record<string, string>;

  beforeAll(async () => {
    work = await tempDir('kbs-hostile-conc-');
    cfg = await writeStageInput(work, 40, 'Concurrency CA');
    template = path.join(work, 'template');
    await makeGuestTree(template);
    original = await snapshot(template);
    await run('cp', ['-a', template, path.join(work, 'single')]);
    const r = await runCli(['stage', '-c', cfg, '--rootfs', path.join(work, 'single')]);
    expect(r.code, r.stderr).toBe(0);
    single = await snapshot(path.join(work, 'single'));
    image = path.join(work, 'template.img');
    await makeBareExt4(template, image);
    await fs.copyFile(image, path.join(work, 'single.img'));
    const ri = await runCli(['stage', '-c', cfg, '--rootfs', path.join(work, 'single.img')]);
    expect(ri.code, ri.stderr).toBe(0);
    imageSingle = await snapshotImage(path.join(work, 'single.img'));
  }, 120_000);

  afterAll(async () => {
    if (work) await fs.rm(work, { recursive: true, force: true });
  });

  it(`${ROUNDS} rounds of two stages on one directory: the result is one stage's`, async () => {
    let refused = 0;
    for (let i = 0; i < ROUNDS; i++) {
      const root = path.join(work, `dir-${i}`);
      await run('cp', ['-a', template, root]);
      const args = ['stage', '-c', cfg, '--rootfs', root];
      const results = await together(args, args);
      const won = results.map((r, k) => expectWonOrLocked(r, `round ${i}, run ${k}`, new RegExp(LOCKED)));
      expect(won, seeded(`round ${i}`)).toContain(true);
      if (won.includes(false)) refused++;
      expect(await snapshot(root), seeded(`round ${i}`)).toEqual(single);
    }
    expect(refused, seeded('rounds where the runs overlapped')).toBeGreaterThan(0);
  }, 120_000);

  it(`${ROUNDS} rounds of a stage and an unstage on one staged directory: the result is one of theirs`, async () => {
    for (let i = 0; i < ROUNDS; i++) {
      const root = path.join(work, `both-${i}`);
      await run('cp', ['-a', path.join(work, 'single'), root]);
      const [staged, unstaged] = await together(['unstage', '--rootfs', root], ['stage', '-c', cfg, '--rootfs', root]);
      expectWonOrLocked(staged, `round ${i}, unstage`, new RegExp(LOCKED));
      expectWonOrLocked(unstaged, `round ${i}, stage`, new RegExp(LOCKED));
      expect([original, single], seeded(`round ${i}`)).toContainEqual(await snapshot(root));
    }
  }, 120_000);

  it('two stages on one loop-mounted image: the result is one stage’s', async () => {
    for (let i = 0; i < 3; i++) {
      const img = path.join(work, `img-${i}.img`);
      await fs.copyFile(image, img);
      const args = ['stage', '-c', cfg, '--rootfs', img];
      const results = await together(args, args);
      // the loser finds the lock, or the winner's loop mount of the image
      const won = results.map((r, k) =>
        expectWonOrLocked(r, `round ${i}, run ${k}`, new RegExp(`${LOCKED}|is in use by /dev/loop`)),
      );
      expect(won, seeded(`round ${i}`)).toContain(true);
      expect(await snapshotImage(img), seeded(`round ${i}`)).toEqual(imageSingle);
    }
  }, 120_000);
});

describe('two builds at once to one output', () => {
  let work: string;
  let trees: Awaited<ReturnType<typeof twoExampleBuilds>>['trees'];

  beforeAll(async () => {
    ({ work, trees } = await twoExampleBuilds());
  }, 60_000);

  afterAll(async () => {
    if (work) await fs.rm(work, { recursive: true, force: true });
  });

  it(`${ROUNDS} rounds of the same build twice, and of two different builds: the output is one build's, nothing left beside it`, async () => {
    for (let i = 0; i < ROUNDS; i++) {
      const [x, y]: Array<'a' | 'b'> = i % 2 === 0 ? ['a', 'a'] : ['a', 'b'];
      const results = await together(exampleBuildArgs(x!), exampleBuildArgs(y!), work);
      const won = results.map((r, k) => expectWonOrLocked(r, `round ${i}, build ${k}`, /out|host/));
      expect(won, seeded(`round ${i}`)).toContain(true);
      const out = await treeSnapshot(path.join(work, 'out'));
      expect([trees[x!].out, trees[y!].out], seeded(`round ${i}`)).toContainEqual(out);
      expect(await leftovers(work), seeded(`round ${i}: left beside the outputs`)).toEqual([]);
    }
  }, 120_000);
});
