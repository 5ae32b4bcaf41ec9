/**
 * The packet layout of a simple signature, as each verifier walks it. gpg (the host) wants a proper
 * signed message: one-pass packets, literal data, signatures (or the old signature-first layout);
 * image-rs (the guest) just picks the one-pass, literal and signature packets out of the list.
 */
import {
  decompress,
  PacketError,
  parseLiteral,
  parseOnePass,
  readPackets,
  TAG,
  type OnePass,
  type Packet,
} from './packets.js';

export interface SignedMessage {
  onePass?: OnePass;
  literal?: Uint8Array;
  /** Raw bodies of every signature packet, in order. */
  signatures: Uint8Array[];
  /** Host layout check passed (OPS… literal sig… with matching counts, or sig… literal). */
  wellFormed: boolean;
  encrypted: boolean;
}

export class MessageError extends Error {
  constructor(
    message: string,
    readonly stage: 'packets' | 'decompress',
  ) {
    super(message);
  }
}

const ENCRYPTION_TAGS = new Set<number>([TAG.pkesk, TAG.skesk, TAG.symEncrypted, TAG.symEncryptedIntegrity, TAG.aead]);

export function readSignedMessage(blob: Uint8Array, maxOutput: number): SignedMessage {
  let top: Packet[];
  try {
    top = readPackets(blob);
  } catch (e) {
    throw new MessageError((e as Error).message, 'packets');
  }
  const flat: Packet[] = [];
  for (const p of top) {
    if (p.tag !== TAG.compressed) {
      flat.push(p);
      continue;
    }
    let inner: Uint8Array;
    try {
      inner = decompress(p.body, maxOutput);
    } catch (e) {
      throw new MessageError((e as Error).message, 'decompress');
    }
    try {
      flat.push(...readPackets(inner));
    } catch (e) {
      throw new MessageError((e as Error).message, 'packets');
    }
  }
  const msg: SignedMessage = { signatures: [], wellFormed: false, encrypted: false };
  const layout: string[] = [];
  let onePassCount = 0;
  let literalCount = 0;
  try {
    for (const p of flat) {
      if (p.tag === TAG.marker) continue;
      if (ENCRYPTION_TAGS.has(p.tag)) msg.encrypted = true;
      if (p.tag === TAG.onePass) {
        onePassCount++;
        msg.onePass ??= parseOnePass(p.body);
        layout.push('o');
      } else if (p.tag === TAG.literal) {
        literalCount++;
        msg.literal ??= parseLiteral(p.body).data;
        layout.push('l');
      } else if (p.tag === TAG.signature) {
        msg.signatures.push(p.body);
        layout.push('s');
      } else {
        layout.push('x');
      }
    }
  } catch (e) {
    if (e instanceof PacketError) throw new MessageError(e.message, 'packets');
    throw e;
  }
  const shape = layout.join('');
  msg.wellFormed =
    literalCount === 1 && ((/^o+ls+$/.test(shape) && onePassCount === msg.signatures.length) || /^s+l$/.test(shape));
  return msg;
}
