/** The one place that turns errors into a message on stderr (and, under --json, an object on stdout) and an exit code. */
import { stderr } from 'node:process';
import type { ErrorCode } from '../error-codes.js';
import { isKbsBundlerError } from '../errors.js';
import { colorEnabled, jsonWasPrinted, printJson } from './output.js';

export interface ReportOptions {
  /**
   * The command was run with --json: also print `{"error": {"code", "message", "exitCode"}}` on stdout,
   * unless the command already printed its own document (which then says what went wrong).
   */
  json?: boolean;
}

interface Reported {
  code: ErrorCode;
  message: string;
  exitCode: number;
}

export function reportError(e: unknown, options: ReportOptions = {}): number {
  const reported = describe(e);
  if (!isCommanderError(e)) {
    const prefix = colorEnabled(stderr) ? '\u001b[31mkbs-bundler:\u001b[0m' : 'kbs-bundler:';
    stderr.write(`${prefix} ${reported.code === 'E_INTERNAL' ? 'internal error: ' : ''}${reported.message}\n`);
  }
  if (reported.code === 'E_INTERNAL' && process.env.KBS_BUNDLER_DEBUG && e instanceof Error && e.stack) {
    stderr.write(`${e.stack}\n`);
  }
  if (options.json && reported.exitCode !== 0 && !jsonWasPrinted()) printJson({ error: reported });
  return reported.exitCode;
}

function describe(e: unknown): Reported {
  if (isKbsBundlerError(e)) return { code: e.code, message: e.message, exitCode: e.exitCode };
  // Commander's own usage errors arrive as CommanderError, their text already printed by commander.
  if (isCommanderError(e)) {
    return { code: 'E_USAGE', message: e.message.replace(/^error: /, ''), exitCode: e.exitCode === 0 ? 0 : 2 };
  }
  const fsProblem = fileSystemProblem(e);
  if (fsProblem !== undefined) return { code: 'E_FILE_SYSTEM', message: fsProblem, exitCode: 2 };
  return { code: 'E_INTERNAL', message: e instanceof Error ? e.message : String(e), exitCode: 2 };
}

function isCommanderError(e: unknown): e is { code: string; exitCode: number; message: string } {
  const c = e as { code?: unknown };
  return e instanceof Error && typeof c.code === 'string' && c.code.startsWith('commander.');
}

/** What the system said no to, for a path the input led to: bad input (exit 2), not an internal error. */
const FILE_SYSTEM_PROBLEMS: Record<string, string> = {
  ENAMETOOLONG: 'name too long for the file system (a very long scope, repository or tag?)',
  ENOTDIR: 'a part of this path is a file, not a directory',
  EISDIR: 'is a directory, where a file was expected',
  EEXIST: 'already exists',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ENOSPC: 'no space left on the device',
  EROFS: 'read-only file system',
};

function fileSystemProblem(e: unknown): string | undefined {
  const err = e as NodeJS.ErrnoException;
  if (!(e instanceof Error) || typeof err.code !== 'string') return undefined;
  const problem = FILE_SYSTEM_PROBLEMS[err.code];
  if (problem === undefined) return undefined;
  const where =
    typeof err.path === 'string' ? `${err.path.length > 200 ? `${err.path.slice(0, 200)}…` : err.path}: ` : '';
  return `${where}${problem}`;
}
