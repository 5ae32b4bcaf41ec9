/**
 * Bench data sets: one RSA-3072 key made with the library, and for image i (0 ≤ i < N,
 * see images.mjs) a simple signature made with the library's signImage, laid out as a lookaside
 * store (`<repo>@sha256=<hex>/signature-1`).
 *
 * Signing is the slow part (one RSA-3072 private-key operation per image), so it runs on every core
 * in worker threads, and when `npm run bench` runs several scripts they share one set through
 * KBSB_BENCH_DATA (a temporary directory run.mjs creates and removes).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { generateSigningKey, lookasideDir, manifestDigest } from '../../dist/index.js';
import { KEY_DATE, manifestOf, REGISTRY, repositoryOf } from './images.mjs';

export { KEY_DATE, manifestOf, REGISTRY, repositoryOf, scopeOf, SIGNED_AT } from './images.mjs';

const WORKER = fileURLToPath(new URL('./sign-worker.mjs', import.meta.url));

async function signRange(secretArmored, from, to) {
  const cores = Math.max(1, os.availableParallelism());
  const per = Math.ceil((to - from) / cores);
  const parts = [];
  for (let c = 0; c < cores; c++) {
    const a = from + c * per;
    const b = Math.min(to, a + per);
    if (a >= b) break;
    parts.push(
      new Promise((resolve, reject) => {
        const w = new Worker(WORKER, { workerData: { secretArmored, from: a, to: b } });
        w.once('message', resolve);
        w.once('error', reject);
      }),
    );
  }
  return (await Promise.all(parts)).flat();
}

/** A working directory: the shared one under `npm run bench`, else a fresh one removed at exit. */
export function dataDir() {
  const shared = process.env.KBSB_BENCH_DATA;
  if (shared) {
    mkdirSync(shared, { recursive: true });
    return shared;
  }
  const dir = mkdtempSync(path.join(os.tmpdir(), 'kbsb-bench-'));
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/**
 * Key files and `count` signatures (base64 blobs), made once per data directory.
 * Returns { dir, publicKeyFile, secretArmored, fingerprint, blobs, signSeconds }.
 */
export async function dataset(count) {
  const dir = dataDir();
  const keyFile = path.join(dir, 'key.json');
  let key;
  if (existsSync(keyFile)) key = JSON.parse(readFileSync(keyFile, 'utf8'));
  else {
    key = await generateSigningKey({ name: 'kbs-bundler bench', email: 'bench@example.com', date: KEY_DATE });
    writeFileSync(keyFile, JSON.stringify(key));
  }
  // Binary, as `gpg --export` writes it (and as the openEuler guide puts it into keyData); armored too.
  const publicKeyFile = path.join(dir, 'signer.gpg');
  const armoredKeyFile = path.join(dir, 'signer.asc');
  if (!existsSync(publicKeyFile)) {
    writeFileSync(armoredKeyFile, key.publicArmored);
    writeFileSync(publicKeyFile, dearmor(key.publicArmored));
  }
  const blobsFile = path.join(dir, 'blobs.json');
  let blobs = existsSync(blobsFile) ? JSON.parse(readFileSync(blobsFile, 'utf8')) : [];
  let signSeconds;
  if (blobs.length < count) {
    const todo = count - blobs.length;
    process.stderr.write(`signing ${todo} images with signImage (RSA-3072) on ${os.availableParallelism()} threads…\n`);
    const t0 = performance.now();
    blobs = blobs.concat(await signRange(key.secretArmored, blobs.length, count));
    signSeconds = (performance.now() - t0) / 1000;
    process.stderr.write(`  ${signSeconds.toFixed(1)} s (${Math.round(todo / signSeconds)} signatures/s)\n`);
    writeFileSync(`${blobsFile}.tmp`, JSON.stringify(blobs));
    renameSync(`${blobsFile}.tmp`, blobsFile);
  }
  return {
    dir,
    publicKeyFile,
    armoredKeyFile,
    secretArmored: key.secretArmored,
    fingerprint: key.fingerprint,
    blobs: blobs.slice(0, count).map((b) => Buffer.from(b, 'base64')),
    signSeconds,
  };
}

function dearmor(text) {
  const lines = text.split(/\r?\n/);
  const body = lines
    .slice(lines.findIndex((l) => l === '') + 1)
    .filter((l) => l !== '' && !l.startsWith('-----') && !l.startsWith('='));
  return Buffer.from(body.join(''), 'base64');
}

/** Writes the first `count` signatures as a lookaside store under `storeDir` (plain writes, no fsync). */
export function writeStore(storeDir, blobs, count) {
  for (let i = 0; i < count; i++) {
    const dir = lookasideDir(storeDir, repositoryOf(i), manifestDigest(manifestOf(i)));
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, 'signature-1'), blobs[i]);
  }
}

/** bundle.yaml for `count` images: one signedBy scope per 10 images, a file:// store, one registry credential. */
export function writeBundle(dir, { count, publicKeyFile, signatures }) {
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'registry-password'), 'bench-password\n', { mode: 0o600 });
  const scopes = Math.max(1, Math.ceil(count / 10));
  const lines = [
    'kbs:',
    '  repository: default',
    '  tag: test',
    'policy:',
    '  default:',
    '    - type: reject',
    '  scopes:',
  ];
  for (let s = 0; s < scopes; s++) {
    lines.push(
      `    "${REGISTRY}/team-${s}":`,
      '      - type: signedBy',
      '        keys:',
      `          - ${publicKeyFile}`,
    );
  }
  lines.push('signatureStores:', '  default: file:///var/lib/containers/sigstore');
  if (signatures) lines.push('signatures:', `  - ${signatures}`);
  lines.push('registries:', `  "${REGISTRY}":`, '    username: bench', '    passwordFile: registry-password');
  const file = path.join(dir, 'bundle.yaml');
  writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

/** A few directories a guest rootfs has, for the tree staging starts from. */
export function skeleton(dir) {
  for (const d of ['etc', 'usr/bin', 'var/lib']) mkdirSync(path.join(dir, d), { recursive: true });
}

/** A fresh ext4 image made from the directory `skel`, big enough for `n` one-block signature files and their directories. */
export function makeExt4Image(file, n, skel) {
  const mib = 32 + Math.ceil((n * 2 * 4096 * 1.3) / (1 << 20));
  spawnOk('mkfs.ext4', ['-q', '-F', '-N', String(n * 2 + 1024), '-d', skel, file, `${mib}M`]);
}

/** Runs a command and fails loudly on a non-zero exit. */
export function spawnOk(cmd, args) {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}: ${r.stderr ?? r.error}`);
  return r.stdout;
}

/** The inputs for one size: `<work>/n<count>/` with a store of `count` signatures and its bundle.yaml. */
export function prepareSize(work, count, { blobs, publicKeyFile }) {
  const base = path.join(work, `n${count}`);
  const store = path.join(base, 'sigstore');
  writeStore(store, blobs, count);
  const bundle = writeBundle(base, { count, publicKeyFile, signatures: store });
  return { base, store, bundle };
}

/** Runs `cmd args` under /usr/bin/time -v: { seconds, maxRssKiB, status, stdout, stderr }. */
export function timed(cmd, args, options = {}) {
  const t0 = performance.now();
  const r = spawnSync('/usr/bin/time', ['-v', cmd, ...args], { encoding: 'utf8', maxBuffer: 256 << 20, ...options });
  const seconds = (performance.now() - t0) / 1000;
  const field = (name) => {
    const m = new RegExp(`${name}: ([\\d.]+)`).exec(r.stderr ?? '');
    return m ? Number(m[1]) : NaN;
  };
  return {
    seconds,
    maxRssKiB: field('Maximum resident set size \\(kbytes\\)'),
    userSeconds: field('User time \\(seconds\\)'),
    systemSeconds: field('System time \\(seconds\\)'),
    status: r.status,
    stdout: r.stdout,
    stderr: r.stderr,
  };
}

/** The CLI exactly as package.json `bin` names it (the bundle `npm run build` writes). */
export const CLI = fileURLToPath(
  new URL(
    `../../${JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')).bin['kbs-bundler']}`,
    import.meta.url,
  ),
);

/** Runs the CLI under /usr/bin/time -v and fails loudly on a non-zero exit. */
export function cli(args, options = {}) {
  const r = timed(process.execPath, [CLI, ...args], {
    ...options,
    env: { ...process.env, NO_COLOR: '1', ...(options.env ?? {}) },
  });
  if (r.status !== 0) throw new Error(`kbs-bundler ${args.join(' ')} exited ${r.status}:\n${r.stderr}`);
  return r;
}

export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

export const fmtS = (s) => (s < 1 ? `${(s * 1000).toFixed(0)} ms` : `${s.toFixed(2)} s`);
export const fmtMiB = (kib) => `${(kib / 1024).toFixed(1)} MiB`;

export function machine() {
  const cpu = (readFileSync('/proc/cpuinfo', 'utf8').match(/model name\s*:\s*(.*)/)?.[1] ?? 'unknown').trim();
  const nproc = spawnSync('nproc', { encoding: 'utf8' }).stdout.trim();
  return `nproc ${nproc}, ${cpu}, node ${process.version}, load average ${os
    .loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')}`;
}

export const SIZES = (process.env.KBSB_BENCH_SIZES ?? '100,1000,10000').split(',').map(Number);

export const verdict = (ok) => (ok ? 'met' : 'NOT met');

/** The item whose `key` is the median (the lower one of an even count). */
export function medianBy(items, key) {
  const sorted = [...items].sort((a, b) => key(a) - key(b));
  return sorted[(sorted.length - 1) >> 1];
}

/** Runs per measure (alternated with its reference), KBSB_BENCH_RUNS or `fallback`. */
export const runsOr = (fallback) => Number(process.env.KBSB_BENCH_RUNS ?? fallback);

export const isRoot = process.getuid?.() === 0;
