/**
 * The CLI as one bundle (package.json `bin`): dist/bin/kbs-bundler.js plus one chunk per lazily
 * loaded command (and the chunks they share), built with rolldown from tsc's output in dist/
 * (`npm run build` runs tsc first, so the code is exactly what tsc emitted). A cold start then reads a
 * few files instead of every module (zod's alone include locales the CLI never uses).
 *
 * openpgp (one large file, loaded only when a key or signature needs it) and tar-stream (loaded only
 * for tarballs) stay outside the bundle and are imported from node_modules exactly when they were
 * before; the library entry (dist/index.js) is tsc's output and is not bundled.
 */
import { readdirSync, renameSync, rmSync, mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'rolldown';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const DIST = path.join(ROOT, 'dist');
const OUT = path.join(DIST, 'bin');
const URL_RELATIVE = /new URL\((['"])(\.\.?\/[^'"]*)\1, import\.meta\.url\)/g;

/**
 * `new URL('../../templates/', import.meta.url)` in a module of dist/ names a file of the package
 * relative to that module; in the bundle, import.meta.url is the chunk's, so the path is rewritten
 * relative to dist/bin/ (where every chunk is written).
 */
const packageRelativeUrls = {
  name: 'package-relative-urls',
  transform(code, id) {
    if (!id.startsWith(DIST + path.sep) || !code.includes('import.meta.url')) return null;
    let changed = false;
    const out = code.replace(URL_RELATIVE, (_m, quote, rel) => {
      const target = path.resolve(path.dirname(id), rel);
      let moved = path.relative(OUT, target).split(path.sep).join('/');
      if (!moved.startsWith('.')) moved = `./${moved}`;
      if (rel.endsWith('/') && !moved.endsWith('/')) moved += '/';
      changed = true;
      return `new URL(${quote}${moved}${quote}, import.meta.url)`;
    });
    return changed ? { code: out, map: null } : null;
  },
};

const { output } = await build({
  input: { 'kbs-bundler': path.join(DIST, 'cli/main.js') },
  platform: 'node',
  external: [/^node:/, 'openpgp', 'tar-stream', 'seek-bzip'],
  plugins: [packageRelativeUrls],
  write: false,
  output: {
    dir: OUT,
    format: 'esm',
    entryFileNames: '[name].js',
    chunkFileNames: '[name]-[hash].js',
    sourcemap: true,
    keepNames: true,
  },
});

// Written aside and renamed, chunks before the entry, stale chunks removed last: a CLI started
// while the package is rebuilt (tests, another shell) never reads a half-written or missing file.
const files = new Map();
for (const item of output) {
  if (item.type === 'chunk') {
    files.set(item.fileName, item.code);
    if (item.map && item.sourcemapFileName) files.set(item.sourcemapFileName, item.map.toString());
  } else files.set(item.fileName, item.source);
}
mkdirSync(OUT, { recursive: true });
const entry = 'kbs-bundler.js';
for (const name of [...[...files.keys()].filter((n) => n !== entry), entry]) {
  const file = path.join(OUT, name);
  writeFileSync(`${file}.tmp-${process.pid}`, files.get(name));
  renameSync(`${file}.tmp-${process.pid}`, file);
}
for (const name of readdirSync(OUT)) if (!files.has(name)) rmSync(path.join(OUT, name), { force: true });
