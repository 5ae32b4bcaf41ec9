/** Runs the built CLI as a user would and captures what it printed and its exit code. */
import { expect } from 'vitest';
import { CLI } from './paths.js';
import { runProcess, type ProcessResult } from './run-process.js';

export type CliResult = ProcessResult;

/**
 * `entry`: another build of the CLI to run (default: what package.json `bin` names). `asUser`: run
 * it as that user through runuser (`entry` must be readable by it, see cli-as-user.ts); `env` is
 * then passed on explicitly, as runuser does not keep all of it.
 */
export function runCli(
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; input?: string; entry?: string; asUser?: string } = {},
): Promise<CliResult> {
  const env = { NO_COLOR: '1', ...options.env };
  const node = [options.entry ?? CLI, ...args];
  const [cmd, argv] = options.asUser
    ? [
        'runuser',
        [
          '-u',
          options.asUser,
          '--',
          'env',
          ...Object.entries(env).map(([k, v]) => `${k}=${v ?? ''}`),
          process.execPath,
          ...node,
        ],
      ]
    : [process.execPath, node];
  return runProcess(cmd, argv, { cwd: options.cwd, input: options.input, env: { ...process.env, ...env } });
}

/**
 * What a failed command may print on stdout: nothing, or (under --json) the error document, whose
 * message is the one stderr gives and whose exit code is the process's.
 */
export function expectFailureStdout(r: CliResult): void {
  if (r.stdout === '') return;
  const doc = JSON.parse(r.stdout) as { error: { code: string; message: string; exitCode: number } };
  expect(Object.keys(doc)).toEqual(['error']);
  expect(doc.error.code).toMatch(/^E_[A-Z0-9_]+$/);
  expect(r.stderr).toContain(doc.error.message);
  expect(doc.error.exitCode).toBe(r.code);
}
