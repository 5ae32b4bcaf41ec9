/**
 * The sample's signature in the quickstart's lookaside store. openpgp.js salts every signature, so signing
 * again would give new bytes (and a second signature in the staged rootfs): a re-run keeps the signature
 * already there when it verifies for this key, identity and digest, and re-makes the store otherwise.
 */
import * as path from 'node:path';
import type { PrivateKey } from 'openpgp';
import { readPublicKeyring } from '../keys/index.js';
import { lookasideDir, readSignatureStore, writeSignature } from '../store/read-store.js';
import { parsePayload } from '../signature/payload.js';
import { signImage } from '../signature/sign.js';
import { verifySignature } from '../openpgp/verify-signature.js';
import { replaceDirAtomic } from '../util/atomic.js';

export interface SampleSignature {
  path: string;
  reused: boolean;
}

export async function ensureSampleSignature(o: {
  storeDir: string;
  key: PrivateKey;
  repositoryPath: string;
  identity: string;
  digest: string;
}): Promise<SampleSignature> {
  const existing = await findValidSignature(o);
  if (existing) return { path: existing, reused: true };
  const blob = await signImage({
    key: o.key,
    dockerReference: o.identity,
    manifestDigest: o.digest,
    creator: 'kbs-bundler quickstart',
  });
  let written = '';
  await replaceDirAtomic(o.storeDir, async (staging) => {
    const w = await writeSignature(staging, o.repositoryPath, o.digest, blob);
    written = path.join(o.storeDir, path.relative(staging, w.path));
  });
  return { path: written, reused: false };
}

async function findValidSignature(o: {
  storeDir: string;
  key: PrivateKey;
  repositoryPath: string;
  identity: string;
  digest: string;
}): Promise<string | undefined> {
  let stored;
  try {
    stored = await readSignatureStore(o.storeDir);
  } catch {
    return undefined; // no store yet (or not a readable one): it is re-made
  }
  // Only a store holding exactly the one signature quickstart writes is kept as it is.
  if (stored.length !== 1) return undefined;
  const [sig] = stored;
  if (!sig || sig.repositoryPath !== o.repositoryPath || sig.digest !== o.digest) return undefined;
  const keyring = await readPublicKeyring(new TextEncoder().encode(o.key.toPublic().armor()), {
    file: 'quickstart key',
  });
  try {
    const verified = await verifySignature(sig.bytes, keyring, 'guest');
    const payload = parsePayload(verified.payloadBytes, 'guest');
    if (payload.dockerReference !== o.identity || payload.manifestDigest !== o.digest) return undefined;
  } catch {
    return undefined;
  }
  return path.join(lookasideDir(o.storeDir, o.repositoryPath, o.digest), sig.name);
}
