/**
 * build killed with SIGKILL at random instants while it replaces its output directories (`-o`,
 * `--host-config`): the old or the new tree is always at the path, and the next run leaves nothing
 * beside it but the tree it links to. Also a directory written by an older build, and the state a
 * kill leaves in the one step of turning such a directory into a link.
 */
import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI } from '../helpers/paths.js';
import { runCli } from '../helpers/run-cli.js';
import { copyExample, treeSnapshot } from './tree.js';

const KILLS = 32;
/** How long one build takes here: the kills are spread over that. */
let buildMs = 400;
let example: string;
let work: string;
const trees: Record<'a' | 'b', { out: Record<string, string>; host: Record<string, string> }> = {
  a: { out: {}, host: {} },
  b: { out: {}, host: {} },
};

const args = (bundle: 'a' | 'b', out = 'out') => [
  'build',
  '-c',
  `example/bundle-${bundle}.yaml`,
  '-o',
  out,
  '--host-config',
  'host',
];

/** Dot entries beside the outputs other than the trees they link to. */
async function leftovers(): Promise<string[]> {
  const entries = await fs.readdir(work, { withFileTypes: true });
  const linked = await Promise.all(
    entries.filter((e) => e.isSymbolicLink()).map((e) => fs.readlink(path.join(work, e.name))),
  );
  return entries.map((e) => e.name).filter((n) => n.startsWith('.') && !linked.includes(n));
}

beforeAll(async () => {
  example = await copyExample();
  work = path.dirname(example);
  const text = await fs.readFile(path.join(example, 'bundle.yaml'), 'utf8');
  await fs.writeFile(path.join(example, 'bundle-a.yaml'), text);
  await fs.writeFile(
    path.join(example, 'bundle-b.yaml'),
    text.replace('tag: test', 'tag: prod').replace('type: reject', 'type: insecureAcceptAnything'),
  );
  for (const v of ['a', 'b'] as const) {
    const started = Date.now();
    const r = await runCli(args(v), { cwd: work });
    buildMs = Date.now() - started;
    expect(r.code, r.stderr).toBe(0);
    trees[v] = { out: await treeSnapshot(path.join(work, 'out')), host: await treeSnapshot(path.join(work, 'host')) };
  }
  expect(trees.a.out).not.toEqual(trees.b.out);
  expect(trees.a.host).not.toEqual(trees.b.host);
}, 60_000);

afterAll(async () => {
  await fs.rm(work, { recursive: true, force: true });
});

describe('build output swap', () => {
  it(`${KILLS} SIGKILLs at random instants: -o and --host-config always hold the old or the new tree`, async () => {
    let current: 'a' | 'b' = 'b';
    let interrupted = 0;
    for (let i = 0; i < KILLS; i++) {
      const next: 'a' | 'b' = current === 'a' ? 'b' : 'a';
      const child = spawn(process.execPath, [CLI, ...args(next)], { cwd: work, stdio: 'ignore' });
      await new Promise((resolve) => setTimeout(resolve, Math.random() * buildMs));
      child.kill('SIGKILL');
      await new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null)
          resolve(); // it finished before the kill
        else child.once('exit', () => resolve());
      });
      if (child.signalCode === 'SIGKILL') interrupted++;
      const out = await treeSnapshot(path.join(work, 'out'));
      const host = await treeSnapshot(path.join(work, 'host'));
      expect([trees.a.out, trees.b.out], `kill ${i}: -o`).toContainEqual(out);
      expect([trees.a.host, trees.b.host], `kill ${i}: --host-config`).toContainEqual(host);
      if (i % 4 === 3) {
        // the next complete run leaves nothing behind
        const r = await runCli(args(next), { cwd: work });
        expect(r.code, r.stderr).toBe(0);
        expect(await treeSnapshot(path.join(work, 'out'))).toEqual(trees[next].out);
        expect(await leftovers(), `after kill ${i}`).toEqual([]);
        current = next;
      } else if (JSON.stringify(out) === JSON.stringify(trees[next].out)) current = next;
    }
    expect(interrupted).toBeGreaterThan(KILLS / 4);
  }, 300_000);

  it('a real directory from an older build becomes a link to the new tree; a swap killed half-way is finished by the next run', async () => {
    const legacy = path.join(work, 'legacy');
    await fs.cp(path.join(work, 'out'), legacy, { recursive: true, dereference: true });
    expect((await fs.lstat(legacy)).isDirectory()).toBe(true);
    const r = await runCli(args('a', 'legacy'), { cwd: work });
    expect(r.code, r.stderr).toBe(0);
    expect((await fs.lstat(legacy)).isSymbolicLink()).toBe(true);
    expect(await treeSnapshot(legacy)).toEqual(trees.a.out);
    expect(await leftovers()).toEqual([]);

    // killed between renaming the directory aside and renaming the link into place
    const tree = await fs.readlink(legacy);
    await fs.rm(legacy);
    await fs.symlink(tree, path.join(work, '.legacy.link-999999-0badc0de'));
    await fs.mkdir(path.join(work, '.legacy.old-999999-0badc0de'));
    await fs.writeFile(path.join(work, '.legacy.old-999999-0badc0de/stale'), 'the directory renamed aside\n');
    const again = await runCli(args('b', 'legacy'), { cwd: work });
    expect(again.code, again.stderr).toBe(0);
    expect(await treeSnapshot(legacy)).toEqual(trees.b.out);
    expect(await leftovers()).toEqual([]);
  });
});
