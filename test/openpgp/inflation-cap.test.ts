/**
 * A signature just under the 4 MiB containers/image allows, made of 1,024 compressed packets that would
 * inflate to 4 MiB each (4 GiB in all): every packet draws on one budget, so the check stops at the cap,
 * quickly and in little memory (measured in a process of its own, through the compiled library).
 */
import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { deflateRawSync } from 'node:zlib';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { MAX_SIGNATURE_SIZE } from '../../src/openpgp/message.js';
import { makeGnupgHome, type GnupgHome } from '../helpers/gpg.js';
import { REPO_ROOT } from '../helpers/paths.js';

let gnupg: GnupgHome;
let dir: string;

beforeAll(async () => {
  gnupg = await makeGnupgHome();
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'kbsb-bomb-'));
});

afterAll(async () => {
  await gnupg?.cleanup();
  if (dir) await fs.rm(dir, { recursive: true, force: true });
});

/** Each compressed packet holds one 4 MiB literal data packet (zeros): valid packets, so all would be read. */
function bomb(packets: number): Buffer {
  const inflated = Buffer.alloc(4 * 1024 * 1024);
  inflated[0] = 0xae; // old format, tag 11 (literal data), 4-byte length
  inflated.writeUInt32BE(inflated.length - 5, 1);
  const body = Buffer.concat([Buffer.from([1]), deflateRawSync(inflated)]);
  const header = Buffer.from([0xa1, body.length >> 8, body.length & 0xff]); // old format, tag 8, 2-byte length
  return Buffer.concat(Array.from({ length: packets }, () => Buffer.concat([header, body])));
}

it('a 1,024-packet compression bomb is refused at the inflation cap, in little memory', async () => {
  const fpr = await gnupg.generateKey('Bomb', 'bomb@example.com', { algo: 'rsa2048' });
  await fs.writeFile(path.join(dir, 'key.gpg'), await gnupg.exportPublic(fpr));
  const blob = bomb(1024);
  expect(blob.length).toBeLessThan(MAX_SIGNATURE_SIZE);
  await fs.writeFile(path.join(dir, 'bomb.sig'), blob);
  const script = `
    import { readFileSync } from 'node:fs';
    import { readPublicKeyring, verifySignature } from ${JSON.stringify(path.join(REPO_ROOT, 'dist/index.js'))};
    const keyring = await readPublicKeyring(readFileSync(${JSON.stringify(path.join(dir, 'key.gpg'))}), {});
    const blob = readFileSync(${JSON.stringify(path.join(dir, 'bomb.sig'))});
    const reasons = [];
    for (const side of ['host', 'guest']) await verifySignature(blob, keyring, side).then(() => reasons.push('allowed'), (e) => reasons.push(e.reason));
    console.log(JSON.stringify({ reasons, maxRssMiB: process.resourceUsage().maxRSS / 1024 }));
  `;
  const started = Date.now();
  const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script]);
  const result = JSON.parse(stdout) as { reasons: string[]; maxRssMiB: number };
  expect(result.reasons).toEqual([
    'signature error: decompressed data exceed the size limit',
    'Failed to decompress signature packet',
  ]);
  expect(result.maxRssMiB).toBeLessThan(200);
  expect(Date.now() - started).toBeLessThan(20_000);
}, 60_000);
