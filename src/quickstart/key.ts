/**
 * The quickstart signing key: generated once (RSA 3072, no passphrase, marked example-only) and reused by
 * later runs into the same directory, so that the policy's keyData — and the KBS tree — stay the same.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { PrivateKey } from 'openpgp';
import { generateSigningKey, readSecretKey } from '../keys/index.js';
import { readFileIfExists, writeFileAtomic } from '../util/atomic.js';
import { QUICKSTART_FILES } from './layout.js';

export const QUICKSTART_KEY_NAME = 'kbs-bundler quickstart signer (EXAMPLE ONLY, do not trust)';
export const QUICKSTART_KEY_EMAIL = 'quickstart@example.com';

export interface QuickstartKey {
  key: PrivateKey;
  fingerprint: string;
  generated: boolean;
  secretFile: string;
  publicFile: string;
}

export async function ensureSigningKey(dir: string): Promise<QuickstartKey> {
  const secretFile = path.join(dir, QUICKSTART_FILES.secretKey);
  const publicFile = path.join(dir, QUICKSTART_FILES.publicKey);
  const existing = await readFileIfExists(secretFile);
  let key: PrivateKey;
  let generated = false;
  if (existing) {
    key = await readSecretKey(new Uint8Array(existing), undefined, { file: secretFile });
  } else {
    const made = await generateSigningKey({
      name: QUICKSTART_KEY_NAME,
      email: QUICKSTART_KEY_EMAIL,
      algorithm: 'rsa3072',
    });
    await writeFileAtomic(secretFile, made.secretArmored, 0o600);
    key = await readSecretKey(new TextEncoder().encode(made.secretArmored), undefined, { file: secretFile });
    generated = true;
  }
  // A secret key left world-readable by an earlier copy is tightened, never loosened.
  await fs.chmod(secretFile, 0o600);
  const publicArmored = key.toPublic().armor();
  if ((await readFileIfExists(publicFile))?.toString('utf8') !== publicArmored)
    await writeFileAtomic(publicFile, publicArmored, 0o644);
  return { key, fingerprint: key.getFingerprint().toUpperCase(), generated, secretFile, publicFile };
}
