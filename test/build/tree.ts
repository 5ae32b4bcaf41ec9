/** Test utilities for build tests: snapshot a directory tree (paths, types, modes, bytes), copy the example, build two variants of it. */
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { TEMPLATES } from '../helpers/paths.js';
import { runCli } from '../helpers/run-cli.js';

/** `relative path → "d 755" | "f 644 <sha256>"`, sorted; {} when the directory does not exist. */
export async function treeSnapshot(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const walk = async (rel: string) => {
    const entries = await fs.readdir(path.join(dir, rel), { withFileTypes: true }).catch(() => []);
    for (const e of entries.sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const r = rel === '' ? e.name : `${rel}/${e.name}`;
      const st = await fs.lstat(path.join(dir, r));
      const mode = (st.mode & 0o7777).toString(8);
      if (e.isDirectory()) {
        out[r] = `d ${mode}`;
        await walk(r);
      } else {
        out[r] = `f ${mode} ${createHash('sha256')
          .update(await fs.readFile(path.join(dir, r)))
          .digest('hex')}`;
      }
    }
  };
  await walk('');
  return out;
}

/** Files only: `relative path → bytes`. */
export async function treeFiles(dir: string): Promise<Record<string, Buffer>> {
  const out: Record<string, Buffer> = {};
  for (const [rel, kind] of Object.entries(await treeSnapshot(dir))) {
    if (kind.startsWith('f ')) out[rel] = await fs.readFile(path.join(dir, rel));
  }
  return out;
}

/** A private copy of templates/example in a fresh temporary directory; returns that directory. */
export async function copyExample(): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'kbsb-build-'));
  await fs.cp(path.join(TEMPLATES, 'example'), path.join(dir, 'example'), { recursive: true });
  return path.join(dir, 'example');
}

/** `build` of example/bundle-`v`.yaml (see twoExampleBuilds) to `out` and `host`, run in the work directory. */
export const exampleBuildArgs = (v: 'a' | 'b', out = 'out') => [
  'build',
  '-c',
  `example/bundle-${v}.yaml`,
  '-o',
  out,
  '--host-config',
  'host',
];

/**
 * Two different builds to one output, for tests that interrupt or race them: a copy of the example with
 * bundle-a.yaml (the example) and bundle-b.yaml (`tag: prod`, and a host policy that differs too), each
 * built once with exampleBuildArgs so that the trees either one writes are known. `buildMs`: how long
 * the last build took here.
 */
export async function twoExampleBuilds(): Promise<{
  work: string;
  trees: Record<'a' | 'b', { out: Record<string, string>; host: Record<string, string> }>;
  buildMs: number;
}> {
  const example = await copyExample();
  const work = path.dirname(example);
  const text = await fs.readFile(path.join(example, 'bundle.yaml'), 'utf8');
  await fs.writeFile(path.join(example, 'bundle-a.yaml'), text);
  await fs.writeFile(
    path.join(example, 'bundle-b.yaml'),
    text.replace('tag: test', 'tag: prod').replace('type: reject', 'type: insecureAcceptAnything'),
  );
  const trees = { a: { out: {}, host: {} }, b: { out: {}, host: {} } };
  let buildMs = 0;
  for (const v of ['a', 'b'] as const) {
    const started = Date.now();
    const r = await runCli(exampleBuildArgs(v), { cwd: work });
    buildMs = Date.now() - started;
    if (r.code !== 0) throw new Error(`build of bundle-${v}.yaml: exit ${r.code}: ${r.stderr}`);
    trees[v] = { out: await treeSnapshot(path.join(work, 'out')), host: await treeSnapshot(path.join(work, 'host')) };
  }
  for (const side of ['out', 'host'] as const)
    if (JSON.stringify(trees.a[side]) === JSON.stringify(trees.b[side]))
      throw new Error(`the two ${side} trees are alike`);
  return { work, trees, buildMs };
}

/** Dot entries in `work` (beside build's outputs) other than the trees its links point at. */
export async function leftovers(work: string): Promise<string[]> {
  const entries = await fs.readdir(work, { withFileTypes: true });
  const linked = await Promise.all(
    entries.filter((e) => e.isSymbolicLink()).map((e) => fs.readlink(path.join(work, e.name))),
  );
  return entries.map((e) => e.name).filter((n) => n.startsWith('.') && !linked.includes(n));
}
