/**
 * e2fsprogs `debugfs` as a library: commands run in batches (`-f -`, one process for many
 * commands) against `img?offset=N`, so a disk image is read and written without mounting it.
 * debugfs reports most failures on stderr with exit status 0, so callers check results by
 * reading back, and any stderr line other than the version banner counts as a failure of a
 * write batch.
 */
import { spawn } from 'node:child_process';
import { ToolError } from '../errors.js';
import type { GuestNode, GuestNodeType } from './guest-path.js';

export interface DebugfsResult {
  /** stdout of each command, in order (debugfs echoes `debugfs: <command>` before each). */
  sections: string[];
  /** stderr lines other than the version banner. */
  errors: string[];
}

/** Quotes one debugfs argument. debugfs' parser knows double quotes, not escapes. */
export function dq(arg: string): string {
  if (/["\n\r\0]/.test(arg))
    throw new ToolError(
      'E_DEBUGFS_NAME',
      `cannot pass ${JSON.stringify(arg)} to debugfs (quote, newline or NUL in a name)`,
    );
  return `"${arg}"`;
}

/** One debugfs process: its exit code, raw stdout and the stderr lines other than the version banner. */
function spawnDebugfs(
  args: readonly string[],
  stdin?: string,
): Promise<{ code: number | null; stdout: Buffer; errors: string[] }> {
  return new Promise((resolve, reject) => {
    const child = spawn('debugfs', args, { stdio: [stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout?.on('data', (d: Buffer) => out.push(d));
    child.stderr?.on('data', (d: Buffer) => err.push(d));
    child.on('error', (e) =>
      reject(
        new ToolError('E_TOOL_MISSING', `debugfs could not be run (install e2fsprogs): ${e.message}`, { cause: e }),
      ),
    );
    child.on('close', (code) => {
      const errors = Buffer.concat(err)
        .toString('utf8')
        .split('\n')
        .filter((l) => l.trim() !== '' && !/^debugfs \d/.test(l));
      resolve({ code, stdout: Buffer.concat(out), errors });
    });
    if (stdin !== undefined && child.stdin) {
      child.stdin.on('error', () => undefined);
      child.stdin.end(stdin);
    }
  });
}

export async function runDebugfs(
  spec: string,
  commands: readonly string[],
  options: { write?: boolean } = {},
): Promise<DebugfsResult> {
  const args = [...(options.write ? ['-w'] : []), '-f', '-', spec];
  const { code, stdout, errors } = await spawnDebugfs(args, commands.map((c) => `${c}\n`).join(''));
  if (code !== 0)
    throw new ToolError('E_DEBUGFS', `debugfs ${args.join(' ')} exited with ${code}: ${errors.join('; ')}`);
  const sections = stdout
    .toString('utf8')
    .split(/^debugfs: .*$/m)
    .slice(1)
    .map((sec) => sec.replace(/^\n/, ''));
  return { sections, errors };
}

/** Raw bytes of one file (`cat`); a ToolError when debugfs prints an error instead. */
export async function debugfsCat(spec: string, path: string): Promise<Buffer> {
  const { code, stdout, errors } = await spawnDebugfs(['-R', `cat ${dq(path)}`, spec]);
  if (code !== 0 || errors.length > 0)
    throw new ToolError('E_DEBUGFS', `debugfs cat ${path}: ${errors.join('; ') || `exit ${code}`}`);
  return stdout;
}

export interface DebugfsEntry extends GuestNode {
  name: string;
  inode: number;
  size: number;
}

/**
 * Parses `ls -p` output: `/inode/mode/uid/gid/name/size/` per line. A removed entry that was the
 * first in its directory block stays in the listing with inode 0 (libext2fs cannot merge it into a
 * previous entry): it names nothing and is skipped.
 */
export function parseLsP(section: string): DebugfsEntry[] {
  const out: DebugfsEntry[] = [];
  for (const line of section.split('\n')) {
    const m = /^\/(\d+)\/([0-7]+)\/(\d+)\/(\d+)\/(.*)\/(\d*)\/$/.exec(line);
    if (!m || m[1] === '0') continue;
    const name = m[5] as string;
    if (name === '.' || name === '..') continue;
    const mode = parseInt(m[2] as string, 8);
    out.push({
      name,
      inode: Number(m[1]),
      type: typeFromMode(mode),
      mode: mode & 0o7777,
      uid: Number(m[3]),
      gid: Number(m[4]),
      size: Number(m[6] || 0),
    });
  }
  return out;
}

export function typeFromMode(mode: number): GuestNodeType {
  switch (mode & 0o170000) {
    case 0o100000:
      return 'file';
    case 0o040000:
      return 'dir';
    case 0o120000:
      return 'symlink';
    default:
      return 'other';
  }
}

/** The target of a fast symlink from `stat` output (`Fast link dest: "..."`), if it is one. */
export function fastLinkTarget(statSection: string): string | undefined {
  const m = /^Fast link dest: "(.*)"$/m.exec(statSection);
  return m?.[1];
}
