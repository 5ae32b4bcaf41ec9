/**
 * Compressed data packets (RFC 4880 §5.6): uncompressed (0), ZIP (1, raw deflate), ZLIB (2) and BZip2
 * (3), which gpg reads and so the host accepts. Every packet of one signature draws on one budget of
 * inflated bytes, so that a signature of many small "bombs" stops at the cap as a single one does.
 * BZip2 goes through seek-bzip (pure JavaScript, synchronous, writing byte by byte to an output we
 * bound); it is loaded only when a signature uses BZip2.
 */
import { createRequire } from 'node:module';
import { inflateRawSync, inflateSync } from 'node:zlib';
import { PacketError } from './packets.js';

/** What is left of one signature's allowance of inflated bytes. */
export class InflateBudget {
  constructor(public remaining: number) {}
  take(n: number): void {
    if (n > this.remaining) throw new PacketError('decompressed data exceed the size limit');
    this.remaining -= n;
  }
}

const require = createRequire(import.meta.url);

/** The contents of a compressed data packet, charged to `budget`. */
export function decompress(body: Uint8Array, budget: InflateBudget): Uint8Array {
  const algo = body[0];
  const data = body.subarray(1);
  let out: Uint8Array;
  try {
    if (algo === 0) out = data;
    else if (algo === 1) out = inflateRawSync(data, { maxOutputLength: Math.max(1, budget.remaining) });
    else if (algo === 2) out = inflateSync(data, { maxOutputLength: Math.max(1, budget.remaining) });
    else if (algo === 3) out = bunzip(data, budget.remaining);
    else throw new PacketError(`unsupported compression algorithm ${algo}`);
  } catch (e) {
    if (e instanceof PacketError) throw e;
    if ((e as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE')
      throw new PacketError('decompressed data exceed the size limit');
    throw new PacketError(`failed to decompress: ${(e as Error).message}`);
  }
  budget.take(out.length);
  return out;
}

class Overflow extends Error {}

function bunzip(data: Uint8Array, limit: number): Uint8Array {
  const Bunzip = require('seek-bzip') as typeof import('seek-bzip');
  const chunks: Buffer[] = [];
  let chunk = Buffer.allocUnsafe(Math.min(limit, 64 * 1024));
  let used = 0;
  let total = 0;
  const output = {
    writeByte(byte: number) {
      if (total >= limit) throw new Overflow();
      if (used === chunk.length) {
        chunks.push(chunk);
        chunk = Buffer.allocUnsafe(Math.min(limit - total, 64 * 1024));
        used = 0;
      }
      chunk[used++] = byte;
      total++;
    },
  };
  try {
    // An input stream without `eof`: seek-bzip then reads on to the end-of-stream marker and its CRC
    // instead of stopping where the bytes end, so that a stream cut after a block is an error, as
    // libbz2 (gpg) has it. Past the end the bits read as zeros, which no marker is made of.
    const input = {
      pos: 0,
      readByte(): number {
        return this.pos < data.length ? data[this.pos++]! : (this.pos++, 0);
      },
      /** The stream header (`BZh` and the level) is read with this. */
      read(buffer: Uint8Array, offset: number, length: number): number {
        const n = Math.max(0, Math.min(length, data.length - this.pos));
        buffer.set(data.subarray(this.pos, this.pos + n), offset);
        this.pos += n;
        return n;
      },
    };
    Bunzip.decode(input, output, false);
  } catch (e) {
    if (e instanceof Overflow) throw new PacketError('decompressed data exceed the size limit');
    throw e;
  }
  chunks.push(chunk.subarray(0, used));
  return Buffer.concat(chunks, total);
}
