/** Has this key already signed this identity and digest in the store? Signing again would only add a duplicate. */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type * as openpgp from 'openpgp';
import { readPublicKeyring } from '../keys/index.js';
import { SignatureError } from '../openpgp/signature-error.js';
import { parsePayload } from '../signature/payload.js';
import { lookasideDir } from './read-store.js';
import { MAX_SIGNATURE_SIZE, verifySignature } from '../openpgp/verify-signature.js';

/** The path of a signature-N in the image's directory that `key` made for exactly `identity` and `digest`. */
export async function findOwnSignature(opts: {
  store: string;
  repositoryPath: string;
  digest: string;
  identity: string;
  key: openpgp.PrivateKey;
}): Promise<string | undefined> {
  const dir = lookasideDir(opts.store, opts.repositoryPath, opts.digest);
  const names = await fs.readdir(dir).catch(() => [] as string[]);
  const own = names.filter((n) => /^signature-\d+$/.test(n));
  if (own.length === 0) return undefined;
  const keyring = await readPublicKeyring(opts.key.toPublic().write(), {});
  for (const name of own) {
    const file = path.join(dir, name);
    const stat = await fs.stat(file).catch(() => undefined);
    if (!stat?.isFile() || stat.size > MAX_SIGNATURE_SIZE) continue;
    try {
      const verified = await verifySignature(await fs.readFile(file), keyring, 'host');
      const payload = parsePayload(verified.payloadBytes, 'host');
      if (payload.dockerReference === opts.identity && payload.manifestDigest === opts.digest) return file;
    } catch (e) {
      if (!(e instanceof SignatureError)) throw e;
    }
  }
  return undefined;
}
