/**
 * The working inputs of a hostile-input run, all valid: the example bundle (with its own registry
 * password), a passphrase-protected signing key made by `keygen`, a KBS repository made by `build`, a
 * guest rootfs, a signature store. The bad inputs are made beside them; a command given a bad input must
 * leave every file here as it was, and never print a secret.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { promises as fs, readFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { expect } from 'vitest';
import { CLI, TEMPLATES } from '../helpers/paths.js';
import { runCli, type CliResult } from '../helpers/run-cli.js';
import { makeGuestTree } from '../rootfs/images.js';

export const IMAGE = 'registry.example.com:5000/demo/app:1.0';
export const DIGEST = 'sha256:61e2c29bbf7dcec97c6abbd027fa3a2260689e60a7dcbd28c716eb4a8d328f2c';

export interface Workspace {
  dir: string;
  /** The registry password (first), the signing key's passphrase, and lines of the secret keys' armor. */
  secrets: string[];
  /** Removes everything. */
  cleanup(): Promise<void>;
}

export async function makeWorkspace(prefix: string): Promise<Workspace> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), prefix));
  await fs.cp(path.join(TEMPLATES, 'example'), dir, { recursive: true });
  const password = `pw-${createHash('sha256').update(dir).digest('hex').slice(0, 20)}`;
  const passphrase = `pp-${createHash('sha256').update(password).digest('hex').slice(0, 20)}`;
  await fs.writeFile(path.join(dir, 'registry-password'), `${password}\n`);
  await fs.writeFile(path.join(dir, 'passphrase'), `${passphrase}\n`);
  const keygen = await runCli(
    ['keygen', '--name', 'Hostile', '--email', 'hostile@example.com', '--algorithm', 'ed25519'].concat([
      '--passphrase-file',
      'passphrase',
      '--basename',
      'signer',
    ]),
    { cwd: dir },
  );
  expect(keygen.code, keygen.stderr).toBe(0);
  const built = await runCli(['build', '-c', 'bundle.yaml', '-o', 'kbs'], { cwd: dir });
  expect(built.code, built.stderr).toBe(0);
  await makeGuestTree(path.join(dir, 'rootfs'));
  const secretLines = (text: string) =>
    text
      .split('\n')
      .filter((l) => /^[A-Za-z0-9+/]{60,}$/.test(l))
      .slice(2, 6);
  const secrets = [
    password,
    passphrase,
    // the password as the auth value of auth.json and the credential resource
    Buffer.from(`demo:${password}`).toString('base64'),
    ...secretLines(await fs.readFile(path.join(dir, 'signer.sec.asc'), 'utf8')),
    ...secretLines(await fs.readFile(path.join(dir, 'EXAMPLE-ONLY-secret-key.asc'), 'utf8')),
  ];
  return { dir, secrets, cleanup: () => fs.rm(dir, { recursive: true, force: true }) };
}

/**
 * Every entry under `dir`: type, mode and content digest (link target for links; size and mtime for a
 * file over 1 MiB, which here are only the sparse oversized inputs).
 */
export async function snapshotTree(dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const walk = async (rel: string): Promise<void> => {
    const entries = await fs.readdir(path.join(dir, rel), { withFileTypes: true });
    for (const e of entries) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      const abs = path.join(dir, r);
      const st = await fs.lstat(abs);
      const mode = (st.mode & 0o7777).toString(8);
      if (st.isSymbolicLink()) out.set(r, `link ${await fs.readlink(abs)}`);
      else if (st.isDirectory()) {
        out.set(r, `dir ${mode}`);
        await walk(r);
      } else if (!st.isFile()) out.set(r, `special ${mode} ${st.rdev}`);
      else if (st.size > 1024 * 1024) out.set(r, `file ${mode} ${st.size} ${st.mtimeMs}`);
      else
        out.set(
          r,
          `file ${mode} ${createHash('sha256')
            .update(await fs.readFile(abs))
            .digest('hex')}`,
        );
    }
  };
  await walk('');
  return out;
}

/** The entries that differ between two snapshots, one per line. */
export function snapshotDiff(before: Map<string, string>, after: Map<string, string>): string[] {
  const out: string[] = [];
  for (const [p, v] of after) if (before.get(p) !== v) out.push(`${before.has(p) ? 'changed' : 'added'} ${p}`);
  for (const p of before.keys()) if (!after.has(p)) out.push(`removed ${p}`);
  return out;
}

/** Which of `secrets` a command printed (stdout or stderr). */
export function leakedSecrets(r: CliResult, secrets: readonly string[]): string[] {
  return secrets.filter((s) => r.stdout.includes(s) || r.stderr.includes(s));
}

/** Runs `jobs` with at most `width` at once, in order of start. */
export async function inPool<T>(jobs: Array<() => Promise<T>>, width: number): Promise<T[]> {
  const results: T[] = new Array<T>(jobs.length);
  let next = 0;
  const worker = async () => {
    while (next < jobs.length) {
      const i = next++;
      results[i] = await jobs[i]!();
    }
  };
  await Promise.all(Array.from({ length: Math.min(width, jobs.length) }, worker));
  return results;
}

export interface CappedResult extends CliResult {
  /** Why the run was stopped: it outlived `timeoutMs`, or its memory passed `maxRssMiB`. */
  stopped?: 'timeout' | 'memory';
  peakRssMiB: number;
}

/** Resident memory of a process in MiB, 0 once it is gone. */
function rssMiB(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : 0;
  } catch {
    return 0;
  }
}

/**
 * The CLI run as runCli runs it, but stopped (SIGKILL) when it runs longer than `timeoutMs` or its
 * resident memory passes `maxRssMiB`: a hostile input must not hang a command or fill the machine.
 */
export function runCapped(
  args: string[],
  options: { cwd: string; timeoutMs?: number; maxRssMiB?: number; env?: NodeJS.ProcessEnv },
): Promise<CappedResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      cwd: options.cwd,
      env: { ...process.env, NO_COLOR: '1', ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let stopped: CappedResult['stopped'];
    let peak = 0;
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      stopped = 'timeout';
      child.kill('SIGKILL');
    }, options.timeoutMs ?? 20_000);
    const watch = setInterval(() => {
      peak = Math.max(peak, rssMiB(child.pid!));
      if (peak > (options.maxRssMiB ?? 400)) {
        stopped ??= 'memory';
        child.kill('SIGKILL');
      }
    }, 50);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      clearInterval(watch);
      resolve({ code: code ?? -1, stdout, stderr, peakRssMiB: Math.round(peak), ...(stopped ? { stopped } : {}) });
    });
  });
}
