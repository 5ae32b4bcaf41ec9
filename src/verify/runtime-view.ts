/**
 * The guest rootfs as image-rs sees it at run time. The kata agent mounts a tmpfs on /run and
 * /dev/shm at boot (kata-containers src/agent/src/mount.rs, INIT_ROOTFS_MOUNTS), so whatever the
 * image holds there — a keyPath under /run/image-security, a `file:///run/…` signature store — is
 * invisible to the guest. The verifier fails closed by hiding those paths on the guest side,
 * including when a symlink such as /var/run → /run leads there.
 */
import * as path from 'node:path';
import { NotADirectoryError, resolveGuestPath, type GuestLookup } from '../rootfs/guest-path.js';
import type { GuestFiles } from './inputs.js';

const HIDDEN_AT_BOOT = [['run'], ['dev', 'shm']];

function hidden(components: readonly string[]): boolean {
  return HIDDEN_AT_BOOT.some((prefix) => prefix.every((c, i) => components[i] === c));
}

async function realComponents(files: GuestFiles, guestPath: string): Promise<string[] | undefined> {
  const lookup = (files as Partial<GuestLookup>).lookup;
  if (typeof lookup !== 'function') {
    return path.posix
      .normalize(`/${guestPath}`)
      .split('/')
      .filter((c) => c !== '');
  }
  try {
    const r = await resolveGuestPath({ lookup: lookup.bind(files) }, guestPath, {
      followLast: true,
      aboveRoot: 'clamp',
    });
    return r?.components;
  } catch (e) {
    if (e instanceof NotADirectoryError) return undefined;
    throw e;
  }
}

/** Wraps a rootfs view so that paths the agent's tmpfs mounts cover read as missing. */
export function runtimeView(files: GuestFiles): GuestFiles {
  const visible = async (guestPath: string): Promise<boolean> => {
    const components = await realComponents(files, guestPath);
    return components === undefined || !hidden(components);
  };
  return {
    async readFile(guestPath) {
      return (await visible(guestPath)) ? files.readFile(guestPath) : undefined;
    },
    async listDir(guestPath) {
      return (await visible(guestPath)) ? files.listDir(guestPath) : undefined;
    },
  };
}
