/**
 * The bearer JWT for trustee's admin API. v0.21: a token file from the identity provider, used as is (trimmed,
 * as kbs-client does). v0.17–v0.20: kbs-client signs `{iat, exp}` with the admin's Ed25519 key (EdDSA);
 * here the same, valid five minutes, with a `role` claim when asked for (v0.21's bearer_jwt requires one, and
 * the older KBS ignores it). Neither the token nor the key ever appears in a message.
 */
import { createPrivateKey, sign, type KeyObject } from 'node:crypto';
import { InputError } from '../errors.js';

export const ADMIN_TOKEN_LIFETIME_SECONDS = 300;
const JWT = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

export function tokenFromFile(text: string, file: string): string {
  const token = text.trim();
  if (!JWT.test(token)) {
    throw new InputError('E_ADMIN_TOKEN', { file }, 'is not a JWT (three base64url parts separated by dots)');
  }
  return token;
}

export function adminKey(pem: string, file: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPrivateKey(pem);
  } catch {
    throw new InputError('E_ADMIN_KEY', { file }, 'is not a PEM private key');
  }
  if (key.asymmetricKeyType !== 'ed25519') {
    throw new InputError(
      'E_ADMIN_KEY',
      { file },
      `is a ${key.asymmetricKeyType ?? 'unknown'} key; trustee's admin key is Ed25519 (openssl genpkey -algorithm ed25519)`,
    );
  }
  return key;
}

const b64url = (value: unknown) => Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');

export function signAdminToken(key: KeyObject, options: { role?: string; now?: Date } = {}): string {
  const iat = Math.floor((options.now ?? new Date()).getTime() / 1000);
  const claims = {
    iat,
    exp: iat + ADMIN_TOKEN_LIFETIME_SECONDS,
    ...(options.role !== undefined ? { role: options.role } : {}),
  };
  const input = `${b64url({ typ: 'JWT', alg: 'EdDSA' })}.${b64url(claims)}`;
  return `${input}.${sign(null, Buffer.from(input, 'ascii'), key).toString('base64url')}`;
}
