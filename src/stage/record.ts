/**
 * The record of what `stage` put into a rootfs, kept inside it at RECORD_PATH, so that `unstage`
 * removes exactly that and gives appended files back byte for byte. One zod schema is its shape.
 */
import * as crypto from 'node:crypto';
import { z } from 'zod';
import { InputError } from '../errors.js';
import { parseJsonInput } from '../util/json-input.js';

export const RECORD_PATH = '/var/lib/kbs-bundler/staged.json';
export const RECORD_DIR = '/var/lib/kbs-bundler';

const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/);
const modeString = z.string().regex(/^0[0-7]{3,4}$/);

export const recordSchema = z.strictObject({
  version: z.literal(1),
  /** Files staging wrote whole (signatures, keyrings), by real guest path. */
  files: z.array(
    z.strictObject({
      path: z.string(),
      sha256: sha256Hex,
      mode: modeString,
      /** What was there before, when staging replaced a file (restored by unstage). */
      original: z.strictObject({ base64: z.string(), mode: modeString }).optional(),
    }),
  ),
  /** Files a marked block was appended to. */
  blocks: z.array(
    z.strictObject({
      path: z.string(),
      block: z.enum(['ca', 'hosts']),
      /** sha256 and size of the file without the block: what unstage must give back. */
      originalSha256: sha256Hex,
      originalSize: z.number().int().nonnegative(),
      /** A newline was added before the block (the original did not end with one). */
      separator: z.boolean(),
      /** The file did not exist before (removed again by unstage). */
      created: z.boolean(),
      /** sha256 of the block as staged (with the newline added before it): unstage removes only an intact block. */
      blockSha256: sha256Hex.optional(),
    }),
  ),
  /** Directories staging created, removed by unstage when empty. */
  directories: z.array(z.string()),
  /** For an initrd: the length and digest of the bytes before the first appended archive. */
  initrd: z.strictObject({ originalSize: z.number().int().nonnegative(), originalSha256: sha256Hex }).optional(),
  /**
   * Written before stage's first change (its intent): the changes listed may be made only in part.
   * The record that ends a stage has no such field.
   */
  pending: z.literal(true).optional(),
});
export type StageRecord = z.infer<typeof recordSchema>;
export type RecordedFile = StageRecord['files'][number];
export type RecordedBlock = StageRecord['blocks'][number];

export function emptyRecord(): StageRecord {
  return { version: 1, files: [], blocks: [], directories: [] };
}

/** sha256 hex: the one-shot crypto.hash where this Node has it (20.12+; no Hash object per call), else createHash. */
export function sha256(data: Uint8Array | string): string {
  return oneShot ? oneShot('sha256', data, 'hex') : crypto.createHash('sha256').update(data).digest('hex');
}
const oneShot = (crypto as { hash?: (algorithm: string, data: Uint8Array | string, encoding: 'hex') => string }).hash;

export function modeString8(mode: number): string {
  return `0${(mode & 0o7777).toString(8).padStart(3, '0')}`;
}

export function parseRecord(bytes: Uint8Array, where: string): StageRecord {
  const json = parseJsonInput(bytes, { file: where }, 'E_STAGE_RECORD');
  const r = recordSchema.safeParse(json);
  if (!r.success) {
    const issue = r.error.issues[0];
    throw new InputError(
      'E_STAGE_RECORD',
      { file: where, field: issue?.path.join('.') },
      issue?.message ?? 'invalid record',
    );
  }
  return r.data;
}

/** Canonical bytes: entries sorted by path, so staging the same input twice gives the same file. */
export function serializeRecord(record: StageRecord): Buffer {
  const byPath = <T extends { path: string }>(a: T, b: T) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0);
  const sorted: StageRecord = {
    version: 1,
    files: [...record.files].sort(byPath),
    blocks: [...record.blocks].sort(byPath),
    directories: [...new Set(record.directories)].sort(),
    ...(record.initrd ? { initrd: record.initrd } : {}),
    ...(record.pending ? { pending: true as const } : {}),
  };
  return Buffer.from(`${JSON.stringify(sorted, null, 1)}\n`);
}
