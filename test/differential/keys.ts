/**
 * The signing keys of one differential run, made once with gpg in a throwaway GNUPGHOME, and the
 * signer. Signatures are made in-process with openpgp.js and written as gpg writes them: a compressed
 * packet holding one-pass signature, literal data and signature (the packet structure the oracle's
 * sequoia-era reader and current image-rs read alike; packet structure itself is not under test).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import * as openpgp from 'openpgp';

export type KeyName = 'rsa' | 'ed25519' | 'subkey' | 'expired';

export interface RunKey {
  name: KeyName;
  fingerprint: string;
  /** Binary transferable public key, as `gpg --export` writes it. */
  publicBinary: Uint8Array;
  publicArmored: string;
  secret: openpgp.PrivateKey;
  /** When the key signs: now, or inside its validity for the expired key. */
  signDate: Date | undefined;
}

function gpg(home: string, args: string[]): Buffer {
  const r = spawnSync('gpg', ['--batch', '--no-tty', '--pinentry-mode', 'loopback', '--passphrase', '', ...args], {
    env: { ...process.env, GNUPGHOME: home },
  });
  if (r.status !== 0) throw new Error(`gpg ${args.join(' ')} failed: ${r.stderr.toString()}`);
  return r.stdout;
}

function fingerprintOf(home: string, uid: string): string {
  const listing = gpg(home, ['--with-colons', '--fingerprint', '--list-keys', `=${uid}`]).toString();
  const line = listing.split('\n').find((l) => l.startsWith('fpr:'));
  const fpr = line?.split(':')[9];
  if (!fpr) throw new Error(`no fingerprint for ${uid}`);
  return fpr;
}

export async function makeRunKeys(): Promise<{ keys: Map<KeyName, RunKey>; cleanup: () => void }> {
  const home = mkdtempSync('/tmp/kd-');
  try {
    const specs: Array<{ name: KeyName; make: (uid: string) => void; signDate: Date | undefined }> = [
      {
        name: 'rsa',
        make: (uid) => gpg(home, ['--quick-gen-key', uid, 'rsa2048', 'sign', 'never']),
        signDate: undefined,
      },
      {
        name: 'ed25519',
        make: (uid) => gpg(home, ['--quick-gen-key', uid, 'ed25519', 'sign', 'never']),
        signDate: undefined,
      },
      {
        name: 'subkey',
        make: (uid) => {
          gpg(home, ['--quick-gen-key', uid, 'ed25519', 'cert', 'never']);
          gpg(home, ['--quick-add-key', fingerprintOf(home, uid), 'ed25519', 'sign', 'never']);
        },
        signDate: undefined,
      },
      {
        name: 'expired',
        make: (uid) =>
          gpg(home, ['--faked-system-time', '20200101T000000!', '--quick-gen-key', uid, 'ed25519', 'sign', '1d']),
        signDate: new Date('2020-01-01T06:00:00Z'),
      },
    ];
    const keys = new Map<KeyName, RunKey>();
    for (const spec of specs) {
      const uid = `differential ${spec.name} <${spec.name}@example.com>`;
      spec.make(uid);
      const fingerprint = fingerprintOf(home, uid);
      const publicBinary = new Uint8Array(gpg(home, ['--export', fingerprint]));
      const publicArmored = gpg(home, ['--armor', '--export', fingerprint]).toString();
      const secret = await openpgp.readPrivateKey({
        binaryKey: new Uint8Array(gpg(home, ['--export-secret-keys', fingerprint])),
      });
      keys.set(spec.name, {
        name: spec.name,
        fingerprint,
        publicBinary,
        publicArmored,
        secret,
        signDate: spec.signDate,
      });
    }
    return { keys, cleanup: () => rmSync(home, { recursive: true, force: true }) };
  } finally {
    spawnSync('gpgconf', ['--kill', 'all'], { env: { ...process.env, GNUPGHOME: home } });
  }
}

interface RuntimeMessage {
  sign(
    signingKeys: openpgp.PrivateKey[],
    recipientKeys: openpgp.PublicKey[],
    signature: null,
    signingKeyIDs: openpgp.KeyID[],
    date: Date,
  ): Promise<RuntimeMessage>;
  compress(algorithm: openpgp.enums.compression): RuntimeMessage;
  write(): Uint8Array;
}

const signatures = new Map<string, Uint8Array>();

/** A signed message over `payload` by `key` (its signing subkey when it has one), compressed as gpg does. */
export async function signPayload(key: RunKey, payload: string): Promise<Uint8Array> {
  const cacheKey = `${key.name}\0${payload}`;
  const cached = signatures.get(cacheKey);
  if (cached) return cached;
  // Message.sign and Message.compress as openpgp.js 6 implements them (its typings lag behind: sign takes
  // recipient keys second, and compress is not declared).
  const message = (await openpgp.createMessage({
    binary: new TextEncoder().encode(payload),
    format: 'binary',
  })) as unknown as RuntimeMessage;
  const signed = await message.sign([key.secret], [], null, [], key.signDate ?? new Date());
  const bytes = signed.compress(openpgp.enums.compression.zlib).write();
  signatures.set(cacheKey, bytes);
  return bytes;
}
