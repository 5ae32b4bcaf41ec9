/** A throwaway GNUPGHOME for tests: generate keys with gpg, export them, kill the agent and remove the dir. */
import { execFile, spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import { promisify } from 'node:util';
import { afterAll, beforeAll } from 'vitest';

const run = promisify(execFile);

export interface GenerateKeyOptions {
  passphrase?: string;
  /** gpg --quick-gen-key algo, e.g. 'rsa3072' (default), 'rsa2048', 'ed25519'. */
  algo?: string;
  /** gpg expire spec: 'never' (default), '1d', '2030-01-01', or an ISO timestamp like '20200101T000000'. */
  expire?: string;
  /** Usage for the primary key (default 'sign'). */
  usage?: string;
  /** Pretend the key is made at this time (gpg --faked-system-time, e.g. '20200101T000000'): with `expire: '1d'`
   *  this gives a key that has already expired. */
  createdAt?: string;
}

export interface GnupgHome {
  home: string;
  /** process.env plus GNUPGHOME, for child processes (skopeo --sign-by, gpg). */
  env: NodeJS.ProcessEnv;
  gpg(args: string[], input?: string | Buffer): Promise<{ code: number; stdout: Buffer; stderr: string }>;
  generateKey(name: string, email: string, opts?: GenerateKeyOptions): Promise<string>;
  exportPublic(fpr: string, armor?: boolean): Promise<Buffer>;
  exportSecret(fpr: string, armor?: boolean, passphrase?: string): Promise<Buffer>;
  cleanup(): Promise<void>;
}

/** GNUPGHOME under /tmp with a short name (the gpg-agent socket path is length-limited), mode 0700. */
export async function makeGnupgHome(): Promise<GnupgHome> {
  const home = await fs.mkdtemp('/tmp/kg-');
  await fs.chmod(home, 0o700);
  const env: NodeJS.ProcessEnv = { ...process.env, GNUPGHOME: home };

  const gpg = (args: string[], input?: string | Buffer) =>
    new Promise<{ code: number; stdout: Buffer; stderr: string }>((resolve, reject) => {
      const child = spawn('gpg', ['--batch', '--no-tty', ...args], { env, stdio: ['pipe', 'pipe', 'pipe'] });
      const out: Buffer[] = [];
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => out.push(d));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('error', reject);
      child.on('close', (code) => resolve({ code: code ?? -1, stdout: Buffer.concat(out), stderr }));
      child.stdin.on('error', () => undefined); // gpg may exit without reading stdin (EPIPE): its exit code tells
      child.stdin.end(input ?? '');
    });

  const must = async (args: string[], what: string) => {
    const r = await gpg(args);
    if (r.code !== 0) throw new Error(`gpg ${what} failed (${r.code}): ${r.stderr}`);
    return r.stdout;
  };

  const generateKey = async (name: string, email: string, opts: GenerateKeyOptions = {}) => {
    const uid = `${name} <${email}>`;
    const pass = opts.passphrase ?? '';
    const faked = opts.createdAt ? ['--faked-system-time', `${opts.createdAt}!`] : [];
    await must(
      [
        ...faked,
        '--pinentry-mode',
        'loopback',
        '--passphrase',
        pass,
        '--quick-gen-key',
        uid,
        opts.algo ?? 'rsa3072',
        opts.usage ?? 'sign',
        opts.expire ?? 'never',
      ],
      'key generation',
    );
    const listing = (await must(['--with-colons', '--fingerprint', '--list-keys', `=${uid}`], 'list-keys')).toString();
    // The newest key with this uid: the last "fpr" line following a "pub" line.
    let fpr: string | undefined;
    let afterPub = false;
    for (const line of listing.split('\n')) {
      const fields = line.split(':');
      if (fields[0] === 'pub') afterPub = true;
      else if (fields[0] === 'fpr' && afterPub) {
        fpr = fields[9];
        afterPub = false;
      }
    }
    if (!fpr) throw new Error(`gpg: no fingerprint found for ${uid}`);
    return fpr;
  };

  const exportPublic = (fpr: string, armor = false) => must([...(armor ? ['--armor'] : []), '--export', fpr], 'export');
  const exportSecret = (fpr: string, armor = false, passphrase = '') =>
    must(
      [
        ...(armor ? ['--armor'] : []),
        '--pinentry-mode',
        'loopback',
        '--passphrase',
        passphrase,
        '--export-secret-keys',
        fpr,
      ],
      'export-secret-keys',
    );

  const cleanup = async () => {
    await run('gpgconf', ['--kill', 'all'], { env }).catch(() => undefined);
    await fs.rm(home, { recursive: true, force: true });
  };
  return { home, env, gpg, generateKey, exportPublic, exportSecret, cleanup };
}

/** Three RSA keys that differ in expiry: never-expiring, expiring in two years, expired since 2020. */
export async function generateExpiryVariety(
  gpg: GnupgHome,
): Promise<{ plain: string; expiring: string; expired: string }> {
  const plain = await gpg.generateKey('plain', 'plain@example.com');
  const expiring = await gpg.generateKey('exp', 'exp@example.com', { expire: '2y' });
  const expired = await gpg.generateKey('old', 'old@example.com', { expire: '1d', createdAt: '20200101T000000' });
  return { plain, expiring, expired };
}

/** A GnupgHome for the tests of the enclosing describe block: made before them, removed after. */
export function useGnupgHome(): () => GnupgHome {
  let home: GnupgHome | undefined;
  beforeAll(async () => {
    home = await makeGnupgHome();
  }, 60_000);
  afterAll(async () => {
    await home?.cleanup();
  });
  return () => home as GnupgHome;
}
