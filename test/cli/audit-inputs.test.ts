/**
 * `audit` with the wrong files: one line naming the file and the problem, exit 2, never the content of a
 * file that may hold a secret, and never more memory than the inputs' formats can need.
 */
import { spawn } from 'node:child_process';
import { promises as fs, readFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createGzip } from 'node:zlib';
import { pipeline } from 'node:stream/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CI_FIXTURES } from '../helpers/paths.js';
import { expectFailureStdout, runCli, type CliResult } from '../helpers/run-cli.js';
import { runProcess } from '../helpers/run-process.js';

const SECRET = 'S3cr3t-PassW0rd';
const DIGEST = 'sha256:20bf21ed457b390829cdbeec8795a7bea1626991fda603e0d01b4e7f60427e55';
const KEY = path.join(CI_FIXTURES, 'public-key.gpg');
let work: string;
let store: string;
let password: string;

beforeAll(async () => {
  work = await fs.mkdtemp(path.join(os.tmpdir(), 'kbs-audit-inputs-'));
  store = path.join(work, 'store');
  const dir = path.join(store, `busybox@sha256=${DIGEST.slice(7)}`);
  await fs.mkdir(dir, { recursive: true });
  await fs.writeFile(path.join(dir, 'signature-1'), readFileSync(path.join(CI_FIXTURES, 'dir-img-valid/signature-1')));
  password = path.join(work, 'registry-password');
  await fs.writeFile(password, `${SECRET}\n`);
});
afterAll(async () => {
  await fs.rm(work, { recursive: true, force: true });
});

async function auditRun(args: string[]) {
  return runCli(['audit', '--store', store, ...args], { cwd: work });
}

function expectOneLine(r: CliResult, line: string | RegExp): void {
  expectFailureStdout(r);
  expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
  if (typeof line === 'string') expect(r.stderr.trimEnd()).toBe(line);
  else expect(r.stderr.trimEnd()).toMatch(line);
  expect(r.code).toBe(2);
}

describe('audit never quotes a file given as the wrong input', () => {
  it('a password file as --policy: the file, the position and the problem, never the password', async () => {
    for (const json of [[], ['--json']]) {
      const r = await auditRun(['--keys', KEY, '--policy', password, ...json]);
      expectOneLine(r, `kbs-bundler: ${password}: is not JSON: expected value at line 1 column 1`);
      expect(r.stdout + r.stderr).not.toContain(SECRET);
      expect(r.stdout + r.stderr).not.toContain(SECRET.slice(0, 6));
    }
  });

  it('a password file as --keys', async () => {
    const r = await auditRun(['--keys', password]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(password);
    expect(r.stdout + r.stderr).not.toContain(SECRET.slice(0, 6));
  });

  it('a password file as --store', async () => {
    const r = await runCli(['audit', '--store', password, '--keys', KEY]);
    expect(r.code).toBe(2);
    expect(r.stdout + r.stderr).not.toContain(SECRET.slice(0, 6));
  });

  it('a policy with a typo of a required field names the typo', async () => {
    const policy = path.join(work, 'typo-policy.json');
    await fs.writeFile(
      policy,
      JSON.stringify({ default: [{ type: 'signedBy', keyTyp: 'GPGKeys', keyPath: KEY }], transports: {} }),
    );
    const r = await auditRun(['--policy', policy]);
    expectOneLine(r, `kbs-bundler: ${policy}: default.0.keyTyp: unknown field`);
  });
});

describe('audit --jobs', () => {
  it.each(['100000', '1e9', '0', '65'])('--jobs %s is a usage error', async (jobs) => {
    const r = await auditRun(['--keys', KEY, '--jobs', jobs]);
    expectOneLine(r, 'kbs-bundler: --jobs: must be a whole number from 1 to 64');
  });
});

describe('audit reads no more than the formats need', () => {
  it('a 1 GiB sparse file as --keys is refused at once', async () => {
    const big = path.join(work, 'zeros.gpg');
    const handle = await fs.open(big, 'w');
    await handle.truncate(1024 * 1024 * 1024);
    await handle.close();
    const started = Date.now();
    const r = await auditRun(['--keys', big]);
    expectOneLine(r, `kbs-bundler: ${big}: --keys: is larger than 8 MiB, more than a keyring can be`);
    expect(Date.now() - started).toBeLessThan(20_000);
    await fs.rm(big);
  });

  it('/dev/zero as --keys stops at the limit', async () => {
    const r = await auditRun(['--keys', '/dev/zero']);
    expectOneLine(r, 'kbs-bundler: /dev/zero: --keys: is larger than 8 MiB, more than a keyring can be');
  });

  it('a FIFO (process substitution) as --keys is read as before', async () => {
    const fifo = path.join(work, 'keys.fifo');
    expect((await runProcess('mkfifo', [fifo])).code).toBe(0);
    const writer = spawn('sh', ['-c', 'cat "$1" > "$2"', 'sh', KEY, fifo], { stdio: 'ignore' });
    const written = new Promise((resolve) => writer.on('close', resolve));
    const r = await auditRun(['--keys', fifo, '--json']);
    await written;
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(JSON.stringify(JSON.parse(r.stdout))).toContain('signature-1');
  });

  it('a gzip tar store of many 4 MiB signatures stops at the store limit', async () => {
    const tarball = path.join(work, 'big.tar.gz');
    const { pack } = await import('tar-stream');
    const p = pack();
    const filled = Buffer.alloc(4 * 1024 * 1024, 0x41);
    const writing = pipeline(p, createGzip({ level: 1 }), (await import('node:fs')).createWriteStream(tarball));
    for (let i = 0; i < 40; i++) {
      p.entry({ name: `busybox@sha256=${DIGEST.slice(7)}/signature-${i + 1}`, size: filled.length }, filled);
    }
    p.finalize();
    await writing;
    const r = await runCli(['audit', '--store', tarball, '--keys', KEY, '--jobs', '1']);
    expectOneLine(
      r,
      `kbs-bundler: ${tarball}: holds more than 64 MiB of signatures, more than a signature store can hold`,
    );
  });
});
