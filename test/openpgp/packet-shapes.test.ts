/**
 * Packet shapes gpg reads that a simple signature rarely has: BZip2, compressed packets nested in each
 * other, bytes after the last packet, a wrong stored hash prefix ("left 16 bits"). Each is made from a
 * gpg signature; the host verdict must be skopeo's (containers/image with gpgme), the guest's rPGP's.
 */
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { deflateRawSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readPublicKeyring, type Keyring } from '../../src/keys/index.js';
import { verifySignature } from '../../src/openpgp/verify-signature.js';
import { makeGnupgHome, type GnupgHome } from '../helpers/gpg.js';
import { skopeo } from '../helpers/skopeo.js';

const IMAGE = 'registry.example.com/team/app:1.0';
const MANIFEST = Buffer.from(
  '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","size":2,"digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"},"layers":[]}',
);

let gnupg: GnupgHome;
let dir: string;
let fpr: string;
let keyring: Keyring;
const shapes = new Map<string, Buffer>();

const zip = (b: Uint8Array) => Buffer.concat([Buffer.from([0xa3, 0x01]), deflateRawSync(b)]);

/** The offset of the signature packet's stored hash prefix in an uncompressed gpg message. */
function hashPrefixOffset(message: Buffer): number {
  let i = 0;
  for (;;) {
    const ctb = message[i]!;
    const tag = ctb & 0x40 ? ctb & 0x3f : (ctb >> 2) & 0x0f;
    let header: number;
    let length: number;
    if (ctb & 0x40) {
      const l1 = message[i + 1]!;
      [header, length] = l1 < 192 ? [2, l1] : [3, ((l1 - 192) << 8) + message[i + 2]! + 192];
    } else {
      [header, length] = ctb & 3 ? [3, message.readUInt16BE(i + 1)] : [2, message[i + 1]!];
    }
    const body = i + header;
    if (tag === 2) {
      const hashed = message.readUInt16BE(body + 4);
      return body + 6 + hashed + 2 + message.readUInt16BE(body + 6 + hashed);
    }
    i = body + length;
  }
}

beforeAll(async () => {
  gnupg = await makeGnupgHome();
  fpr = await gnupg.generateKey('Shapes', 'shapes@example.com', { algo: 'rsa2048' });
  keyring = await readPublicKeyring(await gnupg.exportPublic(fpr), {});
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'kbsb-shapes-'));
  await fs.writeFile(path.join(dir, 'manifest.json'), MANIFEST);
  const digest = `sha256:${(await import('node:crypto')).createHash('sha256').update(MANIFEST).digest('hex')}`;
  const payload = `{"critical":{"identity":{"docker-reference":"${IMAGE}"},"image":{"docker-manifest-digest":"${digest}"},"type":"atomic container signature"},"optional":{}}`;
  const sign = async (extra: string[]) => {
    const r = await gnupg.gpg([...extra, '--sign', '--local-user', fpr], payload);
    expect(r.code, r.stderr).toBe(0);
    return r.stdout;
  };
  const plain = await sign(['--compress-algo', 'none']);
  const zipped = await sign(['--compress-algo', 'zip']);
  const badPrefix = Buffer.from(plain);
  const at = hashPrefixOffset(badPrefix);
  badPrefix[at] = badPrefix[at]! ^ 0xff;
  shapes.set('gpg --compress-algo zip', zipped);
  const bzip2 = await sign(['--compress-algo', 'bzip2']);
  expect(bzip2[0]).toBe(0xa3); // an open-ended compressed packet: its data runs to the end of the file
  shapes.set('gpg --compress-algo bzip2', bzip2);
  // without the end-of-stream marker and CRC (10 bytes): every block is there, the stream is not complete
  shapes.set('BZip2 cut after its last block', bzip2.subarray(0, bzip2.length - 10));
  shapes.set('ZIP inside ZIP', zip(zip(plain)));
  shapes.set('ZIP inside ZIP inside ZIP', zip(zip(zip(plain))));
  shapes.set('random bytes after the last packet', Buffer.concat([plain, Buffer.from('8f3a9c01de77', 'hex')]));
  shapes.set('text after the last packet', Buffer.concat([plain, Buffer.from('hello\n')]));
  shapes.set('a marker packet after the last packet', Buffer.concat([plain, Buffer.from('a803504750', 'hex')]));
  shapes.set(
    'an invalid marker packet after the last packet',
    Buffer.concat([plain, Buffer.from('ca0450475051', 'hex')]),
  );
  shapes.set(
    'bytes after the deflate stream of an open-ended packet',
    Buffer.concat([zipped, Buffer.from('8f3a', 'hex')]),
  );
  shapes.set(
    'bytes after the signature inside the compressed packet',
    zip(Buffer.concat([plain, Buffer.from('8f3a', 'hex')])),
  );
  shapes.set('wrong hash prefix', badPrefix);
  shapes.set('wrong hash prefix, compressed', zip(badPrefix));
}, 120_000);

afterAll(async () => {
  await gnupg?.cleanup();
  if (dir) await fs.rm(dir, { recursive: true, force: true });
});

async function skopeoVerdict(name: string, blob: Buffer): Promise<boolean> {
  const file = path.join(dir, `${name.replace(/\W+/g, '-')}.sig`);
  await fs.writeFile(file, blob);
  const r = await skopeo(['standalone-verify', path.join(dir, 'manifest.json'), IMAGE, fpr, file], { env: gnupg.env });
  return r.code === 0;
}

const verdict = (blob: Buffer, side: 'host' | 'guest') =>
  verifySignature(blob, keyring, side).then(
    () => true,
    () => false,
  );

describe('packet shapes', () => {
  it('the host decides each as skopeo (gpgme) does', async () => {
    const table: Record<string, { skopeo: boolean; host: boolean }> = {};
    for (const [name, blob] of shapes)
      table[name] = { skopeo: await skopeoVerdict(name, blob), host: await verdict(blob, 'host') };
    for (const [name, row] of Object.entries(table)) expect(row.host, name).toBe(row.skopeo);
    // gpg reads these: BZip2, nesting, a wrong hash prefix, data after the end of a deflate stream.
    for (const name of [
      'gpg --compress-algo bzip2',
      'ZIP inside ZIP',
      'ZIP inside ZIP inside ZIP',
      'wrong hash prefix',
      'a marker packet after the last packet',
      'bytes after the deflate stream of an open-ended packet',
    ])
      expect(table[name]?.host, name).toBe(true);
    // gpg verifies the signature but reports "no data" for the garbage that follows: gpgme fails the verify.
    expect(table['random bytes after the last packet']?.skopeo).toBe(false);
  }, 120_000);

  it('the guest (rPGP) reads BZip2 and nested packets, and refuses a wrong hash prefix', async () => {
    expect(await verdict(shapes.get('gpg --compress-algo bzip2')!, 'guest')).toBe(true);
    expect(await verdict(shapes.get('ZIP inside ZIP inside ZIP')!, 'guest')).toBe(true);
    const e = await verifySignature(shapes.get('wrong hash prefix')!, keyring, 'guest').catch((x: unknown) => x);
    expect(e).toMatchObject({
      code: 'E_SIG_BAD',
      reason: 'signature verify failed! There is no pubkey can verify the signature!',
    });
  });
});
