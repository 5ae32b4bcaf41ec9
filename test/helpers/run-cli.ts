/** Runs the built CLI as a user would and captures what it printed and its exit code. */
import { CLI } from './paths.js';
import { runProcess, type ProcessResult } from './run-process.js';

export type CliResult = ProcessResult;

/** `entry`: another build of the CLI to run (default: what package.json `bin` names). */
export function runCli(
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; input?: string; entry?: string } = {},
): Promise<CliResult> {
  return runProcess(process.execPath, [options.entry ?? CLI, ...args], {
    cwd: options.cwd,
    input: options.input,
    env: { ...process.env, NO_COLOR: '1', ...options.env },
  });
}
