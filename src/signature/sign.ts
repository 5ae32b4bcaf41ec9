/**
 * Simple signing with openpgp.js alone: a binary OpenPGP signed message (one-pass signature, literal
 * data, signature; no armor, no compression) whose literal data is the payload containers/image writes.
 * The primary key signs: image-rs in the guest tries primary keys only.
 */
import * as openpgp from 'openpgp';
import { InputError } from '../errors.js';
import { buildPayload } from './payload.js';

export interface SignImageOptions {
  key: openpgp.PrivateKey;
  /** Signed verbatim; callers expand it fully first (as skopeo copy and podman do). */
  dockerReference: string;
  manifestDigest: string;
  creator?: string;
  /** Unix seconds; defaults to now. Also the signature's creation time. */
  timestamp?: number;
}

export async function signImage(opts: SignImageOptions): Promise<Uint8Array> {
  const timestamp = opts.timestamp ?? Math.floor(Date.now() / 1000);
  const payload = buildPayload({
    dockerReference: opts.dockerReference,
    manifestDigest: opts.manifestDigest,
    creator: opts.creator,
    timestamp,
  });
  if (!opts.key.isDecrypted())
    throw new InputError('E_KEY_ENCRYPTED', {}, 'the secret key is still encrypted; decrypt it first');
  const date = new Date(timestamp * 1000);
  try {
    await opts.key.getSigningKey(opts.key.getKeyID(), date);
  } catch (e) {
    throw new InputError(
      'E_KEY_CANNOT_SIGN',
      {},
      `key ${opts.key.getFingerprint().toUpperCase()} cannot sign with its primary key (${(e as Error).message}); the CoCo guest accepts only signatures by primary keys`,
    );
  }
  const message = await openpgp.createMessage({ binary: payload, format: 'binary' });
  // Bytes in, bytes out; openpgp's declarations type the result through a package it does not ship.
  const signed = (await openpgp.sign({
    message,
    signingKeys: opts.key,
    signingKeyIDs: opts.key.getKeyID(),
    format: 'binary',
    date,
  })) as Uint8Array;
  return signed;
}
