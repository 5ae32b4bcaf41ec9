/** A tiny OCI image built offline with umoci: busybox-static as /bin/busybox plus /bin/sh, cmd `sh`. */
import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

async function umoci(args: string[]): Promise<void> {
  await run('umoci', args);
}

/**
 * Creates an OCI layout at `dir` (must not exist or be empty) holding `tag`; returns `oci:<dir>:<tag>` for skopeo.
 * `marker` (optional) is written to /etc/marker so two images built this way get different digests.
 */
export async function buildOciImage(dir: string, tag = '1.0', options: { marker?: string } = {}): Promise<string> {
  const work = await fs.mkdtemp(path.join(os.tmpdir(), 'kbsb-umoci-'));
  try {
    await fs.rm(dir, { recursive: true, force: true });
    await umoci(['init', '--layout', dir]);
    const image = `${dir}:${tag}`;
    await umoci(['new', '--image', image]);
    const bundle = path.join(work, 'bundle');
    const rootless = typeof process.getuid === 'function' && process.getuid() !== 0 ? ['--rootless'] : [];
    await umoci(['unpack', ...rootless, '--image', image, bundle]);
    const rootfs = path.join(bundle, 'rootfs');
    await fs.mkdir(path.join(rootfs, 'bin'), { recursive: true });
    await fs.copyFile('/bin/busybox', path.join(rootfs, 'bin/busybox'));
    await fs.chmod(path.join(rootfs, 'bin/busybox'), 0o755);
    await fs.symlink('busybox', path.join(rootfs, 'bin/sh'));
    if (options.marker !== undefined) {
      await fs.mkdir(path.join(rootfs, 'etc'), { recursive: true });
      await fs.writeFile(path.join(rootfs, 'etc/marker'), options.marker);
    }
    await umoci(['repack', ...rootless, '--image', image, bundle]);
    await umoci(['config', ...rootless, '--image', image, '--config.cmd', '/bin/sh']);
    return `oci:${dir}:${tag}`;
  } finally {
    await fs.rm(work, { recursive: true, force: true });
  }
}
