/**
 * Whether a disk image is in use: attached to a loop device (at any offset, partitions included)
 * or mounted. Staging such an image would write behind the kernel's back: changes made through the
 * mount are lost when a staged copy replaces the file, and the mounted filesystem's cache goes
 * stale. The file is compared by device and inode, so another name (a symlink, a bind mount, a
 * hard link) for the same file is found too.
 */
import * as fsSync from 'node:fs';
import * as path from 'node:path';

export interface ImageUser {
  /** `/dev/loopN`, or the image itself when it is a block device. */
  device: string;
  /** Where that device (or one of its partitions) is mounted. */
  mountPoints: string[];
}

const SYS_BLOCK = '/sys/block';

/** The loop devices backed by `image` and where they are mounted; empty when nothing uses it. */
export function findImageUsers(image: string): ImageUser[] {
  const st = fsSync.statSync(image);
  const mounts = readMountInfo();
  if (st.isBlockDevice()) {
    const here = mounts.get(`${major(st.rdev)}:${minor(st.rdev)}`) ?? [];
    return here.length > 0 ? [{ device: image, mountPoints: here }] : [];
  }
  const users: ImageUser[] = [];
  for (const loop of loopDevices()) {
    const backing = readText(path.join(SYS_BLOCK, loop, 'loop', 'backing_file'));
    if (backing === undefined || !sameFile(backing, st)) continue;
    const devices = [loop, ...partitionsOf(loop)];
    const mountPoints = devices.flatMap((d) => {
      const devNumber = readText(path.join(SYS_BLOCK, loop, d === loop ? '' : d, 'dev'));
      return devNumber === undefined ? [] : (mounts.get(devNumber) ?? []);
    });
    users.push({ device: `/dev/${loop}`, mountPoints });
  }
  return users;
}

/** One line for the refusal: what holds the image and how to let it go. */
export function describeImageUsers(users: readonly ImageUser[]): string {
  const held = users
    .map((u) => (u.mountPoints.length > 0 ? `${u.device} (mounted at ${u.mountPoints.join(', ')})` : u.device))
    .join(', ');
  const umounts = users.flatMap((u) => u.mountPoints.map((m) => `umount ${m}`));
  const detaches = users.filter((u) => u.device.startsWith('/dev/loop')).map((u) => `losetup -d ${u.device}`);
  return `is in use by ${held}; changes made through a mount would be lost and the mounted filesystem would not see the staged files. Unmount and detach it first (${[...umounts, ...detaches].join('; ')})`;
}

function loopDevices(): string[] {
  try {
    return fsSync.readdirSync(SYS_BLOCK).filter((n) => /^loop\d+$/.test(n));
  } catch {
    return [];
  }
}

/** `loopNpM` partition devices of a loop device attached with partition scanning. */
function partitionsOf(loop: string): string[] {
  try {
    return fsSync.readdirSync(path.join(SYS_BLOCK, loop)).filter((n) => n.startsWith(`${loop}p`));
  } catch {
    return [];
  }
}

/** The backing file of a loop device names the file as it was opened; a deleted one can no longer be ours. */
function sameFile(backing: string, st: fsSync.Stats): boolean {
  if (backing.endsWith(' (deleted)')) return false;
  try {
    const b = fsSync.statSync(backing);
    return b.dev === st.dev && b.ino === st.ino;
  } catch {
    return false;
  }
}

/** Mount points by the `major:minor` of their source device, from this process's mount table. */
function readMountInfo(): Map<string, string[]> {
  const byDevice = new Map<string, string[]>();
  const text = readText('/proc/self/mountinfo') ?? '';
  for (const line of text.split('\n')) {
    // id parent major:minor root mount-point options … - fstype source super-options
    const fields = line.split(' ');
    const device = fields[2];
    const mountPoint = fields[4];
    if (device === undefined || mountPoint === undefined) continue;
    const list = byDevice.get(device) ?? [];
    list.push(unescapeMountPath(mountPoint));
    byDevice.set(device, list);
  }
  return byDevice;
}

/** mountinfo writes space, tab, newline and backslash in paths as octal escapes. */
function unescapeMountPath(p: string): string {
  return p.replace(/\\([0-7]{3})/g, (_m, oct: string) => String.fromCharCode(parseInt(oct, 8)));
}

function readText(file: string): string | undefined {
  try {
    return fsSync.readFileSync(file, 'utf8').trim();
  } catch {
    return undefined;
  }
}

/** glibc's encoding of a device number (the bits above 32 are never set for the devices seen here). */
function major(dev: number): number {
  return (dev >> 8) & 0xfff;
}

function minor(dev: number): number {
  return (dev & 0xff) | ((dev >> 12) & 0xfff00);
}
