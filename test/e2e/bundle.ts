/** Inputs of the end-to-end flow: its bundle.yaml variants and the guest tree the images are made from. */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { stringify } from 'yaml';

/** A bundle for `registry`: signedBy keys/signer.asc (keyData, or a guest keyPath), store `lookaside`, credentials, CA, address. */
export async function writeBundle(
  file: string,
  o: { registry: string; username: string; passwordFile: string; keyPath?: string },
): Promise<void> {
  const bundle = {
    kbs: { repository: 'default', tag: 'test' },
    policy: {
      default: [{ type: 'reject' }],
      scopes: {
        [o.registry]: [{ type: 'signedBy', keys: ['keys/signer.asc'], ...(o.keyPath ? { keyPath: o.keyPath } : {}) }],
      },
    },
    signatureStores: { scopes: { [o.registry]: 'file:///var/lib/containers/sigstore' } },
    signatures: ['lookaside'],
    registries: {
      [o.registry]: {
        username: o.username,
        passwordFile: o.passwordFile,
        caFile: 'registry-ca.crt',
        address: '127.0.0.1',
      },
    },
  };
  await fs.writeFile(file, stringify(bundle));
}

/** What kata's rootfs builder leaves in a Debian-based guest that matters here: the CA bundle and /etc/hosts. */
export async function writeGuestTree(dir: string): Promise<void> {
  await fs.mkdir(path.join(dir, 'etc/ssl/certs'), { recursive: true });
  await fs.mkdir(path.join(dir, 'var/lib'), { recursive: true });
  await fs.mkdir(path.join(dir, 'run'), { recursive: true });
  await fs.writeFile(path.join(dir, 'etc/hosts'), '127.0.0.1 localhost\n');
  await fs.writeFile(path.join(dir, 'etc/ssl/certs/ca-certificates.crt'), '# distro CA bundle\n');
}
