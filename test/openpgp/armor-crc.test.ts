/**
 * An armored public or secret key whose CRC-24 line does not match its data: gpg refuses to import it
 * ("CRC error; <computed> - <stored>"), and so do `audit --keys` and `sign --key`: one line naming the
 * file, exit 2, nothing written.
 */
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { makeGnupgHome, type GnupgHome } from '../helpers/gpg.js';
import { runCli } from '../helpers/run-cli.js';

let gnupg: GnupgHome;
let dir: string;
let fpr: string;

beforeAll(async () => {
  gnupg = await makeGnupgHome();
  fpr = await gnupg.generateKey('Crc', 'crc@example.com', { algo: 'rsa2048' });
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'kbsb-crc-'));
}, 60_000);

afterAll(async () => {
  await gnupg?.cleanup();
  if (dir) await fs.rm(dir, { recursive: true, force: true });
});

/** The armored key with its checksum line replaced. */
function badChecksum(armored: Buffer): string {
  const text = armored.toString();
  const line = /^=[A-Za-z0-9+/]{4}$/m.exec(text)![0];
  return text.replace(line, line === '=AAAA' ? '=BBBB' : '=AAAA');
}

/** What gpg says when importing `file` into an empty keyring: its "CRC error; …" text. */
async function gpgCrcError(file: string): Promise<string> {
  const empty = await makeGnupgHome();
  try {
    const r = await empty.gpg(['--import', file]);
    expect(r.code).not.toBe(0);
    return /CRC error; [0-9A-F]{6} - [0-9A-F]{6}/.exec(r.stderr)![0];
  } finally {
    await empty.cleanup();
  }
}

it('audit --keys refuses a public key with a bad CRC-24 as gpg does', async () => {
  const file = path.join(dir, 'public.asc');
  await fs.writeFile(file, badChecksum(await gnupg.exportPublic(fpr, true)));
  await fs.mkdir(path.join(dir, 'store'));
  const r = await runCli(['audit', '--store', path.join(dir, 'store'), '--keys', file]);
  expect(r.code).toBe(2);
  expect(r.stdout).toBe('');
  expect(r.stderr.trim().split('\n')).toEqual([`kbs-bundler: ${file}: armored key: ${await gpgCrcError(file)}`]);
});

it('sign --key refuses a secret key with a bad CRC-24 and writes nothing', async () => {
  const file = path.join(dir, 'secret.asc');
  await fs.writeFile(file, badChecksum(await gnupg.exportSecret(fpr, true)));
  const store = path.join(dir, 'signatures');
  const r = await runCli([
    'sign',
    '--key',
    file,
    '--reference',
    'registry.example.com/a:1',
    '--digest',
    `sha256:${'2'.repeat(64)}`,
    '--store',
    store,
  ]);
  expect(r.code).toBe(2);
  expect(r.stderr.trim().split('\n')).toEqual([`kbs-bundler: ${file}: armored key: ${await gpgCrcError(file)}`]);
  expect(r.stderr).not.toContain('PRIVATE KEY');
  await expect(fs.stat(store)).rejects.toThrow();
});
