/**
 * Signature stores, read and written the way skopeo, podman and image-rs lay them out:
 *  - a lookaside tree: `<base>/<repository path>@sha256=<hex>/signature-N` (e.g. /var/lib/containers/sigstore);
 *  - an image-rs style tarball of such a tree (`signatures.tar`, gzip'd or not);
 *  - a `dir:` image layout: `manifest.json` + `signature-N` side by side.
 * `build`, `stage`, `verify` and `audit` all read through `readSignatureStore`.
 */
import { randomBytes } from 'node:crypto';
import * as fsSync from 'node:fs';
import { createReadStream, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { FileNotFoundError, InputError } from '../errors.js';
import { digestProblem } from '../reference/index.js';
import { manifestDigest } from '../signature/digest.js';
import { MiB } from '../util/read-input.js';
import { MAX_SIGNATURE_SIZE } from '../openpgp/verify-signature.js';

export interface StoredSignature {
  /** Repository path without the registry host (`library/busybox`); '' for a `dir:` layout. */
  repositoryPath: string;
  /** `sha256:<hex>` (from the directory name, or computed from a `dir:` layout's manifest.json). */
  digest: string;
  /** File name inside the image's signature directory, e.g. `signature-1`. */
  name: string;
  /** At most MAX_SIGNATURE_SIZE + 1 bytes (so that oversize is detectable without reading it all). */
  bytes: Uint8Array;
  /** Where it was read from: a file path, or `archive.tar:member`. */
  source: string;
}

const SIG_DIR = /^(.+)@([a-z0-9]+)=([a-zA-Z0-9]+)$/;

/** Refuses `..`, absolute paths, empty segments and other oddities in a repository path. */
export function assertRepositoryPath(repositoryPath: string, location: { file?: string; field?: string } = {}): void {
  const bad = (why: string) =>
    new InputError('E_BAD_REPOSITORY_PATH', location, `repository path ${JSON.stringify(repositoryPath)} ${why}`);
  if (repositoryPath === '') throw bad('is empty');
  if (path.posix.isAbsolute(repositoryPath) || repositoryPath.includes('\\')) throw bad('must be relative');
  for (const seg of repositoryPath.split('/')) {
    if (seg === '' || seg === '.' || seg === '..') throw bad('has an empty, "." or ".." segment');
    if (!/^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/.test(seg))
      throw bad(`has an invalid component ${JSON.stringify(seg)}`);
  }
}

/** `${base}/${repositoryPath}@<algo>=<hex>`. */
export function lookasideDir(base: string, repositoryPath: string, digest: string): string {
  assertRepositoryPath(repositoryPath);
  const problem = digestProblem(digest);
  if (problem !== undefined) throw new InputError('E_BAD_DIGEST', {}, `digest ${JSON.stringify(digest)}: ${problem}`);
  const [algo, hex] = digest.split(':') as [string, string];
  const name = `${repositoryPath.split('/').pop() ?? ''}@${algo}=${hex}`;
  if (Buffer.byteLength(name) > 255)
    throw new InputError(
      'E_BAD_REPOSITORY_PATH',
      {},
      `repository path ${JSON.stringify(repositoryPath.slice(0, 80))}…: its signature directory name would be longer than the 255 bytes a file name may have`,
    );
  return path.join(base, `${repositoryPath}@${algo}=${hex}`);
}

/**
 * Adds `blob` as the first free `signature-N` (N ≥ 1) and returns its path. Never overwrites: the data
 * is written aside, then hard-linked into place, which fails if the name exists (O_EXCL semantics
 * without ever exposing a half-written file).
 */
export async function writeSignature(
  storeDir: string,
  repositoryPath: string,
  digest: string,
  blob: Uint8Array,
): Promise<{ path: string; index: number }> {
  const dir = lookasideDir(storeDir, repositoryPath, digest);
  await fs.mkdir(dir, { recursive: true, mode: 0o755 });
  // Written beside (not inside) the signature directory: the guest reads every file in it, so even a
  // temporary left by a crash must not appear there.
  const tmp = path.join(
    path.dirname(dir),
    `.${path.basename(dir)}.signature-tmp-${process.pid}-${randomBytes(4).toString('hex')}`,
  );
  const handle = await fs.open(tmp, 'wx', 0o644);
  try {
    await handle.writeFile(blob);
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    for (let index = 1; ; index++) {
      const target = path.join(dir, `signature-${index}`);
      try {
        await fs.link(tmp, target);
        return { path: target, index };
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      }
    }
  } finally {
    await fs.rm(tmp, { force: true });
  }
}

/** Sorts `signature-N` numerically, then any other names. */
function compareNames(a: string, b: string): number {
  const na = /^signature-(\d+)$/.exec(a);
  const nb = /^signature-(\d+)$/.exec(b);
  if (na && nb) return Number(na[1]) - Number(nb[1]);
  if (na) return -1;
  if (nb) return 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

function sortSignatures(list: StoredSignature[]): StoredSignature[] {
  return list.sort((x, y) =>
    x.repositoryPath !== y.repositoryPath
      ? x.repositoryPath < y.repositoryPath
        ? -1
        : 1
      : x.digest !== y.digest
        ? x.digest < y.digest
          ? -1
          : 1
        : compareNames(x.name, y.name),
  );
}

/**
 * What an oversize signature file reads as: MAX_SIGNATURE_SIZE + 1 bytes, one shared buffer for all of
 * them. Only its length matters (every reader refuses a signature that long), so a store full of huge
 * files costs no more memory than one.
 */
let oversize: Uint8Array | undefined;
function oversizeSignature(): Uint8Array {
  oversize ??= new Uint8Array(MAX_SIGNATURE_SIZE + 1);
  return oversize;
}

/** A signature file the system would not read (EIO, EACCES…): the store cannot be read, named in one line. */
function unreadable(file: string, e: unknown): unknown {
  const code = (e as NodeJS.ErrnoException).code;
  return code === undefined ? e : new InputError('E_STORE_READ', { file }, `cannot be read (${code})`, { cause: e });
}

async function readCapped(file: string): Promise<Uint8Array> {
  try {
    return await readCappedOrThrow(file);
  } catch (e) {
    throw unreadable(file, e);
  }
}

async function readCappedOrThrow(file: string): Promise<Uint8Array> {
  const handle = await fs.open(file, 'r');
  try {
    const { size } = await handle.stat();
    if (size > MAX_SIGNATURE_SIZE) return oversizeSignature();
    const want = Math.min(size, MAX_SIGNATURE_SIZE + 1);
    const buf = Buffer.alloc(want);
    const { bytesRead } = await handle.read(buf, 0, want, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

export interface ReadStoreOptions {
  /**
   * Given every signature once, in batches in the order they are read (not the store's order), while
   * the store is still being read: a lookaside tree's each time the reader returns to the event loop,
   * the other layouts' all at once at the end. Called before the promise settles; if reading fails,
   * what was given is not the store.
   */
  onRead?: (batch: readonly StoredSignature[]) => void;
}

/** Reads every signature in a lookaside tree, a signatures tarball or a `dir:` layout, in store order. */
export async function readSignatureStore(
  pathToDirOrTar: string,
  options: ReadStoreOptions = {},
): Promise<StoredSignature[]> {
  const p = pathToDirOrTar.startsWith('dir:') ? pathToDirOrTar.slice(4) : pathToDirOrTar;
  let st;
  try {
    st = await fs.stat(p);
  } catch {
    throw new FileNotFoundError(pathToDirOrTar, 'signature store');
  }
  const readAll = (list: StoredSignature[]) => {
    options.onRead?.(list.slice());
    return list;
  };
  if (st.isFile()) return sortSignatures(readAll(await readTarStore(p)));
  if (!st.isDirectory())
    throw new InputError('E_BAD_STORE', { file: pathToDirOrTar }, 'is neither a directory nor a tar archive');
  const isLayout = await fs.access(path.join(p, 'manifest.json')).then(
    () => true,
    () => false,
  );
  if (isLayout) return readAll(await readDirLayout(p));
  return sortSignatures(await readLookasideTree(p, options.onRead));
}

async function readDirLayout(dir: string): Promise<StoredSignature[]> {
  const manifestFile = path.join(dir, 'manifest.json');
  const digest = manifestDigest(await fs.readFile(manifestFile), { file: manifestFile });
  const out: StoredSignature[] = [];
  for (const name of await fs.readdir(dir)) {
    if (!/^signature-\d+$/.test(name)) continue;
    const file = path.join(dir, name);
    if (!(await fs.stat(file)).isFile()) continue;
    out.push({ repositoryPath: '', digest, name, bytes: await readCapped(file), source: file });
  }
  return out.sort((a, b) => compareNames(a.name, b.name));
}

/** Between slices of this many synchronous calls, readLookasideTree returns to the event loop (signals, timers). */
const SLICE = 256;

/**
 * Signatures are read straight into shared slabs of this size, each one a view of its slab (no
 * allocation, copy or backing store per file): one read covers any real signature (a few hundred
 * bytes to a few KiB) without an fstat while at least READ_WINDOW bytes are left in the slab.
 */
const SLAB = 1 << 20;
const READ_WINDOW = 64 * 1024;

class SlabReader {
  private slab = Buffer.allocUnsafeSlow(SLAB);
  private used = 0;

  read(file: string): Uint8Array {
    try {
      return this.readOrThrow(file);
    } catch (e) {
      throw unreadable(file, e);
    }
  }

  private readOrThrow(file: string): Uint8Array {
    if (this.slab.length - this.used < READ_WINDOW) {
      this.slab = Buffer.allocUnsafeSlow(SLAB);
      this.used = 0;
    }
    const fd = fsSync.openSync(file, 'r');
    try {
      const room = this.slab.length - this.used;
      const n = fsSync.readSync(fd, this.slab, this.used, room, 0);
      if (n < room) {
        const bytes = this.slab.subarray(this.used, this.used + n);
        this.used += (n + 7) & ~7;
        return bytes;
      }
      // READ_WINDOW bytes or more: a buffer of its own, capped
      const size = fsSync.fstatSync(fd).size;
      if (size > MAX_SIGNATURE_SIZE) return oversizeSignature();
      const want = size;
      const buf = Buffer.alloc(want);
      return buf.subarray(0, want === 0 ? 0 : fsSync.readSync(fd, buf, 0, want, 0));
    } finally {
      fsSync.closeSync(fd);
    }
  }
}

function isFileSync(file: string): boolean {
  try {
    return fsSync.statSync(file).isFile();
  } catch {
    return false;
  }
}

async function readLookasideTree(base: string, onRead?: ReadStoreOptions['onRead']): Promise<StoredSignature[]> {
  // Stores hold thousands of tiny files and directories: they are listed and read with synchronous
  // calls in slices (a libuv round trip per file costs far more than the read itself).
  const reader = new SlabReader();
  const out: StoredSignature[] = [];
  let calls = 0;
  let given = 0;
  const give = () => {
    if (onRead && given < out.length) onRead(out.slice(given));
    given = out.length;
  };
  const breathe = async () => {
    if (++calls % SLICE !== 0) return;
    give();
    await new Promise<void>((resolve) => setImmediate(resolve));
  };
  // Below the base every name comes from readdir (never empty, `.`, `..` or containing `/`), so
  // path.join(base, rel) is the normalized base and rel joined with '/', without normalizing
  // every path again.
  const normBase = path.join(base);
  const prefix = normBase === '.' ? '' : normBase.endsWith('/') ? normBase : `${normBase}/`;
  const pending = [''];
  while (pending.length > 0) {
    const rel = pending.pop() as string;
    const entries = fsSync.readdirSync(rel === '' ? normBase : prefix + rel, { withFileTypes: true });
    await breathe();
    for (const entry of entries) {
      if (!entry.isDirectory()) continue;
      const childRel = rel === '' ? entry.name : `${rel}/${entry.name}`;
      const m = SIG_DIR.exec(childRel);
      if (!m) {
        pending.push(childRel);
        continue;
      }
      const dir = prefix + childRel;
      const repositoryPath = m[1] as string;
      const digest = `${m[2]}:${m[3]}`;
      for (const f of fsSync.readdirSync(dir, { withFileTypes: true })) {
        // readdir names are plain (never `.`, `..` or containing `/`): the same as path.join(dir, name)
        const file = `${dir}/${f.name}`;
        const isFile = f.isFile() || (f.isSymbolicLink() && isFileSync(file));
        if (isFile && !f.name.startsWith('.')) {
          out.push({ repositoryPath, digest, name: f.name, bytes: reader.read(file), source: file });
          await breathe();
        }
      }
      await breathe();
    }
  }
  give();
  return out;
}

/**
 * A tarball store is read whole into memory: its signatures may keep at most MAX_STORE_KEPT bytes
 * (thousands of real signatures of a few KiB), and decompressing stops at MAX_STORE_ARCHIVE bytes.
 */
const MAX_STORE_KEPT = 64 * MiB;
const MAX_STORE_ARCHIVE = 512 * MiB;

async function readTarStore(file: string): Promise<StoredSignature[]> {
  const head = Buffer.alloc(2);
  const h = await fs.open(file, 'r');
  try {
    await h.read(head, 0, 2, 0);
  } finally {
    await h.close();
  }
  const gz = head[0] === 0x1f && head[1] === 0x8b;
  const out: StoredSignature[] = [];
  const tooLarge = (what: string) =>
    new InputError('E_STORE_TOO_LARGE', { file }, `${what}, more than a signature store can hold`);
  let kept = 0;
  const tar = await import('tar-stream'); // only for tarball stores: verify and stage of lookaside trees do not load it
  const extract = tar.extract();
  const consume = (async () => {
    for await (const entry of extract) {
      const name = entry.header.name.replace(/^\.\//, '').replace(/\/+$/, '');
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const chunk of entry as AsyncIterable<Buffer>) {
        // Past the limit a signature is refused for its size alone: its bytes are not kept.
        if (size <= MAX_SIGNATURE_SIZE) {
          chunks.push(chunk.subarray(0, MAX_SIGNATURE_SIZE + 1 - size));
          kept += Math.min(chunk.length, MAX_SIGNATURE_SIZE + 1 - size);
          if (kept > MAX_STORE_KEPT) throw tooLarge(`holds more than ${MAX_STORE_KEPT / MiB} MiB of signatures`);
        }
        size += chunk.length;
      }
      if (entry.header.type !== 'file' && entry.header.type !== 'contiguous-file') continue;
      const slash = name.lastIndexOf('/');
      if (slash < 0) continue;
      const m = SIG_DIR.exec(name.slice(0, slash));
      const base = name.slice(slash + 1);
      if (!m || base.startsWith('.')) continue;
      assertRepositoryPath(m[1]!, { file, field: name });
      const bytes = Buffer.concat(chunks).subarray(0, MAX_SIGNATURE_SIZE + 1);
      out.push({ repositoryPath: m[1]!, digest: `${m[2]}:${m[3]}`, name: base, bytes, source: `${file}:${name}` });
    }
  })();
  const source = createReadStream(file);
  try {
    let read = 0;
    const capped = async function* (chunks: AsyncIterable<Buffer>) {
      for await (const chunk of chunks) {
        read += chunk.length;
        if (read > MAX_STORE_ARCHIVE) throw tooLarge(`unpacks to more than ${MAX_STORE_ARCHIVE / MiB} MiB`);
        yield chunk;
      }
    };
    await Promise.all([
      gz ? pipeline(source, createGunzip(), capped, extract) : pipeline(source, capped, extract),
      consume,
    ]);
  } catch (e) {
    source.destroy();
    extract.destroy();
    if (e instanceof InputError) throw e;
    throw new InputError('E_BAD_STORE', { file }, `not a readable tar archive of signatures: ${(e as Error).message}`);
  }
  return out;
}
