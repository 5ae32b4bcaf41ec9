/** The one place that turns errors into a message on stderr and an exit code. */
import { stderr } from 'node:process';
import { isKbsBundlerError } from '../errors.js';
import { colorEnabled } from './output.js';

export function reportError(e: unknown): number {
  const prefix = colorEnabled(stderr) ? '\u001b[31mkbs-bundler:\u001b[0m' : 'kbs-bundler:';
  if (isKbsBundlerError(e)) {
    stderr.write(`${prefix} ${e.message}\n`);
    return e.exitCode;
  }
  // Commander's own usage errors arrive as CommanderError with exitCode already printed.
  const maybeCommander = e as { code?: string; exitCode?: number };
  if (typeof maybeCommander.code === 'string' && maybeCommander.code.startsWith('commander.')) {
    return maybeCommander.exitCode === 0 ? 0 : 2;
  }
  const fsProblem = fileSystemProblem(e);
  if (fsProblem !== undefined) {
    stderr.write(`${prefix} ${fsProblem}\n`);
    return 2;
  }
  const message = e instanceof Error ? e.message : String(e);
  stderr.write(`${prefix} internal error: ${message}\n`);
  if (process.env.KBS_BUNDLER_DEBUG && e instanceof Error && e.stack) stderr.write(`${e.stack}\n`);
  return 2;
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
