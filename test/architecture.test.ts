/**
 * The layering of src/ as the README describes it, read from the imports of every source file
 * (static, re-exports and dynamic `import()`, type-only ones included): no import cycle between
 * folders, and only cli/ imports cli/. A file directly in src/ (errors.ts, index.ts) counts as a
 * folder of its own.
 */
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from './helpers/paths.js';

const SRC = path.join(REPO_ROOT, 'src');

interface Import {
  from: string;
  to: string;
}

/** Every relative import of every .ts file under src/, as paths relative to src/. */
function sourceImports(): Import[] {
  const out: Import[] = [];
  for (const rel of readdirSync(SRC, { recursive: true, encoding: 'utf8' })) {
    if (!rel.endsWith('.ts')) continue;
    const info = ts.preProcessFile(readFileSync(path.join(SRC, rel), 'utf8'), true, true);
    for (const { fileName } of info.importedFiles) {
      if (!fileName.startsWith('.')) continue;
      const target = path.relative(SRC, path.resolve(SRC, path.dirname(rel), fileName)).replace(/\.js$/, '.ts');
      out.push({ from: rel, to: target });
    }
  }
  return out;
}

/** `verify` for src/verify/…, `errors.ts` for src/errors.ts. */
function folderOf(rel: string): string {
  const slash = rel.indexOf(path.sep);
  return slash < 0 ? rel : rel.slice(0, slash);
}

/** Strongly connected components of more than one folder (Tarjan), each with an example import per edge. */
function folderCycles(imports: readonly Import[]): string[][] {
  const edges = new Map<string, Map<string, Import>>();
  for (const i of imports) {
    const a = folderOf(i.from);
    const b = folderOf(i.to);
    if (a === b) continue;
    if (!edges.has(a)) edges.set(a, new Map());
    if (!edges.get(a)!.has(b)) edges.get(a)!.set(b, i);
    if (!edges.has(b)) edges.set(b, new Map());
  }
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const components: string[][] = [];
  const visit = (v: string) => {
    index.set(v, index.size);
    low.set(v, index.get(v)!);
    stack.push(v);
    onStack.add(v);
    for (const w of edges.get(v)!.keys()) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1) components.push(component.sort());
    }
  };
  for (const v of [...edges.keys()].sort()) if (!index.has(v)) visit(v);
  // Each component with the imports that join its folders, so a failure says where to look.
  return components.map((c) =>
    c.flatMap((a) =>
      [...edges.get(a)!]
        .filter(([b]) => c.includes(b))
        .map(([b, i]) => `${a} -> ${b} (src/${i.from} imports src/${i.to})`),
    ),
  );
}

describe('src/ layering', () => {
  const imports = sourceImports();

  it('reads the imports of every source file', () => {
    // A reader that found nothing would make the assertions below pass vacuously.
    expect(imports.length).toBeGreaterThan(300);
    expect(imports).toContainEqual({
      from: path.join('cli', 'commands', 'verify.ts'),
      to: path.join('verify', 'verify-files.ts'),
    });
    // dynamic import()
    expect(imports).toContainEqual({
      from: path.join('verify', 'verify-files.ts'),
      to: path.join('verify', 'registry-access.ts'),
    });
  });

  it('has no import cycle between folders', () => {
    expect(folderCycles(imports)).toEqual([]);
  });

  it('nothing outside cli/ imports cli/', () => {
    const intoCli = imports.filter((i) => folderOf(i.to) === 'cli' && folderOf(i.from) !== 'cli');
    expect(intoCli.map((i) => `src/${i.from} imports src/${i.to}`)).toEqual([]);
  });

  it('finds a planted cycle, with the imports that make it', () => {
    const planted: Import[] = [
      { from: path.join('a', 'x.ts'), to: path.join('b', 'y.ts') },
      { from: path.join('b', 'y.ts'), to: path.join('c', 'z.ts') },
      { from: path.join('c', 'z.ts'), to: path.join('a', 'w.ts') },
      { from: path.join('d', 'v.ts'), to: path.join('a', 'x.ts') },
    ];
    expect(folderCycles(planted)).toEqual([
      [
        'a -> b (src/a/x.ts imports src/b/y.ts)',
        'b -> c (src/b/y.ts imports src/c/z.ts)',
        'c -> a (src/c/z.ts imports src/a/w.ts)',
      ],
    ]);
  });
});
