/**
 * An exclusive lock on a rootfs (the directory, or the image file) for one stage or unstage.
 * Node has no flock(2), so util-linux `flock` takes it and holds it while its standard input is
 * open: when this process ends in any way, SIGKILL included, the pipe closes, the holder exits and
 * the kernel releases the lock. Nothing is written to take it, and a crash never leaves a stale lock.
 * A second run does not wait: it stops at once, saying another run holds the rootfs.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { InputError, ToolError } from '../errors.js';

export interface RootfsLock {
  /** Resolves once the lock is free again (a next run in this process may take it at once). */
  release(): Promise<void>;
}

/** flock's exit status when the lock is held elsewhere (`--conflict-exit-code`). */
const CONFLICT = 75;

export async function lockRootfs(file: string, shownAs: string): Promise<RootfsLock> {
  const holder = spawn(
    'flock',
    ['--exclusive', '--nonblock', '--conflict-exit-code', String(CONFLICT), file, 'sh', '-c', 'echo locked; exec cat'],
    { stdio: ['pipe', 'pipe', 'pipe'] },
  );
  const stderr: Buffer[] = [];
  holder.stderr?.on('data', (d: Buffer) => stderr.push(d));
  holder.stdin?.on('error', () => undefined);
  const locked = await new Promise<boolean | number>((resolve, reject) => {
    holder.stdout?.once('data', () => resolve(true));
    holder.once('exit', (code) => resolve(code ?? -1));
    holder.once('error', (e) =>
      reject(new ToolError('E_TOOL_MISSING', `flock could not be run to lock the rootfs: ${e.message}`, { cause: e })),
    );
  });
  if (locked === CONFLICT) {
    throw new InputError(
      'E_ROOTFS_LOCKED',
      { file: shownAs },
      'another kbs-bundler stage or unstage is working on this rootfs (it holds the lock); run again when it has finished',
    );
  }
  if (locked !== true) {
    throw new ToolError(
      'E_ROOTFS_LOCK',
      `locking ${shownAs} with flock failed: ${Buffer.concat(stderr).toString().trim() || `exit status ${locked}`}`,
    );
  }
  detach(holder);
  const exited = new Promise<void>((resolve) => {
    if (holder.exitCode !== null || holder.signalCode !== null) resolve();
    else holder.once('exit', () => resolve());
  });
  return {
    release() {
      holder.ref(); // an unreferenced child's exit would not keep this process alive to see it
      holder.stdin?.end();
      return exited;
    },
  };
}

/** The holder must not keep this process alive; it exits by itself once our end of its pipe closes. */
function detach(holder: ChildProcess): void {
  holder.unref();
  for (const stream of [holder.stdin, holder.stdout, holder.stderr])
    (stream as unknown as { unref?: () => void } | null)?.unref?.();
}
