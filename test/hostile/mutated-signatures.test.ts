/**
 * Mutated signatures: real simple signatures (made by gpg with every compression it writes, and by the
 * project's signer) mutated at random — bit and byte changes, truncation, appended and inserted bytes,
 * re-compression, nested compressed packets, a changed hash prefix, changed packet lengths, packets
 * dropped, repeated, swapped or spliced from another signature, armor. No mutant may be accepted by the
 * host decision unless gpgv accepts it too; none may be accepted by the guest (rPGP, and sequoia of older
 * releases) with a payload or a signer other than the ones the key signed.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { deflateRawSync, deflateSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readPublicKeyring, type Keyring } from '../../src/keys/index.js';
import { judgeSignature, type VerifiedSignature } from '../../src/openpgp/verify-signature.js';
import { signImage } from '../../src/signature/sign.js';
import type { Rng } from '../differential/rng.js';
import { makeGnupgHome, type GnupgHome } from '../helpers/gpg.js';
import { makeKey } from '../stage/fixtures.js';
import { framesOf, hashPrefixOffset, newFormatPacket } from './packet-frames.js';
import { seeded, themeRng } from './seed.js';

const MUTANTS = 2000;
const IMAGE = 'registry.example.com:5000/team/app:1.0';
const DIGEST = `sha256:${createHash('sha256').update('hostile manifest').digest('hex')}`;

interface Base {
  name: string;
  /** The message as its signer wrote it. */
  bytes: Buffer;
  /** The same signed message without compression: one-pass signature, literal data, signature. */
  plain: Buffer;
  /** `plain` compressed with BZip2 by the bzip2 tool (node has no BZip2 writer). */
  bzip2: Buffer;
  payload: Buffer;
}

let gnupg: GnupgHome;
let work: string;
let keyring: Keyring;
let keyringFile: string;
const bases: Base[] = [];
/** Base name → fingerprint of the key that made it. */
const signerOf = new Map<string, string>();

const compressed = (algo: 0 | 1 | 2, data: Uint8Array) =>
  newFormatPacket(
    8,
    Buffer.concat([Buffer.from([algo]), algo === 0 ? data : algo === 1 ? deflateRawSync(data) : deflateSync(data)]),
  );

function runTool(cmd: string, args: string[], input?: Buffer): Promise<{ code: number; stdout: Buffer }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env: gnupg.env, stdio: ['pipe', 'pipe', 'ignore'] });
    const out: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout: Buffer.concat(out) }));
    child.stdin.on('error', () => undefined);
    child.stdin.end(input ?? Buffer.alloc(0));
  });
}

async function addBase(name: string, bytes: Buffer, plain: Buffer): Promise<void> {
  const bz = (await runTool('bzip2', ['-c'], plain)).stdout;
  const frames = framesOf(plain)!;
  const literal = frames.find((f) => f.tag === 11)!;
  const body = plain.subarray(literal.bodyStart, literal.end);
  const payload = body.subarray(6 + body[1]!);
  bases.push({ name, bytes, plain, bzip2: newFormatPacket(8, Buffer.concat([Buffer.from([3]), bz])), payload });
}

beforeAll(async () => {
  gnupg = await makeGnupgHome();
  work = await fs.mkdtemp(path.join(os.tmpdir(), 'kbsb-mutants-'));
  const rsa = await gnupg.generateKey('Mutants RSA', 'rsa@example.com', { algo: 'rsa2048' });
  const ed = await gnupg.generateKey('Mutants Ed', 'ed@example.com', { algo: 'ed25519' });
  const ours = await makeKey('mutants-ours');
  const publicKeys = Buffer.concat([await gnupg.exportPublic(rsa), await gnupg.exportPublic(ed), ours.publicBytes]);
  keyringFile = path.join(work, 'keyring.gpg');
  await fs.writeFile(keyringFile, publicKeys);
  keyring = await readPublicKeyring(publicKeys, {});
  const payload = `{"critical":{"identity":{"docker-reference":"${IMAGE}"},"image":{"docker-manifest-digest":"${DIGEST}"},"type":"atomic container signature"},"optional":{"creator":"hostile"}}`;
  const gpgSign = async (fpr: string, algo: string) => {
    const r = await gnupg.gpg(['--compress-algo', algo, '--sign', '--local-user', fpr], payload);
    expect(r.code, r.stderr).toBe(0);
    return r.stdout;
  };
  for (const [keyName, fpr] of [
    ['rsa', rsa],
    ['ed25519', ed],
  ] as const) {
    const plain = await gpgSign(fpr, 'none');
    await addBase(`gpg ${keyName} uncompressed`, plain, plain);
    signerOf.set(`gpg ${keyName} uncompressed`, fpr);
    for (const algo of ['zip', 'zlib', 'bzip2']) {
      await addBase(`gpg ${keyName} ${algo}`, await gpgSign(fpr, algo), plain);
      signerOf.set(`gpg ${keyName} ${algo}`, fpr);
    }
  }
  const signed = Buffer.from(await signImage({ key: ours.key, dockerReference: IMAGE, manifestDigest: DIGEST }));
  await addBase('kbs-bundler sign', signed, signed);
  signerOf.set('kbs-bundler sign', ours.fingerprint);
  for (const b of bases) expect(await gpgvAccepts(b.bytes), b.name).toBe(true);
}, 120_000);

afterAll(async () => {
  await gnupg?.cleanup();
  if (work) await fs.rm(work, { recursive: true, force: true });
});

let gpgvRuns = 0;
async function gpgvAccepts(blob: Buffer): Promise<boolean> {
  const file = path.join(work, `mutant-${gpgvRuns++}.sig`);
  await fs.writeFile(file, blob);
  const r = await runTool('gpgv', ['--keyring', keyringFile, file]);
  await fs.rm(file);
  return r.code === 0;
}

type Mutation = (rng: Rng, base: Base) => Buffer;

const randomBytes = (rng: Rng, n: number) => Buffer.from(Array.from({ length: n }, () => rng.int(256)));

function aimAtPacket(rng: Rng, base: Base, tag?: number) {
  const frames = framesOf(base.plain)!;
  const frame = tag === undefined ? rng.pick(frames) : frames.find((f) => f.tag === tag)!;
  return { frames, frame, out: Buffer.from(base.plain) };
}

function packetsOf(plain: Buffer): Buffer[] {
  return framesOf(plain)!.map((f) => plain.subarray(f.start, f.end));
}

function armor(bytes: Buffer, breakCrc: boolean): Buffer {
  const crc = ((): number => {
    let c = 0xb704ce;
    for (const byte of bytes) {
      c ^= byte << 16;
      for (let i = 0; i < 8; i++) {
        c <<= 1;
        if (c & 0x1000000) c ^= 0x1864cfb;
      }
    }
    return c & 0xffffff;
  })();
  const sum = Buffer.from([(crc >> 16) & 0xff, (crc >> 8) & 0xff, (crc & 0xff) ^ (breakCrc ? 1 : 0)]);
  const body = bytes.toString('base64').replace(/(.{64})/g, '$1\n');
  return Buffer.from(`-----BEGIN PGP MESSAGE-----\n\n${body}\n=${sum.toString('base64')}\n-----END PGP MESSAGE-----\n`);
}

const MUTATIONS: Record<string, Mutation> = {
  'bit flip': (rng, b) => {
    const out = Buffer.from(b.bytes);
    const at = rng.int(out.length);
    out[at] = out[at]! ^ (1 << rng.int(8));
    return out;
  },
  'bytes overwritten': (rng, b) => {
    const out = Buffer.from(b.bytes);
    for (let n = 1 + rng.int(8); n > 0; n--) out[rng.int(out.length)] = rng.int(256);
    return out;
  },
  truncated: (rng, b) => b.bytes.subarray(0, rng.int(b.bytes.length)),
  'bytes appended': (rng, b) => Buffer.concat([b.bytes, randomBytes(rng, 1 + rng.int(64))]),
  'a packet appended': (rng, b) =>
    Buffer.concat([b.bytes, newFormatPacket(rng.pick([2, 4, 8, 10, 11, 60]), randomBytes(rng, rng.int(40)))]),
  'bytes inserted': (rng, b) => {
    const at = rng.int(b.bytes.length + 1);
    return Buffer.concat([b.bytes.subarray(0, at), randomBytes(rng, 1 + rng.int(16)), b.bytes.subarray(at)]);
  },
  'bytes removed': (rng, b) => {
    const at = rng.int(b.bytes.length);
    return Buffer.concat([b.bytes.subarray(0, at), b.bytes.subarray(at + 1 + rng.int(16))]);
  },
  'message twice': (_rng, b) => Buffer.concat([b.bytes, b.bytes]),
  're-compressed': (rng, b) => {
    const algo = rng.int(4);
    return algo === 3 ? b.bzip2 : compressed(algo as 0 | 1 | 2, b.plain);
  },
  'nested compressed packets': (rng, b) => {
    let out = rng.chance(0.3) ? b.bzip2 : b.plain;
    for (let depth = 2 + rng.int(3); depth > 0; depth--) out = compressed(rng.pick([0, 1, 2] as const), out);
    return out;
  },
  'hash prefix changed': (rng, b) => {
    const { frame, out } = aimAtPacket(rng, b, 2);
    const at = hashPrefixOffset(out, frame)! + rng.int(2);
    out[at] = out[at]! ^ (1 + rng.int(255));
    return rng.chance(0.5) ? out : compressed(1, out);
  },
  'packet length changed': (rng, b) => {
    const { frame, out } = aimAtPacket(rng, b);
    const at = frame.lengthAt!.offset + frame.lengthAt!.size - 1;
    out[at] = (out[at]! + rng.pick([-2, -1, 1, 2, 64, 128])) & 0xff;
    return rng.chance(0.7) ? out : compressed(1, out);
  },
  'length field widened': (rng, b) => {
    const packets = packetsOf(b.plain);
    const i = rng.int(packets.length);
    const f = framesOf(packets[i]!)![0]!;
    const body = packets[i]!.subarray(f.bodyStart);
    const n = body.length + rng.pick([0, 0, 1, -1]);
    const header = Buffer.from([0xc0 | f.tag, 255, (n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff]);
    packets[i] = Buffer.concat([header, body]);
    return Buffer.concat(packets);
  },
  'payload byte changed': (rng, b) => {
    const { frame, out } = aimAtPacket(rng, b, 11);
    const at = frame.end - 1 - rng.int(b.payload.length);
    out[at] = out[at]! ^ (1 << rng.int(8));
    return rng.chance(0.5) ? out : compressed(rng.pick([1, 2] as const), out);
  },
  'signature packet byte changed': (rng, b) => {
    const { frame, out } = aimAtPacket(rng, b, 2);
    const at = frame.bodyStart + rng.int(frame.end - frame.bodyStart);
    out[at] = out[at]! ^ (1 + rng.int(255));
    return rng.chance(0.6) ? out : compressed(1, out);
  },
  'signature header field changed': (rng, b) => {
    // version, signature type, public-key algorithm, hash algorithm
    const { frame, out } = aimAtPacket(rng, b, 2);
    const at = frame.bodyStart + rng.int(4);
    out[at] = rng.chance(0.5) ? out[at]! ^ 1 : rng.pick([0, 1, 2, 3, 4, 5, 8, 10, 16, 17, 19, 22, 0xff]);
    return out;
  },
  'one-pass packet changed': (rng, b) => {
    const { frame, out } = aimAtPacket(rng, b, 4);
    const at = frame.bodyStart + rng.int(frame.end - frame.bodyStart);
    out[at] = out[at]! ^ (1 + rng.int(255));
    return out;
  },
  'packet dropped': (rng, b) => {
    const packets = packetsOf(b.plain);
    packets.splice(rng.int(packets.length), 1);
    return rng.chance(0.5) ? Buffer.concat(packets) : compressed(1, Buffer.concat(packets));
  },
  'packet repeated': (rng, b) => {
    const packets = packetsOf(b.plain);
    const i = rng.int(packets.length);
    packets.splice(rng.int(packets.length + 1), 0, packets[i]!);
    return rng.chance(0.5) ? Buffer.concat(packets) : compressed(1, Buffer.concat(packets));
  },
  'packets swapped': (rng, b) => {
    const packets = packetsOf(b.plain);
    const i = rng.int(packets.length);
    const j = (i + 1 + rng.int(packets.length - 1)) % packets.length;
    [packets[i], packets[j]] = [packets[j]!, packets[i]!];
    return rng.chance(0.5) ? Buffer.concat(packets) : compressed(1, Buffer.concat(packets));
  },
  'signature from another message spliced in': (rng, b) => {
    const other = rng.pick(bases.filter((o) => o.plain !== b.plain));
    const mine = packetsOf(b.plain);
    const theirs = packetsOf(other.plain);
    const sigAt = framesOf(b.plain)!.findIndex((f) => f.tag === 2);
    mine[sigAt] = theirs[framesOf(other.plain)!.findIndex((f) => f.tag === 2)]!;
    return Buffer.concat(mine);
  },
  'second literal packet with another payload': (rng, b) => {
    const packets = packetsOf(b.plain);
    const litAt = framesOf(b.plain)!.findIndex((f) => f.tag === 11);
    const forged = Buffer.from(b.payload.toString().replace(IMAGE, 'evil.example.com/x:1'));
    const literal = newFormatPacket(11, Buffer.concat([Buffer.from([0x62, 0, 0, 0, 0, 0]), forged]));
    packets.splice(litAt + rng.int(2), 0, literal);
    return rng.chance(0.5) ? Buffer.concat(packets) : compressed(1, Buffer.concat(packets));
  },
  'literal packet replaced': (_rng, b) => {
    const packets = packetsOf(b.plain);
    const litAt = framesOf(b.plain)!.findIndex((f) => f.tag === 11);
    const forged = Buffer.from(b.payload.toString().replace(DIGEST.slice(-8), '00000000'));
    packets[litAt] = newFormatPacket(11, Buffer.concat([Buffer.from([0x62, 0, 0, 0, 0, 0]), forged]));
    return Buffer.concat(packets);
  },
  armored: (rng, b) => armor(b.bytes, rng.chance(0.5)),
  'packet tag changed': (rng, b) => {
    const { frame, out } = aimAtPacket(rng, b);
    const ctb = out[frame.start]!;
    const tag = rng.pick([1, 2, 3, 4, 8, 10, 11, 18, 20, 60]);
    out[frame.start] = ctb & 0x40 ? 0xc0 | tag : 0x80 | ((tag & 0x0f) << 2) | (ctb & 3);
    return out;
  },
};

describe('mutated signatures', () => {
  it(`${MUTANTS} mutants: the host accepts only what gpgv accepts, the guest only the signed payload by its signer`, async () => {
    const rng = themeRng('mutated-signatures');
    const names = Object.keys(MUTATIONS);
    const accepted = { host: 0, guest: 0 };
    const failures: string[] = [];
    for (let i = 0; i < MUTANTS; i++) {
      const base = bases[i % bases.length]!;
      const mutation = names[Math.floor(i / bases.length) % names.length]!;
      let mutant = MUTATIONS[mutation]!(rng, base);
      if (mutant.equals(base.bytes)) mutant = Buffer.concat([mutant, Buffer.from([0])]);
      const verdicts = await judgeSignature(mutant, keyring);
      const older = await judgeSignature(mutant, keyring, { guestLibrary: 'sequoia' });
      const sides: Array<[string, VerifiedSignature | Error]> = [
        ['host', verdicts.host],
        ['guest (rPGP)', verdicts.guest],
        ['guest (sequoia)', older.guest],
      ];
      const acceptedBy = sides.filter(([, v]) => !(v instanceof Error));
      if (acceptedBy.length === 0) continue;
      if (!(verdicts.host instanceof Error)) accepted.host++;
      if (!(verdicts.guest instanceof Error)) accepted.guest++;
      const gpgv = await gpgvAccepts(mutant);
      for (const [side, v] of acceptedBy) {
        const verified = v as VerifiedSignature;
        const payload = Buffer.from(verified.payloadBytes);
        // The host decides as gpg: it accepts only what gpgv accepts. The guest picks its packets out of
        // the list (rPGP) or at fixed places (sequoia), so it may accept a shape gpgv refuses: that is a
        // divergence, allowed only when what it verified is the payload the key signed, by that key.
        const sound = payload.equals(base.payload) && verified.signerFingerprint === signerOf.get(base.name);
        if (!sound || (side === 'host' && !gpgv))
          failures.push(
            `mutant ${i} (${mutation} of ${base.name}): accepted by ${side}, gpgv ${gpgv ? 'accepts' : 'refuses'}, payload ${payload.equals(base.payload) ? 'the signed one' : 'CHANGED'}, signer ${verified.signerFingerprint}; bytes ${mutant.toString('base64')}`,
          );
      }
    }
    expect(failures, seeded(failures.join('\n'))).toEqual([]);
    // positive control: the shapes gpg reads (re-compression, nesting, armor) are accepted, so the
    // judges were really given signatures that verify
    expect(accepted.host, seeded('host acceptances')).toBeGreaterThan(50);
    expect(accepted.guest, seeded('guest acceptances')).toBeGreaterThan(50);
  }, 120_000);
});
