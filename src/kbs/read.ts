/**
 * Reading a KBS repository back, whatever form it is in: a nested tree (`<repo>/<type>/<tag>`,
 * trustee ≤ v0.18), a flat LocalFs store (`repository/<repo>\x2F<type>\x2F<tag>`, trustee ≥ v0.19),
 * a tarball of either (plain or gzip), or an offline-fs-kbc resources JSON
 * (`{"repo/type/tag": base64}`). Resources are looked up by id, the way the guest asks for them.
 * A directory's resources are read when asked for, each capped by what its format can need (a 1 GiB
 * file as the policy is refused after its size is seen, and a large unused file is never read).
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { FileNotFoundError, InputError } from '../errors.js';
import { parseJsonInput } from '../util/json-input.js';
import { INPUT_LIMITS, MiB, readInputFile } from '../util/read-input.js';
import { FLAT_SEPARATOR } from './layout.js';
import { isValidSegment, resourcePath, type ResourceId } from '../resource-id/resource-id.js';

export type RepositoryForm = 'nested' | 'flat' | 'tarball' | 'offline-fs-json';

export interface KbsRepositoryReader {
  readonly source: string;
  readonly form: RepositoryForm;
  /** Every resource id present, `repo/type/tag`, sorted. */
  list(): string[];
  get(id: ResourceId | string): Promise<Uint8Array | undefined>;
}

function idFromSegments(segments: string[]): ResourceId | undefined {
  if (segments.length !== 3 || !segments.every(isValidSegment)) return undefined;
  const [repository = '', type = '', tag = ''] = segments;
  return { repository, type, tag };
}

/** The resource id a path inside a tree or tarball names, if any. */
export function idFromTreePath(relative: string): ResourceId | undefined {
  const parts = relative.split('/').filter((p) => p !== '' && p !== '.');
  const last = parts[parts.length - 1] ?? '';
  if (last.includes(FLAT_SEPARATOR)) return idFromSegments(last.split(FLAT_SEPARATOR));
  return idFromSegments(parts.slice(-3));
}

function memoryReader(source: string, form: RepositoryForm, entries: Map<string, Uint8Array>): KbsRepositoryReader {
  return {
    source,
    form,
    list: () => [...entries.keys()].sort(),
    get: (id) => Promise.resolve(entries.get(typeof id === 'string' ? id : resourcePath(id))),
  };
}

/** What a resource of each type is read as, and the most it may hold; any other type is read as a key. */
const RESOURCE_FORMATS: Record<string, { what: string; maxBytes: number }> = {
  'security-policy': { what: 'policy', maxBytes: INPUT_LIMITS.policy },
  'sigstore-config': { what: 'sigstore config', maxBytes: INPUT_LIMITS.sigstoreConfig },
  credential: { what: 'registry credential', maxBytes: INPUT_LIMITS.credential },
};
const KEY_FORMAT = { what: 'keyring', maxBytes: INPUT_LIMITS.keyring };

export function resourceFormat(type: string): { what: string; maxBytes: number } {
  return Object.prototype.hasOwnProperty.call(RESOURCE_FORMATS, type) ? RESOURCE_FORMATS[type]! : KEY_FORMAT;
}

function tooLargeResource(file: string, type: string): InputError {
  const { what, maxBytes } = resourceFormat(type);
  return new InputError('E_TOO_LARGE', { file }, `is larger than ${maxBytes / MiB} MiB, more than a ${what} can be`);
}

async function walkFiles(dir: string, prefix = ''): Promise<string[]> {
  const out: string[] = [];
  for (const e of await fs.readdir(path.join(dir, prefix), { withFileTypes: true })) {
    const rel = prefix ? `${prefix}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...(await walkFiles(dir, rel)));
    else if (e.isFile() || e.isSymbolicLink()) out.push(rel);
  }
  return out;
}

async function readDirectory(dir: string): Promise<KbsRepositoryReader> {
  const files = await walkFiles(dir);
  const flat = files.some((f) => path.posix.basename(f).includes(FLAT_SEPARATOR));
  const paths = new Map<string, { file: string; type: string }>();
  for (const rel of files) {
    const parts = rel.split('/');
    // nested: exactly <repo>/<type>/<tag> below the root; flat: <name with \x2F> anywhere (normally repository/).
    const id = flat
      ? parts[parts.length - 1]?.includes(FLAT_SEPARATOR)
        ? idFromTreePath(rel)
        : undefined
      : parts.length === 3
        ? idFromSegments(parts)
        : undefined;
    if (id) paths.set(resourcePath(id), { file: path.join(dir, rel), type: id.type });
  }
  const read = new Map<string, Promise<Uint8Array>>();
  return {
    source: dir,
    form: flat ? 'flat' : 'nested',
    list: () => [...paths.keys()].sort(),
    get: (id) => {
      const key = typeof id === 'string' ? id : resourcePath(id);
      const found = paths.get(key);
      if (!found) return Promise.resolve(undefined);
      let bytes = read.get(key);
      if (!bytes) {
        bytes = readInputFile(found.file, resourceFormat(found.type)).then((b) => new Uint8Array(b));
        read.set(key, bytes);
      }
      return bytes;
    },
  };
}

async function readTarball(file: string, bytes: Buffer): Promise<KbsRepositoryReader> {
  let data = bytes;
  if (isGzip(bytes)) {
    try {
      data = gunzipSync(bytes, { maxOutputLength: MAX_REPOSITORY_FILE });
    } catch (e) {
      const tooLarge = (e as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE';
      throw new InputError(
        'E_KBS_TARBALL',
        { file },
        tooLarge
          ? `decompresses to more than ${MAX_REPOSITORY_FILE / MiB} MiB, more than a KBS repository can be`
          : 'is not a readable gzip file',
      );
    }
  }
  const entries = new Map<string, Uint8Array>();
  const { extract } = await import('tar-stream'); // only for tarballs: a cold-start verify of a tree does not load it
  const ex = extract();
  const done = new Promise<void>((resolve, reject) => {
    ex.on('entry', (header, stream, next) => {
      const id = header.type === 'file' ? idFromTreePath(header.name) : undefined;
      if (id && (header.size ?? 0) > resourceFormat(id.type).maxBytes) {
        // Refused without keeping its bytes; the rest of the (already capped) tarball is skipped through.
        reject(tooLargeResource(`${file}:${header.name}`, id.type));
        stream.on('end', next);
        stream.resume();
        return;
      }
      const chunks: Buffer[] = [];
      stream.on('data', (c: unknown) => chunks.push(c as Buffer));
      stream.on('end', () => {
        if (id) entries.set(resourcePath(id), new Uint8Array(Buffer.concat(chunks)));
        next();
      });
      stream.resume();
    });
    ex.on('finish', resolve);
    ex.on('error', (e: Error) =>
      reject(
        e instanceof InputError
          ? e
          : new InputError('E_KBS_TARBALL', { file }, `is not a readable tarball: ${e.message}`),
      ),
    );
  });
  ex.end(data);
  await done;
  return memoryReader(file, 'tarball', entries);
}

function readOfflineJson(file: string, bytes: Buffer): KbsRepositoryReader {
  const doc = parseJsonInput(bytes, { file }, 'E_KBS_JSON');
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc))
    throw new InputError('E_KBS_JSON', { file }, 'must be an object {"repo/type/tag": base64}');
  const entries = new Map<string, Uint8Array>();
  for (const [key, value] of Object.entries(doc)) {
    const id = idFromSegments(key.split('/'));
    if (!id) throw new InputError('E_KBS_JSON', { file, field: key }, 'is not a repo/type/tag resource id');
    if (typeof value !== 'string') throw new InputError('E_KBS_JSON', { file, field: key }, 'must be a base64 string');
    entries.set(key, new Uint8Array(Buffer.from(value, 'base64')));
  }
  return memoryReader(file, 'offline-fs-json', entries);
}

/** A KBS repository holds a handful of small resources (policy, keys, credential, CA). */
const MAX_REPOSITORY_FILE = 64 * MiB;

const isGzip = (b: Buffer) => b[0] === 0x1f && b[1] === 0x8b;
/** POSIX and GNU tar headers carry `ustar` at offset 257. */
const isTar = (b: Buffer) => b.length >= 512 && b.subarray(257, 262).toString('latin1') === 'ustar';

function notARepository(source: string, bytes: Buffer): InputError {
  const head = bytes.subarray(0, 64 * 1024).toString('utf8');
  if (/^policy:/m.test(head))
    return new InputError(
      'E_NOT_KBS_REPOSITORY',
      { file: source },
      `is a bundle.yaml, not a KBS repository; build the repository first (kbs-bundler build -c ${source} -o kbs-repo) and give --kbs kbs-repo`,
    );
  return new InputError(
    'E_NOT_KBS_REPOSITORY',
    { file: source },
    'is not a KBS repository: give its directory, a tarball of it, or an offline-fs-kbc resources JSON',
  );
}

/** Opens a repository directory, tarball or offline-fs JSON; InputError when it holds no resource. */
export async function openKbsRepository(source: string): Promise<KbsRepositoryReader> {
  let stat;
  try {
    stat = await fs.stat(source);
  } catch (e) {
    throw new FileNotFoundError(source, 'KBS repository', { cause: e });
  }
  let reader: KbsRepositoryReader;
  if (stat.isDirectory()) reader = await readDirectory(source);
  else {
    const bytes = await readInputFile(source, { what: 'KBS repository', maxBytes: MAX_REPOSITORY_FILE });
    const text = bytes.subarray(0, 64).toString('utf8').trimStart();
    if (text.startsWith('{')) reader = readOfflineJson(source, bytes);
    else if (isGzip(bytes) || isTar(bytes)) reader = await readTarball(source, bytes);
    else throw notARepository(source, bytes);
  }
  if (reader.list().length === 0) {
    throw new InputError(
      'E_KBS_EMPTY',
      { file: source },
      'holds no KBS resource (expected <repo>/<type>/<tag> files, repository/<repo>\\x2F<type>\\x2F<tag> files, or a tarball of either)',
    );
  }
  return reader;
}
