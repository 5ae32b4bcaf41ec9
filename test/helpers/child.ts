/** The CLI as a child process that a test can stop at any instant (SIGKILL, SIGSTOP) and wait for. */
import { spawn, type ChildProcess } from 'node:child_process';
import { CLI } from './paths.js';

/** `group`: in a process group of its own, so that a kill can take its tools (mount, umount) with it. */
export function startCli(
  args: string[],
  options: { cwd?: string; group?: boolean; env?: NodeJS.ProcessEnv } = {},
): ChildProcess {
  return spawn(process.execPath, [CLI, ...args], {
    cwd: options.cwd,
    stdio: 'ignore',
    env: { ...process.env, NO_COLOR: '1', ...options.env },
    detached: options.group ?? false,
  });
}

/** Resolves once the child has exited (at once if it already has). */
export const exited = (child: ChildProcess) =>
  new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });

/** Resolves when `cond` holds (checked on every turn of the event loop) or the child has exited. */
export async function until(child: ChildProcess, cond: () => boolean): Promise<void> {
  while (!cond() && child.exitCode === null && child.signalCode === null)
    await new Promise((resolve) => setImmediate(resolve));
}

/** Whether any process of the group `pgid` is still there. */
export function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
