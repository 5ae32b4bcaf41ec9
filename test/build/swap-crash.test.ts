/**
 * A directory written by an older build (before outputs were links to content-named trees) becomes a
 * link to the new tree, and the state a kill leaves in the one step of turning such a directory into a
 * link is finished by the next run. (SIGKILLs at random instants of build's swap: test/hostile/kills.test.ts.)
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/run-cli.js';
import { exampleBuildArgs, leftovers, treeSnapshot, twoExampleBuilds } from './tree.js';

let work: string;
let trees: Awaited<ReturnType<typeof twoExampleBuilds>>['trees'];

beforeAll(async () => {
  ({ work, trees } = await twoExampleBuilds());
}, 60_000);

afterAll(async () => {
  await fs.rm(work, { recursive: true, force: true });
});

describe('build output swap', () => {
  it('a real directory from an older build becomes a link to the new tree; a swap killed half-way is finished by the next run', async () => {
    const legacy = path.join(work, 'legacy');
    await fs.cp(path.join(work, 'out'), legacy, { recursive: true, dereference: true });
    expect((await fs.lstat(legacy)).isDirectory()).toBe(true);
    const r = await runCli(exampleBuildArgs('a', 'legacy'), { cwd: work });
    expect(r.code, r.stderr).toBe(0);
    expect((await fs.lstat(legacy)).isSymbolicLink()).toBe(true);
    expect(await treeSnapshot(legacy)).toEqual(trees.a.out);
    expect(await leftovers(work)).toEqual([]);

    // killed between renaming the directory aside and renaming the link into place
    const tree = await fs.readlink(legacy);
    await fs.rm(legacy);
    await fs.symlink(tree, path.join(work, '.legacy.link-999999-0badc0de'));
    await fs.mkdir(path.join(work, '.legacy.old-999999-0badc0de'));
    await fs.writeFile(path.join(work, '.legacy.old-999999-0badc0de/stale'), 'the directory renamed aside\n');
    const again = await runCli(exampleBuildArgs('b', 'legacy'), { cwd: work });
    expect(again.code, again.stderr).toBe(0);
    expect(await treeSnapshot(legacy)).toEqual(trees.b.out);
    expect(await leftovers(work)).toEqual([]);
  });
});
