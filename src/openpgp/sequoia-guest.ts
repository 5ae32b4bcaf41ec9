/**
 * The guest's verdict as image-rs decided it with sequoia-openpgp (guest-components before v0.20.0,
 * `policy/simple/verify.rs` at 757e7984): the signature file is read as a `PacketPile` (an armored file
 * is dearmored), the one-pass, literal and signature packets are taken at the fixed paths [0,0], [0,1]
 * and [0,2] — the first three packets inside a first, compressed packet — and every primary key of the
 * keyring is tried; each key that verifies must be the one the one-pass packet names.
 */
import { firstArmoredBlock } from './armor.js';
import { decompress, InflateBudget } from './decompress.js';
import type { KeyEntry } from './key-index.js';
import { MAX_SIGNATURE_SIZE } from './message.js';
import { parseLiteral, parseOnePass, readPackets, TAG, type Packet } from './packets.js';
import { SignatureError } from './signature-error.js';
import { GUEST_NO_KEY, rustHexList, type Check, type VerifiedSignature } from './verify-signature.js';

export function sequoiaGuestVerdict(check: Check): VerifiedSignature | SignatureError {
  const fail = (code: SignatureError['code'], reason: string) => new SignatureError(code, 'guest', reason);
  if (check.blob.length > MAX_SIGNATURE_SIZE)
    return fail('E_SIG_TOO_LARGE', `signature is larger than the ${MAX_SIGNATURE_SIZE}-byte limit`);
  const children = containerChildren(check.blob);
  if (typeof children === 'string') return fail('E_SIG_FORMAT', children);
  // Outside a compressed packet the fixed paths name nothing: no key is tried (sequoia 1.12 even
  // panics there), so the pull fails.
  const at = (i: number, tag: number) => (children?.[i]?.tag === tag ? children[i] : undefined);
  const onePass = at(0, TAG.onePass);
  const sigPacket = at(2, TAG.signature);
  const literal = at(1, TAG.literal);
  let opsKeyId = '';
  let data: Uint8Array | undefined;
  try {
    if (onePass) opsKeyId = parseOnePass(onePass.body).keyId;
    if (literal) data = parseLiteral(literal.body).data;
  } catch {
    return fail('E_SIG_FORMAT', 'Malformed packet in the signature');
  }
  const sig = sigPacket ? check.signature(0, sigPacket.body) : undefined;
  let accepted: KeyEntry | undefined;
  if (sig !== undefined && !(sig instanceof Error) && data !== undefined) {
    for (const entry of check.index.primaries) {
      const c = check.verifies(entry, sig, data);
      // sequoia's `verify` also refuses a signature older than the key.
      if (!c.valid || !c.hashPrefixMatches || sig.created.getTime() < entry.created.getTime()) continue;
      const facts = check.facts(entry, sig, data);
      if (entry.fingerprint.length !== 40)
        return new SignatureError('E_SIG_KEY_ID', 'guest', 'Wrong GPG key ID length in pubkey ring', facts);
      if (opsKeyId.length !== 16)
        return new SignatureError('E_SIG_KEY_ID', 'guest', 'Wrong GPG key ID length in signature payload', facts);
      const trusted = entry.fingerprint.slice(-16);
      if (trusted !== opsKeyId) {
        const reason = `Key ID not matched. trusted key id is: ${rustHexList(entry.fingerprint)}, but key id in signature info is: ${rustHexList(opsKeyId)}`;
        return new SignatureError('E_SIG_KEY_ID', 'guest', reason, facts);
      }
      accepted ??= entry;
    }
  }
  if (accepted === undefined || sig === undefined || sig instanceof Error)
    return fail(sigPacket ? 'E_SIG_BAD' : 'E_SIG_FORMAT', GUEST_NO_KEY);
  if (data === undefined) return fail('E_SIG_FORMAT', 'Signature format error: no literal field in it!');
  return check.facts(accepted, sig, data);
}

/** The packets inside the first top-level packet when it is a compressed one; undefined when it is not. */
function containerChildren(blob: Uint8Array): Packet[] | undefined | string {
  let bytes = blob;
  const head = Buffer.from(blob.subarray(0, 64)).toString('latin1');
  if (/^\s*-----BEGIN PGP /.test(head)) {
    const block = firstArmoredBlock(Buffer.from(blob).toString('latin1'));
    if (!block) return 'Malformed armor in the signature';
    bytes = block.data;
  }
  try {
    const top = readPackets(bytes);
    if (top[0]?.tag !== TAG.compressed) return undefined;
    return readPackets(decompress(top[0].body, new InflateBudget(MAX_SIGNATURE_SIZE)));
  } catch {
    return 'Malformed OpenPGP packet in the signature';
  }
}
