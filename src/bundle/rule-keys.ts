/**
 * The key files of a rule. signedBy: one or more GPG public key files become ONE keyring, the
 * bytes that go into keyData (image-rs and containers/image both accept several keys in one
 * keyData): a single file is used byte for byte (armored or binary, as `gpg --export` wrote it);
 * several files, or one file of several armored blocks (of which image-rs would read only the first),
 * are de-armored and concatenated into one binary keyring, which every OpenPGP implementation reads
 * as a sequence of keys (mixing armored text and binary would not be).
 * sigstoreSigned: a cosign public key PEM, checked with node:crypto.
 *
 * A key as gpg writes it (one RSA key, self-signed: see openpgp/fast-keyring.ts) is read without
 * openpgp.js, whose module alone is a noticeable part of every build and stage; anything else loads it.
 */
import { createPublicKey } from 'node:crypto';
import { readPlainPublicKeyring } from '../openpgp/fast-keyring.js';
import { assertKeyringUsable, readPublicKeyring, type Keyring } from '../openpgp/keyring.js';
import { armorBlocks, looksArmored } from '../openpgp/parse.js';
import { atField, fail, readBundleFile, type BundleContext } from './files.js';
import type { SignedByRule } from './schema.js';
import type { RuleKeyringEntry } from './types.js';

const HINTS: Record<string, string> = {
  E_KEY_EXPIRED:
    'set allowExpired: true on this rule to trust it anyway (the guest does not check expiry; podman/CRI-O reject it)',
  E_KEY_REVOKED: 'set allowRevoked: true on this rule to trust it anyway',
};

export interface RuleKeyring {
  bytes: Uint8Array;
  entries: RuleKeyringEntry[];
  sourceFiles: string[];
}

export async function loadSignedByKeys(ctx: BundleContext, rule: SignedByRule, field: string): Promise<RuleKeyring> {
  const entries: RuleKeyringEntry[] = [];
  const parts: Uint8Array[] = [];
  for (const [i, relative] of rule.keys.entries()) {
    const keyField = `${field}.keys[${i}]`;
    const { abs, bytes } = await readBundleFile(ctx, relative, keyField);
    try {
      let parsed = ctx.keyrings.get(abs);
      if (!parsed) {
        parsed = readKeyring(bytes);
        parsed.catch(() => undefined);
        ctx.keyrings.set(abs, parsed);
      }
      const keyring = await parsed;
      assertKeyringUsable(keyring, {}, { allowExpired: rule.allowExpired, allowRevoked: rule.allowRevoked });
      entries.push({ keyring, sourceFile: abs });
    } catch (e) {
      throw atField(ctx, keyField, relative, e, HINTS);
    }
    parts.push(bytes);
  }
  // The guest's rPGP reads only the first block of armored keyData: a file of several armored blocks is
  // de-armored into one binary keyring as several files are, so that every key reaches the guest.
  const asIs = parts.length === 1 && armorBlocks(parts[0]!).length <= 1;
  const bytes = asIs ? parts[0]! : Buffer.concat(await Promise.all(parts.map(binaryKeyring)));
  return { bytes, entries, sourceFiles: entries.map((e) => e.sourceFile) };
}

async function readKeyring(bytes: Uint8Array): Promise<Keyring> {
  return readPlainPublicKeyring(bytes) ?? readPublicKeyring(bytes, {});
}

/** The binary packets of a key file: armored blocks decoded, binary kept as is. */
async function binaryKeyring(bytes: Uint8Array): Promise<Uint8Array> {
  if (!looksArmored(bytes)) return bytes;
  const openpgp = await import('openpgp');
  const out: Uint8Array[] = [];
  for (const block of armorBlocks(bytes).filter((b) => b.type === 'PUBLIC KEY BLOCK')) {
    // A string in gives bytes out; openpgp's declarations type `data` through a package it does not ship.
    const { data } = (await openpgp.unarmor(block.text)) as { data: Uint8Array };
    out.push(data);
  }
  return Buffer.concat(out);
}

/** A cosign public key: PEM `PUBLIC KEY`, ECDSA P-256 or RSA (what the guest verifies). */
export async function loadCosignKey(
  ctx: BundleContext,
  relative: string,
  field: string,
): Promise<{ abs: string; pem: string }> {
  const { abs, bytes } = await readBundleFile(ctx, relative, field);
  const pem = bytes.toString('utf8');
  const bad = (problem: string) => fail(ctx, 'E_COSIGN_KEY', field, `${relative}: ${problem}`);
  if (/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(pem)) {
    throw bad('is a private key; give the public key (cosign.pub)');
  }
  if (!pem.includes('-----BEGIN PUBLIC KEY-----'))
    throw bad('not a PEM public key (expected -----BEGIN PUBLIC KEY-----, as cosign.pub)');
  let key;
  try {
    key = createPublicKey({ key: pem, format: 'pem' });
  } catch (e) {
    throw bad(`not a valid public key (${(e as Error).message.split('\n')[0]})`);
  }
  const type = key.asymmetricKeyType;
  const curve = key.asymmetricKeyDetails?.namedCurve;
  if (type === 'rsa') return { abs, pem };
  if (type === 'ec' && curve === 'prime256v1') return { abs, pem };
  throw bad(
    `a ${type}${curve ? ` ${curve}` : ''} key; the guest verifies cosign signatures made with ECDSA P-256 or RSA keys only`,
  );
}
