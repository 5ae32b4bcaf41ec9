/**
 * An initrd as the kernel unpacks it: a sequence of newc cpio archives, each gzip'd or plain,
 * with zero padding allowed between them; later entries replace earlier ones
 * (Documentation/driver-api/early-userspace/buffer-format.rst).
 */
import { promises as fs } from 'node:fs';
import * as zlib from 'node:zlib';
import { InputError } from '../errors.js';
import { normalizeName, parseNewc, type CpioEntry } from './cpio.js';
import { typeFromMode } from './debugfs.js';
import type { GuestLookup, GuestNode } from './guest-path.js';
import { asPromise } from '../util/as-promise.js';

export interface InitrdSegment {
  offset: number;
  length: number;
  compressed: boolean;
  entries: number;
}

export interface InitrdImage extends GuestLookup {
  readonly file: string;
  readonly size: number;
  readonly segments: readonly InitrdSegment[];
  /** The entry a path names after every archive is applied (components joined with '/'). */
  entry(path: string): CpioEntry | undefined;
  children(path: string): string[] | undefined;
}

const OTHER_COMPRESSION: Array<[number[], string]> = [
  [[0xfd, 0x37, 0x7a, 0x58, 0x5a], 'xz'],
  [[0x28, 0xb5, 0x2f, 0xfd], 'zstd'],
  [[0x02, 0x21, 0x4c, 0x18], 'lz4'],
  [[0x42, 0x5a, 0x68], 'bzip2'],
  [[0x5d, 0x00, 0x00], 'lzma'],
];

export async function readInitrd(file: string): Promise<InitrdImage> {
  const buf = await fs.readFile(file);
  return parseInitrd(buf, file);
}

export function parseInitrd(buf: Buffer, file: string): InitrdImage {
  const segments: InitrdSegment[] = [];
  const byPath = new Map<string, CpioEntry>();
  const childNames = new Map<string, Set<string>>();
  const add = (entries: CpioEntry[]) => {
    for (const e of entries) {
      if (e.name === '') continue;
      byPath.set(e.name, e);
      const parts = e.name.split('/');
      for (let i = 0; i < parts.length; i++) {
        const parent = parts.slice(0, i).join('/');
        let set = childNames.get(parent);
        if (!set) childNames.set(parent, (set = new Set()));
        set.add(parts[i] as string);
      }
    }
  };
  let pos = 0;
  while (pos < buf.length) {
    while (pos < buf.length && buf[pos] === 0) pos++;
    if (pos >= buf.length) break;
    if (buf[pos] === 0x1f && buf[pos + 1] === 0x8b) {
      const { data, next } = gunzipMember(buf, pos, file);
      const { entries, end } = parseNewc(data, 0, file);
      if (entries.length === 0 || data.subarray(end).some((b) => b !== 0)) {
        throw new InputError('E_INITRD', { file }, `the gzip stream at byte ${pos} does not hold newc cpio archives`);
      }
      segments.push({ offset: pos, length: next - pos, compressed: true, entries: entries.length });
      add(entries);
      pos = next;
      continue;
    }
    if (buf.toString('latin1', pos, pos + 5) === '07070') {
      const { entries, end } = parseNewc(buf, pos, file);
      segments.push({ offset: pos, length: end - pos, compressed: false, entries: entries.length });
      add(entries);
      pos = end;
      continue;
    }
    const other = OTHER_COMPRESSION.find(([magic]) => magic.every((b, i) => buf[pos + i] === b));
    if (other)
      throw new InputError(
        'E_INITRD_COMPRESSION',
        { file },
        `holds a ${other[1]}-compressed archive at byte ${pos}; only gzip and plain newc cpio are supported`,
      );
    throw new InputError('E_INITRD', { file }, `unexpected bytes at ${pos}: not a newc cpio archive or gzip stream`);
  }
  return {
    file,
    size: buf.length,
    segments,
    entry: (p) => byPath.get(normalizeName(p)),
    children: (p) => {
      const key = normalizeName(p);
      const set = childNames.get(key);
      if (set) return [...set].sort();
      const e = byPath.get(key);
      return e && typeFromMode(e.mode) === 'dir' ? [] : undefined;
    },
    lookup(parent, name): Promise<GuestNode | undefined> {
      return asPromise((): GuestNode | undefined => {
        const key = [...parent, name].join('/');
        const e = byPath.get(key);
        if (!e) return childNames.has(key) ? { type: 'dir', mode: 0o755, uid: 0, gid: 0 } : undefined;
        const type = typeFromMode(e.mode);
        return {
          type,
          mode: e.mode & 0o7777,
          uid: e.uid,
          gid: e.gid,
          ...(type === 'symlink' ? { target: e.data.toString('utf8') } : {}),
        };
      });
    },
  };
}

/** Decompresses the one gzip member starting at `pos`; returns its data and the offset after it. */
function gunzipMember(buf: Buffer, pos: number, file: string): { data: Buffer; next: number } {
  if (buf[pos + 2] !== 8) throw new InputError('E_INITRD', { file }, `gzip stream at byte ${pos} does not use deflate`);
  const flags = buf[pos + 3] as number;
  let p = pos + 10;
  if (flags & 4) p += 2 + buf.readUInt16LE(p);
  if (flags & 8) p = buf.indexOf(0, p) + 1;
  if (flags & 16) p = buf.indexOf(0, p) + 1;
  if (flags & 2) p += 2;
  if (p <= pos || p > buf.length) throw new InputError('E_INITRD', { file }, `truncated gzip header at byte ${pos}`);
  let result: { buffer: Buffer; engine: zlib.Zlib };
  try {
    result = zlib.inflateRawSync(buf.subarray(p), { info: true }) as unknown as { buffer: Buffer; engine: zlib.Zlib };
  } catch (e) {
    throw new InputError('E_INITRD', { file }, `corrupt gzip stream at byte ${pos}: ${(e as Error).message}`, {
      cause: e,
    });
  }
  const consumed = result.engine.bytesWritten;
  const trailer = p + consumed;
  if (trailer + 8 > buf.length) throw new InputError('E_INITRD', { file }, `truncated gzip stream at byte ${pos}`);
  const isize = buf.readUInt32LE(trailer + 4);
  if (isize !== result.buffer.length % 2 ** 32)
    throw new InputError('E_INITRD', { file }, `gzip stream at byte ${pos}: length check failed`);
  const crc = (zlib as unknown as { crc32?: (b: Buffer) => number }).crc32;
  if (crc && crc(result.buffer) !== buf.readUInt32LE(trailer))
    throw new InputError('E_INITRD', { file }, `gzip stream at byte ${pos}: CRC check failed`);
  return { data: result.buffer, next: trailer + 8 };
}
