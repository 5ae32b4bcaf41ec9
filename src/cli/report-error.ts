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
  const message = e instanceof Error ? e.message : String(e);
  stderr.write(`${prefix} internal error: ${message}\n`);
  if (process.env.KBS_BUNDLER_DEBUG && e instanceof Error && e.stack) stderr.write(`${e.stack}\n`);
  return 2;
}
