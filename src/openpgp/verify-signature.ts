/**
 * One signature blob against one keyring, judged as the host (containers/image with gpgme) or the guest
 * (image-rs, with the OpenPGP library of the chosen release) would judge it. `verifySignature` returns
 * the verified facts or throws a SignatureError whose `reason` is worded as that side words it.
 * `judgeSignature` gives both verdicts from one pass (what `audit` reports).
 *
 * The per-signature path parses the packets itself and checks them with node:crypto (signature-check.ts);
 * openpgp.js is used only to read keys, once per keyring.
 */
import type { GuestOpenPgpLibrary } from './guest-library.js';
import { keyIndex, type KeyEntry, type KeyIndex } from './key-index.js';
import type { Keyring } from './keyring.js';
import { MAX_SIGNATURE_SIZE, MessageError, readSignedMessage, type SignedMessage } from './message.js';
import { PacketError, parseSignature, type SignaturePacket } from './packets.js';
import { sequoiaGuestVerdict } from './sequoia-guest.js';
import { checkSignature, dataSignatureInput, hashAccepted, type SignatureCheck } from './signature-check.js';
import { SignatureError, type VerifyMode } from './signature-error.js';

export { MAX_SIGNATURE_SIZE } from './message.js';

export interface VerifiedSignature {
  payloadBytes: Uint8Array;
  /** Primary key fingerprint, uppercase hex. */
  signerFingerprint: string;
  /** The key id the signature names (uppercase hex). */
  keyId: string;
  bySubkey: boolean;
  subkeyFingerprint?: string;
  signatureCreated: string;
  /** Expiry date of the signing key (or subkey) when it lies in the past. */
  keyExpired: string | null;
  /** Expiry date of the signature when it lies in the past. */
  signatureExpired: string | null;
  keyRevoked: boolean;
  subkeyRevoked: boolean;
}

export interface VerifyOptions {
  now?: Date;
  /** The guest's OpenPGP library (see guest-library.ts); default rPGP, the current release's. */
  guestLibrary?: GuestOpenPgpLibrary;
}

export interface SignatureVerdicts {
  host: VerifiedSignature | SignatureError;
  guest: VerifiedSignature | SignatureError;
}

export async function verifySignature(
  blob: Uint8Array,
  keyring: Keyring,
  mode: VerifyMode,
  options: VerifyOptions = {},
): Promise<VerifiedSignature> {
  const check = new Check(blob, await keyIndex(keyring), options.now ?? new Date());
  const result = mode === 'host' ? check.host() : guestVerdict(check, options);
  if (result instanceof SignatureError) throw result;
  return result;
}

export async function judgeSignature(
  blob: Uint8Array,
  keyring: Keyring,
  options: VerifyOptions = {},
): Promise<SignatureVerdicts> {
  const check = new Check(blob, await keyIndex(keyring), options.now ?? new Date());
  return { host: check.host(), guest: guestVerdict(check, options) };
}

function guestVerdict(check: Check, options: VerifyOptions): VerifiedSignature | SignatureError {
  return options.guestLibrary === 'sequoia' ? sequoiaGuestVerdict(check) : check.guest();
}

const HOST_ACCEPTED_FIRST_BYTES = new Set([
  0xa0, 0xa1, 0xa2, 0xa3, 0xc8, 0x90, 0x91, 0x92, 0x3d, 0xc4, 0x88, 0x89, 0x8a, 0x8b, 0xc2,
]);
export const GUEST_NO_KEY = 'signature verify failed! There is no pubkey can verify the signature!';

/** Shared state of one blob's examination; crypto results are memoised so both modes pay once. */
export class Check {
  private message?: SignedMessage | MessageError;
  private readonly parsedSignatures = new Map<number, SignaturePacket | PacketError>();
  /** Per signature packet and signed data (both sides usually ask about the same pair), per key fingerprint. */
  private readonly cryptoResults = new Map<SignaturePacket, Map<Uint8Array, Map<string, SignatureCheck>>>();

  constructor(
    readonly blob: Uint8Array,
    readonly index: KeyIndex,
    private readonly now: Date,
  ) {}

  private readMessage(): SignedMessage | MessageError {
    if (this.message === undefined) {
      try {
        this.message = readSignedMessage(this.blob, MAX_SIGNATURE_SIZE);
      } catch (e) {
        if (!(e instanceof MessageError)) throw e;
        this.message = e;
      }
    }
    return this.message;
  }

  signature(i: number, body: Uint8Array): SignaturePacket | PacketError {
    let s = this.parsedSignatures.get(i);
    if (s === undefined) {
      try {
        s = parseSignature(body);
      } catch (e) {
        if (!(e instanceof PacketError)) throw e;
        s = e;
      }
      this.parsedSignatures.set(i, s);
    }
    return s;
  }

  /** The check of `sig` over the literal `data` with `entry`'s key, memoised. */
  verifies(entry: KeyEntry, sig: SignaturePacket, data: Uint8Array): SignatureCheck {
    let bySig = this.cryptoResults.get(sig);
    if (!bySig) this.cryptoResults.set(sig, (bySig = new Map<Uint8Array, Map<string, SignatureCheck>>()));
    let byKey = bySig.get(data);
    if (!byKey) bySig.set(data, (byKey = new Map<string, SignatureCheck>()));
    let known = byKey.get(entry.fingerprint);
    if (known === undefined) {
      const signed = dataSignatureInput(sig, data);
      known =
        signed === undefined || entry.verificationKey === undefined
          ? { valid: false, hashPrefixMatches: false }
          : checkSignature(entry.verificationKey, sig, [signed]);
      byKey.set(entry.fingerprint, known);
    }
    return known;
  }

  facts(entry: KeyEntry, sig: SignaturePacket, data: Uint8Array): VerifiedSignature {
    const nowMs = this.now.getTime();
    const expiredAt = (iso: string | null) => (iso !== null && Date.parse(iso) <= nowMs ? iso : null);
    const primaryExpired = expiredAt(entry.description.expires);
    const sigExpiry = sig.lifetime > 0 ? new Date(sig.created.getTime() + sig.lifetime * 1000) : null;
    const result: VerifiedSignature = {
      payloadBytes: data,
      signerFingerprint: entry.primaryFingerprint,
      keyId: sig.issuerKeyId ?? entry.keyId,
      bySubkey: entry.isSubkey,
      signatureCreated: sig.created.toISOString(),
      keyExpired: primaryExpired ?? (entry.isSubkey ? expiredAt(entry.expires) : null),
      signatureExpired: sigExpiry !== null && sigExpiry.getTime() <= nowMs ? sigExpiry.toISOString() : null,
      keyRevoked: entry.description.revoked,
      subkeyRevoked: entry.isSubkey && entry.revoked,
    };
    if (entry.isSubkey) result.subkeyFingerprint = entry.fingerprint;
    return result;
  }

  // ------------------------------------------------------------------ host: containers/image + gpg

  host(): VerifiedSignature | SignatureError {
    const fail = (code: SignatureError['code'], reason: string) => new SignatureError(code, 'host', reason);
    let blob = this.blob;
    if (blob.length > MAX_SIGNATURE_SIZE)
      return fail('E_SIG_TOO_LARGE', `signature is larger than the ${MAX_SIGNATURE_SIZE}-byte limit`);
    if (blob.length === 0) return fail('E_SIG_FORMAT', 'empty signature blob');
    const first = blob[0]!;
    if (first === 0x00) {
      const framed = framedFormat(blob);
      if (framed === undefined) return fail('E_SIG_FORMAT', 'invalid signature format');
      if (framed.name !== 'simple-signing')
        return fail('E_SIG_FORMAT', `not a simple signature: format ${JSON.stringify(framed.name)}`);
      blob = framed.data;
    } else if (!HOST_ACCEPTED_FIRST_BYTES.has(first)) {
      return fail('E_SIG_FORMAT', `unrecognized signature format, starting with binary 0x${first.toString(16)}`);
    }
    const msg = blob === this.blob ? this.readMessage() : safeRead(blob);
    if (msg instanceof MessageError) return fail('E_SIG_FORMAT', `signature error: ${msg.message}`);
    if (msg.encrypted) return fail('E_SIG_FORMAT', 'not signed: the message is encrypted');
    if (msg.signatures.length === 0 || msg.literal === undefined) return fail('E_SIG_FORMAT', 'not signed');
    if (msg.signatures.length !== 1)
      return fail('E_SIG_FORMAT', `Unexpected GPG signature count ${msg.signatures.length}`);
    if (!msg.wellFormed)
      return fail('E_SIG_FORMAT', 'signature error: unexpected packet sequence in the signed message');
    const sig = this.signature(0, msg.signatures[0]!);
    if (sig instanceof PacketError) return fail('E_SIG_BAD', `signature error: ${sig.message}`);
    // gpg hashes the data only with the algorithm the one-pass packet announces.
    if (msg.onePass && msg.onePass.hashAlgo !== sig.hashAlgo) {
      return fail('E_SIG_BAD', 'signature error: the one-pass signature packet does not match the signature packet');
    }
    const keyId = sig.issuerKeyId;
    const candidates = keyId === undefined ? [] : (this.index.byKeyId.get(keyId) ?? []);
    if (candidates.length === 0) {
      return fail(
        'E_SIG_UNKNOWN_KEY',
        `Key not found for key ID ${(keyId ?? '0000000000000000').toLowerCase()} in signature`,
      );
    }
    const data = msg.literal;
    let entry: KeyEntry | undefined;
    // gpg does not look at the stored "left 16 bits" of the hash: only the signature decides.
    for (const c of candidates) {
      if (this.verifies(c, sig, data).valid) {
        entry = c;
        break;
      }
    }
    if (!entry) return fail('E_SIG_BAD', 'signature error: openpgp: invalid signature: verification failure');
    if (!hashAccepted(sig.hashAlgo))
      return fail('E_SIG_BAD', `signature error: hash algorithm ${sig.hashAlgo} is not accepted`);
    if (sig.unknownCritical !== undefined)
      return fail('E_SIG_BAD', `signature error: unknown critical signature subpacket ${sig.unknownCritical}`);
    const facts = this.facts(entry, sig, data);
    const refuse = (code: SignatureError['code'], reason: string) => new SignatureError(code, 'host', reason, facts);
    if (entry.created.getTime() > sig.created.getTime()) {
      return refuse('E_SIG_BAD', `signature error: key ${entry.fingerprint} is newer than the signature`);
    }
    const label = entry.isSubkey ? `${entry.fingerprint} of ${entry.primaryFingerprint}` : entry.fingerprint;
    if (facts.keyRevoked || facts.subkeyRevoked)
      return refuse('E_KEY_REVOKED', `Signature by key ${label} is not accepted: the key is revoked`);
    if (facts.keyExpired !== null)
      return refuse(
        'E_KEY_EXPIRED',
        `Signature by key ${label} is not accepted: the key expired on ${facts.keyExpired}`,
      );
    if (facts.signatureExpired !== null)
      return refuse('E_SIG_EXPIRED', `Signature expired on ${facts.signatureExpired}`);
    if (!entry.signingUsable)
      return refuse('E_SIG_BAD', `Signature by key ${label} is not accepted: the key is not valid for signing`);
    return facts;
  }

  // ------------------------------------------------------------------ guest: image-rs with rPGP

  guest(): VerifiedSignature | SignatureError {
    const fail = (code: SignatureError['code'], reason: string) => new SignatureError(code, 'guest', reason);
    if (this.blob.length > MAX_SIGNATURE_SIZE)
      return fail('E_SIG_TOO_LARGE', `signature is larger than the ${MAX_SIGNATURE_SIZE}-byte limit`);
    const msg = this.readMessage();
    if (msg instanceof MessageError) {
      return fail(
        'E_SIG_FORMAT',
        msg.stage === 'decompress' ? 'Failed to decompress signature packet' : 'Failed to parse OpenPGP packet',
      );
    }
    // rPGP keeps the last one-pass, literal and signature packet it meets.
    const onePass = msg.lastOnePass;
    if (!onePass) return fail('E_SIG_FORMAT', 'Signature format error: no OnePassSignature packet found');
    if (msg.lastLiteral === undefined) return fail('E_SIG_FORMAT', 'Signature format error: no literal field in it!');
    if (msg.signatures.length === 0) return fail('E_SIG_FORMAT', 'Signature format error: no Signature packet');
    const last = msg.signatures.length - 1;
    const sig = this.signature(last, msg.signatures[last]!);
    if (sig instanceof PacketError) return fail('E_SIG_FORMAT', 'Failed to parse OpenPGP packet');
    const data = msg.lastLiteral;
    // image-rs tries every primary key in order; trying the named one first changes only the cost.
    const ordered = [...this.index.primaries].sort(
      (a, b) => Number(b.keyId === sig.issuerKeyId) - Number(a.keyId === sig.issuerKeyId),
    );
    // rPGP: the signature's issuer subpackets (when it has any) must name the key; the hash prefix must match.
    const { keyIds, fingerprints } = sig.issuers;
    const named = (e: KeyEntry) =>
      (keyIds.length === 0 && fingerprints.length === 0) ||
      keyIds.includes(e.keyId) ||
      fingerprints.includes(e.fingerprint);
    const rpgpAccepts = (entry: KeyEntry) => {
      if (!named(entry)) return false;
      const check = this.verifies(entry, sig, data);
      return check.valid && check.hashPrefixMatches;
    };
    for (const entry of ordered) {
      if (!rpgpAccepts(entry)) continue;
      if (entry.fingerprint.length !== 40) {
        return new SignatureError(
          'E_SIG_KEY_ID',
          'guest',
          'Wrong GPG key ID length in pubkey ring',
          this.facts(entry, sig, data),
        );
      }
      const trusted = entry.fingerprint.slice(-16);
      if (trusted !== onePass.keyId) {
        // image-rs prints the whole fingerprint it holds as the trusted key id.
        const reason = `Key ID not matched. trusted key id is: ${rustHexList(entry.fingerprint)}, but key id in signature info is: ${rustHexList(onePass.keyId)}`;
        return new SignatureError('E_SIG_KEY_ID', 'guest', reason, this.facts(entry, sig, data));
      }
      return this.facts(entry, sig, data);
    }
    const issuerKeys = sig.issuerKeyId === undefined ? [] : (this.index.byKeyId.get(sig.issuerKeyId) ?? []);
    for (const entry of issuerKeys.filter((e) => e.isSubkey)) {
      if (rpgpAccepts(entry))
        return new SignatureError('E_SIG_SUBKEY', 'guest', GUEST_NO_KEY, this.facts(entry, sig, data));
    }
    return fail(issuerKeys.length > 0 ? 'E_SIG_BAD' : 'E_SIG_UNKNOWN_KEY', GUEST_NO_KEY);
  }
}

function safeRead(blob: Uint8Array): SignedMessage | MessageError {
  try {
    return readSignedMessage(blob, MAX_SIGNATURE_SIZE);
  } catch (e) {
    if (e instanceof MessageError) return e;
    throw e;
  }
}

/** containers/image's `\x00<format name>\n<data>` framing. */
function framedFormat(blob: Uint8Array): { name: string; data: Uint8Array } | undefined {
  const nl = blob.indexOf(0x0a, 1);
  if (nl < 0) return undefined;
  const name = blob.subarray(1, nl);
  if (name.some((c) => c < 32 || c > 0x7e)) return undefined;
  return { name: Buffer.from(name).toString('latin1'), data: blob.subarray(nl + 1) };
}

/** Rust's `{:X?}` of a byte vector: `[8E, 61, ED, …]`. */
export function rustHexList(hex: string): string {
  const bytes = hex.match(/../g) ?? [];
  return `[${bytes.map((b) => parseInt(b, 16).toString(16).toUpperCase()).join(', ')}]`;
}
