/**
 * Real guest images for tests, made with the same tools kata's builders use: `mkfs.ext4 -d` (bare,
 * or at 3 MiB / 1 MiB behind an MBR written by sfdisk), veritysetup for measured images, and
 * `find | cpio -H newc -o | gzip` for initrds.
 */
import { execFile, spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';

export const exec = promisify(execFile);

export const MIB = 1024 * 1024;

export async function tempDir(prefix = 'kbs-rootfs-'): Promise<string> {
  return fs.mkdtemp(path.join(os.tmpdir(), prefix));
}

/** Runs a command and returns stdout as a Buffer (throws with stderr on failure). */
export function run(
  cmd: string,
  args: string[],
  options: { input?: Buffer | string; cwd?: string } = {},
): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: options.cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolve(Buffer.concat(out));
      else reject(new Error(`${cmd} ${args.join(' ')} exited ${code}: ${Buffer.concat(err).toString()}`));
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(options.input ?? '');
  });
}

/** A small guest tree: CA bundle, hosts, a few symlinks the way distro images have them. */
export async function makeGuestTree(dir: string): Promise<void> {
  await fs.mkdir(path.join(dir, 'etc/ssl/certs'), { recursive: true });
  await fs.mkdir(path.join(dir, 'usr/lib/ssl'), { recursive: true });
  await fs.mkdir(path.join(dir, 'var/lib'), { recursive: true });
  await fs.mkdir(path.join(dir, 'run'), { recursive: true });
  await fs.writeFile(path.join(dir, 'etc/ssl/certs/ca-certificates.crt'), '# host bundle\n');
  await fs.writeFile(path.join(dir, 'etc/hosts'), '127.0.0.1 localhost\n');
  await fs.writeFile(path.join(dir, 'etc/secret'), 'guest secret\n', { mode: 0o600 });
  await fs.chmod(path.join(dir, 'etc/secret'), 0o600);
  await fs.symlink('../../../etc/ssl/certs/ca-certificates.crt', path.join(dir, 'usr/lib/ssl/cert.pem'));
  await fs.symlink('/etc', path.join(dir, 'etc-abs'));
  await fs.symlink('../../../../../../../etc/hosts', path.join(dir, 'var/lib/climb'));
  await fs.symlink('chain2', path.join(dir, 'chain1'));
  await fs.symlink('/etc-abs/ssl', path.join(dir, 'chain2'));
  await fs.symlink('loop-b', path.join(dir, 'loop-a'));
  await fs.symlink('loop-a', path.join(dir, 'loop-b'));
  await fs.symlink(`/etc/${'x'.repeat(70)}/../hosts`, path.join(dir, 'long-link'));
}

/** A bare ext4 image of `tree` (filesystem at byte 0). */
export async function makeBareExt4(tree: string, img: string, sizeMiB = 16): Promise<void> {
  await run('mkfs.ext4', ['-q', '-F', '-b', '4096', '-d', tree, img, `${sizeMiB}M`]);
}

/**
 * An MBR disk with `tree` as ext4 in partition 1 at `fsOffset` (3 MiB = kata's DAX layout,
 * 1 MiB = SKIP_DAX_HEADER), and optionally a second partition after it.
 */
export async function makeMbrExt4(
  tree: string,
  img: string,
  fsOffset: number,
  options: { fsMiB?: number; secondMiB?: number } = {},
): Promise<{ p1: { offset: number; size: number }; p2?: { offset: number; size: number } }> {
  const fsMiB = options.fsMiB ?? 16;
  const p1 = { offset: fsOffset, size: fsMiB * MIB };
  const total = fsOffset + p1.size + (options.secondMiB ?? 0) * MIB;
  await fs.writeFile(img, '');
  await fs.truncate(img, total);
  let script = `label: dos\nstart=${fsOffset / 512}, size=${p1.size / 512}, type=83\n`;
  const p2 = options.secondMiB ? { offset: fsOffset + p1.size, size: options.secondMiB * MIB } : undefined;
  if (p2) script += `start=${p2.offset / 512}, size=${p2.size / 512}, type=83\n`;
  await run('sfdisk', ['--no-reread', '--no-tell-kernel', '-q', img], { input: script });
  await run('mkfs.ext4', ['-q', '-F', '-b', '4096', '-E', `offset=${fsOffset}`, '-d', tree, img, `${fsMiB * 1024}k`]);
  const st = await fs.stat(img);
  if (st.size !== total) throw new Error(`mkfs changed the image size: ${st.size} != ${total}`);
  return p2 ? { p1, p2 } : { p1 };
}

/** `find . | cpio -H newc -o | gzip -9` of `tree`, as kata's initrd_builder does. */
export async function makeInitrd(tree: string, out: string, options: { gzip?: boolean } = {}): Promise<void> {
  const list = await run('sh', ['-c', 'find . | LC_ALL=C sort'], { cwd: tree });
  const cpio = await run('cpio', ['--quiet', '-H', 'newc', '-o'], { cwd: tree, input: list });
  await fs.writeFile(out, options.gzip === false ? cpio : await run('gzip', ['-9', '-n'], { input: cpio }));
}

/** `debugfs cat` of one guest file in an image, as an independent oracle. */
export async function debugfsCatFile(img: string, offset: number, guestPath: string): Promise<Buffer> {
  return run('debugfs', ['-R', `cat "${guestPath}"`, `${img}?offset=${offset}`]);
}

export async function debugfsStat(
  img: string,
  offset: number,
  guestPath: string,
): Promise<{ mode: number; uid: number; gid: number; type: string }> {
  const out = (await run('debugfs', ['-R', `stat "${guestPath}"`, `${img}?offset=${offset}`])).toString();
  const m = /Type: (\w+)\s+Mode:\s+(\d+)/.exec(out);
  const u = /User:\s+(\d+)\s+Group:\s+(\d+)/.exec(out);
  if (!m || !u) throw new Error(`debugfs stat ${guestPath}: ${out}`);
  return { type: m[1] as string, mode: parseInt(m[2] as string, 8), uid: Number(u[1]), gid: Number(u[2]) };
}

export async function e2fsckClean(img: string, offset: number): Promise<{ code: number; output: string }> {
  try {
    const { stdout, stderr } = await exec('e2fsck', ['-fn', `${img}?offset=${offset}`]);
    return { code: 0, output: stdout + stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, output: err.stdout + err.stderr };
  }
}
