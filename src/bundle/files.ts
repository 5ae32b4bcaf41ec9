/** Reading the files a bundle names: paths relative to the bundle, errors naming the field. */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { InputError, type ErrorCode } from '../errors.js';
import { MiB } from '../util/read-input.js';
import type { Keyring } from '../keys/index.js';

const MAX_BUNDLE_INPUT = 16 * MiB;

export interface BundleContext {
  /** The bundle file as the user named it. */
  file: string;
  /** Directory relative paths resolve against. */
  dir: string;
  env: NodeJS.ProcessEnv;
  /** Parsed keyrings by absolute path: a key file shared by many scopes is parsed once. */
  keyrings: Map<string, Promise<Keyring>>;
  /** Files already read, by absolute path (many rules may name the same key file). */
  files: Map<string, Buffer>;
}

export function resolveBundlePath(ctx: BundleContext, relative: string): string {
  return path.resolve(ctx.dir, relative);
}

export function fail(ctx: BundleContext, code: ErrorCode, field: string, problem: string): InputError {
  return new InputError(code, { file: ctx.file, field }, problem);
}

/** Reads a regular file the bundle names; a missing or unreadable one is an InputError at `field`. */
export async function readBundleFile(
  ctx: BundleContext,
  relative: string,
  field: string,
): Promise<{ abs: string; bytes: Buffer }> {
  const abs = resolveBundlePath(ctx, relative);
  const cached = ctx.files.get(abs);
  if (cached) return { abs, bytes: cached };
  let stat;
  try {
    stat = await fs.stat(abs);
  } catch {
    throw fail(ctx, 'E_FILE_NOT_FOUND', field, `${relative}: file not found`);
  }
  if (!stat.isFile()) throw fail(ctx, 'E_NOT_A_FILE', field, `${relative}: not a regular file`);
  // Key, CA and password files are a few KiB; a huge file here is a mistake, not worth reading into memory.
  if (stat.size > MAX_BUNDLE_INPUT)
    throw fail(ctx, 'E_TOO_LARGE', field, `${relative}: is larger than ${MAX_BUNDLE_INPUT / MiB} MiB`);
  try {
    const bytes = await fs.readFile(abs);
    ctx.files.set(abs, bytes);
    return { abs, bytes };
  } catch (e) {
    throw fail(
      ctx,
      'E_FILE_UNREADABLE',
      field,
      `${relative}: cannot be read (${(e as NodeJS.ErrnoException).code ?? 'error'})`,
    );
  }
}

/** Checks a path exists (file or directory) and returns it absolute. */
export async function existingPath(ctx: BundleContext, relative: string, field: string): Promise<string> {
  const abs = resolveBundlePath(ctx, relative);
  try {
    await fs.stat(abs);
  } catch {
    throw fail(ctx, 'E_FILE_NOT_FOUND', field, `${relative}: not found`);
  }
  return abs;
}

/** Re-locates an InputError raised for a file (e.g. by keys/) at the bundle field that named it. */
export function atField(
  ctx: BundleContext,
  field: string,
  relative: string,
  e: unknown,
  hints: Record<string, string> = {},
): unknown {
  if (e instanceof InputError) {
    const hint = hints[e.code];
    return new InputError(e.code, { file: ctx.file, field }, `${relative}: ${e.problem}${hint ? `; ${hint}` : ''}`, {
      cause: e,
    });
  }
  return e;
}
