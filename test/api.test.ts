/** The library exports exactly what the README's "Library API" section documents, and each is what it says. */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from './helpers/paths.js';

function documentedNames(): string[] {
  const readme = readFileSync(path.join(REPO_ROOT, 'README.md'), 'utf8');
  const section = /<!-- library-api:begin -->([\s\S]*?)<!-- library-api:end -->/.exec(readme)?.[1] ?? '';
  return [...section.matchAll(/^\| `([A-Za-z_]+)/gm)].map((m) => m[1]!);
}

describe('public API', () => {
  it('dist/index.js exports exactly the names the README documents', async () => {
    const lib = (await import(pathToFileURL(path.join(REPO_ROOT, 'dist/index.js')).href)) as Record<string, unknown>;
    const documented = documentedNames();
    expect(documented.length).toBe(46);
    expect(Object.keys(lib).sort()).toEqual([...documented].sort());
  });

  it('each documented function is a function, each constant a value', async () => {
    const lib = (await import(pathToFileURL(path.join(REPO_ROOT, 'dist/index.js')).href)) as Record<string, unknown>;
    for (const name of documentedNames()) {
      const kind = /^[A-Z][A-Z_]+$/.test(name) || name === 'defaultSignatureBackend' ? 'object' : 'function';
      expect([name, typeof lib[name]]).toEqual([name, kind]);
    }
  });
});
