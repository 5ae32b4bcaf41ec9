/**
 * The newc cpio format (`cpio -H newc`, magic 070701; 070702 = with checksum) the Linux kernel
 * unpacks as initramfs: a 110-byte ASCII-hex header, the NUL-terminated name padded to 4 bytes,
 * the data padded to 4 bytes, and a `TRAILER!!!` entry at the end.
 */
import { InputError } from '../errors.js';

export interface CpioEntry {
  /** As stored, without a leading `./` or `/`; '' or '.' for the root. */
  name: string;
  mode: number;
  uid: number;
  gid: number;
  mtime: number;
  ino: number;
  nlink: number;
  devmajor: number;
  devminor: number;
  data: Buffer;
}

const HEADER = 110;
const TRAILER = 'TRAILER!!!';

function pad4(n: number): number {
  return (n + 3) & ~3;
}

/**
 * Parses newc archives in `buf` from `start`, following one archive with the next (zero padding
 * between them allowed), until the end of `buf` or bytes that are not a newc header. Returns the
 * entries and the offset where parsing stopped. Hard links (nlink > 1, same inode) share the
 * data of the entry that carries it, as the kernel does.
 */
export function parseNewc(buf: Buffer, start: number, file: string): { entries: CpioEntry[]; end: number } {
  const entries: CpioEntry[] = [];
  let pos = start;
  let links = new Map<string, CpioEntry[]>();
  for (;;) {
    while (pos < buf.length && buf[pos] === 0) pos++;
    if (pos + 6 > buf.length) break;
    const magic = buf.toString('latin1', pos, pos + 6);
    if (magic !== '070701' && magic !== '070702') break;
    if (pos + HEADER > buf.length) throw new InputError('E_CPIO', { file }, `truncated cpio header at byte ${pos}`);
    const field = (i: number) => {
      const s = buf.toString('latin1', pos + 6 + i * 8, pos + 14 + i * 8);
      if (!/^[0-9a-fA-F]{8}$/.test(s)) throw new InputError('E_CPIO', { file }, `bad cpio header at byte ${pos}`);
      return parseInt(s, 16);
    };
    const [ino, mode, uid, gid, nlink, mtime, filesize, devmajor, devminor, , , namesize] = Array.from(
      { length: 12 },
      (_, i) => field(i),
    );
    const nameStart = pos + HEADER;
    const dataStart = pad4(nameStart + (namesize as number));
    const dataEnd = dataStart + (filesize as number);
    if (dataEnd > buf.length) throw new InputError('E_CPIO', { file }, `truncated cpio entry at byte ${pos}`);
    const name = buf.toString('utf8', nameStart, nameStart + (namesize as number) - 1);
    pos = pad4(dataEnd);
    if (name === TRAILER) {
      links = new Map();
      continue;
    }
    const entry: CpioEntry = {
      name: normalizeName(name),
      mode: mode as number,
      uid: uid as number,
      gid: gid as number,
      mtime: mtime as number,
      ino: ino as number,
      nlink: nlink as number,
      devmajor: devmajor as number,
      devminor: devminor as number,
      data: buf.subarray(dataStart, dataEnd),
    };
    if ((entry.mode & 0o170000) === 0o100000 && entry.nlink > 1) {
      const key = `${entry.ino}:${entry.devmajor}:${entry.devminor}`;
      const group = links.get(key) ?? [];
      group.push(entry);
      links.set(key, group);
      if (entry.data.length > 0) for (const e of group) e.data = entry.data;
    }
    entries.push(entry);
  }
  return { entries, end: pos };
}

export function normalizeName(name: string): string {
  return name
    .split('/')
    .filter((c) => c !== '' && c !== '.')
    .join('/');
}

export interface NewEntry {
  name: string;
  mode: number;
  uid?: number;
  gid?: number;
  mtime?: number;
  data?: Uint8Array;
}

/** Writes a newc archive (with trailer) holding `entries`, inode numbers from `firstIno`. */
export function writeNewc(entries: readonly NewEntry[], firstIno = 1): Buffer {
  const parts: Buffer[] = [];
  let ino = firstIno;
  const push = (
    name: string,
    e: { mode: number; uid?: number; gid?: number; mtime?: number; data?: Uint8Array },
    nlink: number,
  ) => {
    const data = Buffer.from(e.data ?? new Uint8Array());
    const nameBytes = Buffer.from(`${name}\0`, 'utf8');
    const fields = [
      ino++,
      e.mode,
      e.uid ?? 0,
      e.gid ?? 0,
      nlink,
      e.mtime ?? 0,
      data.length,
      0,
      0,
      0,
      0,
      nameBytes.length,
      0,
    ];
    const header = Buffer.from(
      `070701${fields.map((f) => f.toString(16).padStart(8, '0').toUpperCase()).join('')}`,
      'latin1',
    );
    const headLen = header.length + nameBytes.length;
    parts.push(header, nameBytes, Buffer.alloc(pad4(headLen) - headLen));
    parts.push(data, Buffer.alloc(pad4(data.length) - data.length));
  };
  for (const e of entries) push(e.name, e, (e.mode & 0o170000) === 0o040000 ? 2 : 1);
  push(TRAILER, { mode: 0 }, 1);
  const out = Buffer.concat(parts);
  // cpio(1) pads archives to 512-byte blocks; the kernel does not need it, but tools expect it.
  return Buffer.concat([out, Buffer.alloc(pad512(out.length) - out.length)]);
}

function pad512(n: number): number {
  return Math.ceil(n / 512) * 512;
}
