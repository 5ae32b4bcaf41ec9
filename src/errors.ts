/**
 * Every failure kbs-bundler reports is one of these classes. Each has a stable `code` that scripts
 * and tests may rely on, and the exit code the CLI uses for it. Only `cli/` turns them into text on
 * a terminal (see cli/report-error.ts); the domain throws them and never prints.
 *
 * Messages never contain secrets (passwords, private keys, passphrases): callers pass field paths
 * and descriptions, never values read from a secret source.
 */
import type { ErrorCode } from './error-codes.js';

export type { ErrorCode } from './error-codes.js';
export type ExitCode = 1 | 2;

export abstract class KbsBundlerError extends Error {
  abstract readonly code: ErrorCode;
  /** 2 = bad input (the default); 1 = a decision or findings the user asked for. */
  readonly exitCode: ExitCode = 2;
}

export interface Location {
  /** The file the problem is in, as the user named it (or a resource id). */
  file?: string;
  /** Dotted path of the field inside that file, e.g. `policy.scopes["reg:5000"][0].keys[1]`. */
  field?: string;
}

/** Formats `file: field: problem`, leaving out what is unknown. */
export function formatLocated(location: Location, problem: string): string {
  return [location.file, location.field, problem].filter((s) => s !== undefined && s !== '').join(': ');
}

/** Malformed or contradictory input: exit 2, nothing written. */
export class InputError extends KbsBundlerError {
  readonly code: ErrorCode;
  readonly location: Location;
  readonly problem: string;
  constructor(code: ErrorCode, location: Location, problem: string, options?: { cause?: unknown }) {
    super(formatLocated(location, problem), options);
    this.name = 'InputError';
    this.code = code;
    this.location = location;
    this.problem = problem;
  }
}

/** A file or path the user named does not exist or cannot be read. */
export class FileNotFoundError extends InputError {
  constructor(file: string, what = 'file', options?: { cause?: unknown }) {
    super('E_FILE_NOT_FOUND', { file }, `${what} not found`, options);
    this.name = 'FileNotFoundError';
  }
}

/** An external program (skopeo, debugfs, veritysetup…) is missing or failed. */
export class ToolError extends KbsBundlerError {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ToolError';
    this.code = code;
  }
}

/** A write would leave the rootfs or the output directory (symlink or `..` escape). */
export class PathEscapeError extends KbsBundlerError {
  readonly code = 'E_PATH_ESCAPE';
  constructor(message: string) {
    super(message);
    this.name = 'PathEscapeError';
  }
}

/** Findings the user asked to be told about (audit, lint, stage warnings): exit 1. */
export class FindingsError extends KbsBundlerError {
  readonly code: ErrorCode;
  override readonly exitCode = 1 as const;
  constructor(code: ErrorCode, message: string) {
    super(message);
    this.name = 'FindingsError';
    this.code = code;
  }
}

export function isKbsBundlerError(e: unknown): e is KbsBundlerError {
  return e instanceof KbsBundlerError;
}
