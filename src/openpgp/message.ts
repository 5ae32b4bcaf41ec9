/**
 * The packet layout of a simple signature, as each verifier walks it. gpg (the host) wants a proper
 * signed message: one-pass packets, literal data, signatures (or the old signature-first layout);
 * image-rs with rPGP (the guest) just picks the one-pass, literal and signature packets out of the list.
 * Both open compressed packets at any depth (gpg up to MAX_NESTING levels, as gpg's own limit).
 */
import { decompress, InflateBudget } from './decompress.js';
import { PacketError, parseLiteral, parseOnePass, readPackets, TAG, type OnePass, type Packet } from './packets.js';

export interface SignedMessage {
  onePass?: OnePass;
  literal?: Uint8Array;
  /** The last one-pass and literal packets: rPGP keeps the last of each kind it meets. */
  lastOnePass?: OnePass;
  lastLiteral?: Uint8Array;
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

/** containers/image `iolimits.MaxSignatureBodySize`; also the cap on all the bytes one signature inflates to. */
export const MAX_SIGNATURE_SIZE = 4 * 1024 * 1024;

/** gpg's `MAX_NESTING_DEPTH` of containers (compressed packets) in one message. */
const MAX_NESTING = 32;

const ENCRYPTION_TAGS = new Set<number>([TAG.pkesk, TAG.skesk, TAG.symEncrypted, TAG.symEncryptedIntegrity, TAG.aead]);

export function readSignedMessage(blob: Uint8Array, maxInflated: number = MAX_SIGNATURE_SIZE): SignedMessage {
  const flat: Packet[] = [];
  flatten(blob, new InflateBudget(maxInflated), 0, flat);
  const msg: SignedMessage = { signatures: [], wellFormed: false, encrypted: false };
  const layout: string[] = [];
  let onePassCount = 0;
  let literalCount = 0;
  try {
    for (const p of flat) {
      if (p.tag === TAG.marker) {
        // gpg skips a marker packet only when it holds exactly "PGP"; any other body is an invalid packet.
        if (!isMarker(p.body)) layout.push('x');
        continue;
      }
      if (ENCRYPTION_TAGS.has(p.tag)) msg.encrypted = true;
      if (p.tag === TAG.onePass) {
        onePassCount++;
        msg.lastOnePass = parseOnePass(p.body);
        msg.onePass ??= msg.lastOnePass;
        layout.push('o');
      } else if (p.tag === TAG.literal) {
        literalCount++;
        msg.lastLiteral = parseLiteral(p.body).data;
        msg.literal ??= msg.lastLiteral;
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

function isMarker(body: Uint8Array): boolean {
  return body.length === 3 && body[0] === 0x50 && body[1] === 0x47 && body[2] === 0x50;
}

/** The packets of `bytes`, compressed packets replaced by their contents. */
function flatten(bytes: Uint8Array, budget: InflateBudget, depth: number, out: Packet[]): void {
  let packets: Packet[];
  try {
    packets = readPackets(bytes);
  } catch (e) {
    throw new MessageError((e as Error).message, 'packets');
  }
  for (const p of packets) {
    if (p.tag !== TAG.compressed) {
      out.push(p);
      continue;
    }
    if (depth >= MAX_NESTING) throw new MessageError('compressed packets nested too deeply', 'decompress');
    let inner: Uint8Array;
    try {
      inner = decompress(p.body, budget);
    } catch (e) {
      throw new MessageError((e as Error).message, 'decompress');
    }
    flatten(inner, budget, depth + 1, out);
  }
}
