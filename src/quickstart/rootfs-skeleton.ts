/**
 * A minimal guest rootfs directory: just the files `stage` appends to (/etc/hosts and the Debian CA bundle),
 * so the rehearsal shows every kind of staged file. Files that exist are left alone.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';

const SKELETON: ReadonlyArray<{ path: string; text: string }> = [
  { path: 'etc/hosts', text: '127.0.0.1 localhost\n::1 localhost ip6-localhost ip6-loopback\n' },
  { path: 'etc/ssl/certs/ca-certificates.crt', text: '' },
];

/** Returns the guest paths it created. */
export async function ensureRootfsSkeleton(rootfs: string): Promise<string[]> {
  const created: string[] = [];
  for (const f of SKELETON) {
    const file = path.join(rootfs, f.path);
    await fs.mkdir(path.dirname(file), { recursive: true, mode: 0o755 });
    try {
      await fs.writeFile(file, f.text, { flag: 'wx', mode: 0o644 });
      created.push(`/${f.path}`);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
  }
  return created;
}
