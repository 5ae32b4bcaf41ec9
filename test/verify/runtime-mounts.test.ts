/**
 * docs/guest-vs-host.md §10: the kata agent mounts a tmpfs on /run at boot, so a keyPath or a
 * `file://` signature store under /run in the image is invisible to the guest (the host, reading
 * the files as they are, still finds them).
 */
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { openRootfsReader } from '../../src/rootfs/reader.js';
import { runtimeView } from '../../src/verify/runtime-view.js';
import { DIGEST, IMAGE_FULL, judgeBoth, payloadText, publicKeyData, scoped, sign } from './scenario.js';

describe('paths under /run are hidden from the guest at run time', () => {
  it('keyPath under /run: the guest cannot read the key, the host can', async () => {
    const { guest, host } = await judgeBoth({
      policy: scoped([
        { type: 'signedBy', keyType: 'GPGKeys', keyPath: '/run/image-security/simple_signing/pubkey.gpg' },
      ]),
      signatures: { 'signature-1': await sign(payloadText(IMAGE_FULL)) },
      files: { 'run/image-security/simple_signing/pubkey.gpg': Buffer.from(await publicKeyData(), 'base64') },
    });
    expect(guest.allowed).toBe(false);
    expect(guest.chain.join('\n')).toContain('Read SignedBy keyPath failed');
    expect(host.allowed).toBe(true);
  });

  it('a file:///run signature store: the guest finds no signature directory, the host does', async () => {
    const hex = DIGEST.slice('sha256:'.length);
    const { guest, host } = await judgeBoth({
      policy: scoped([{ type: 'signedBy', keyType: 'GPGKeys', keyData: await publicKeyData() }]),
      sigstore: 'default-docker:\n  sigstore: file:///run/sigstore\n  lookaside: file:///run/sigstore\n',
      files: { [`run/sigstore/ns/app@sha256=${hex}/signature-1`]: await sign(payloadText(IMAGE_FULL)) },
    });
    expect(guest.allowed).toBe(false);
    expect(guest.chain.join('\n')).toContain('Read Sigstore Dir failed');
    expect(host.allowed).toBe(true);
  });

  it('a symlink into /run (/var/run → /run) is hidden too; other paths read as before', async () => {
    const root = await fs.mkdtemp(path.join(os.tmpdir(), 'runtime-view-'));
    try {
      await fs.mkdir(path.join(root, 'run/keys'), { recursive: true });
      await fs.mkdir(path.join(root, 'var'), { recursive: true });
      await fs.mkdir(path.join(root, 'etc'), { recursive: true });
      await fs.writeFile(path.join(root, 'run/keys/k.gpg'), 'key');
      await fs.writeFile(path.join(root, 'etc/k.gpg'), 'visible');
      await fs.symlink('/run', path.join(root, 'var/run'));
      const reader = await openRootfsReader(root);
      const view = runtimeView(reader);
      expect(await reader.readFile('/var/run/keys/k.gpg')).toBeDefined();
      expect(await view.readFile('/var/run/keys/k.gpg')).toBeUndefined();
      expect(await view.readFile('/run/keys/k.gpg')).toBeUndefined();
      expect(await view.listDir('/run/keys')).toBeUndefined();
      expect(Buffer.from((await view.readFile('/etc/k.gpg')) ?? []).toString()).toBe('visible');
      await reader.close();
    } finally {
      await fs.rm(root, { recursive: true, force: true });
    }
  });
});
