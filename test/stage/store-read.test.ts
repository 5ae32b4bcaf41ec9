/**
 * Stage reads lookaside stores with synchronous reads into shared 1 MiB slabs (one view per
 * signature). Whatever the sizes — empty, around the 64 KiB single-read window, past a slab's end,
 * larger than the 4 MiB cap — every signature must read back exactly as a plain readFileSync does
 * (capped at MAX_SIGNATURE_SIZE + 1 bytes), with the same names, digests and sources.
 */
import { promises as fs, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readSignatureStore } from '../../src/store/read-store.js';
import { MAX_SIGNATURE_SIZE } from '../../src/openpgp/verify-signature.js';
import { tempDir } from '../rootfs/images.js';

let work: string;
let store: string;
const HEX = 'ab'.repeat(32);
const SIZES = [0, 1, 836, 65_535, 65_536, 65_537, 300_000, 700_000, 1_048_000, MAX_SIGNATURE_SIZE + 10];

beforeAll(async () => {
  work = await tempDir('kbs-store-read-');
  store = path.join(work, 'store');
  let seed = 1;
  const bytes = (n: number) =>
    Buffer.from(Array.from({ length: n }, () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) & 0xff));
  // every size once, then 400 small ones (several slabs), in nested repositories
  const files: Array<[string, Buffer]> = SIZES.map((n, i) => [`team/size-${i}@sha256=${HEX}/signature-1`, bytes(n)]);
  for (let i = 0; i < 400; i++)
    files.push([`bulk/g${i % 7}/app${i}@sha256=${HEX}/signature-${1 + (i % 3)}`, bytes(600 + (i % 50) * 37)]);
  for (const [rel, data] of files) {
    await fs.mkdir(path.dirname(path.join(store, rel)), { recursive: true });
    await fs.writeFile(path.join(store, rel), data);
  }
  // a symlinked file is read, a dot file is not
  await fs.writeFile(path.join(work, 'elsewhere'), bytes(900));
  await fs.symlink(path.join(work, 'elsewhere'), path.join(store, `team/size-0@sha256=${HEX}/signature-2`));
  await fs.writeFile(path.join(store, `team/size-0@sha256=${HEX}/.tmp-x`), 'no');
}, 60_000);

afterAll(async () => {
  await fs.rm(work, { recursive: true, force: true });
});

describe('reading a lookaside store into slabs', () => {
  it('every signature reads back as readFileSync gives it, capped at MAX_SIGNATURE_SIZE + 1', async () => {
    const read = await readSignatureStore(store);
    expect(read).toHaveLength(SIZES.length + 400 + 1);
    for (const sig of read) {
      const whole = readFileSync(sig.source);
      // An oversize file reads as MAX_SIGNATURE_SIZE + 1 bytes (only its length matters: every reader refuses it).
      if (whole.length > MAX_SIGNATURE_SIZE) expect(sig.bytes.byteLength).toBe(MAX_SIGNATURE_SIZE + 1);
      else expect(Buffer.from(sig.bytes).equals(whole)).toBe(true);
      expect(sig.source).toBe(path.join(store, `${sig.repositoryPath}@sha256=${HEX}`, sig.name));
      expect(sig.digest).toBe(`sha256:${HEX}`);
    }
    expect(read.find((s) => s.repositoryPath === `team/size-${SIZES.length - 1}`)?.bytes.byteLength).toBe(
      MAX_SIGNATURE_SIZE + 1,
    );
    expect(read.filter((s) => s.name.startsWith('.'))).toEqual([]);
    // views of one slab never overlap: changing one changes no other
    const copies = read.map((s) => Buffer.from(s.bytes));
    for (const s of read) if (s.bytes.byteLength > 0) s.bytes[0] = (s.bytes[0]! + 1) & 0xff;
    read.forEach((s, i) => expect(Buffer.from(s.bytes).subarray(1).equals(copies[i]!.subarray(1))).toBe(true));
  });

  it('sources are path.join(base, directory, name) however the base is spelled', async () => {
    const rel = path.relative(process.cwd(), store);
    for (const base of [
      store,
      `${store}/`,
      `${store}//`,
      `${store}/./`,
      `${path.dirname(store)}/../${path.basename(path.dirname(store))}/store`,
      rel,
      `./${rel}/`,
    ]) {
      const read = await readSignatureStore(base);
      expect(read).toHaveLength(SIZES.length + 400 + 1);
      for (const sig of read) expect(sig.source).toBe(path.join(base, `${sig.repositoryPath}@sha256=${HEX}`, sig.name));
    }
  });
});
