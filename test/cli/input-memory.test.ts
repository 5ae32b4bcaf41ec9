/**
 * Whatever is given as an input file — a 1 GiB file of zeros, /dev/zero — the CLI refuses it after reading no
 * more than the format can need: exit 2 within seconds and a peak resident size under 200 MiB (read from the
 * child's /proc status while it runs). A FIFO where a rootfs or a store directory is expected is an error too.
 */
import { spawn } from 'node:child_process';
import { promises as fs, readFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CI_FIXTURES, CLI, TEMPLATES } from '../helpers/paths.js';
import { runCli } from '../helpers/run-cli.js';
import { runProcess } from '../helpers/run-process.js';

const MiB = 1024 * 1024;
const KEY = path.join(CI_FIXTURES, 'public-key.gpg');
const DIGEST = `sha256:${'a'.repeat(64)}`;
let work: string;
let zeros: string;

beforeAll(async () => {
  work = await fs.mkdtemp(path.join(os.tmpdir(), 'kbs-input-memory-'));
  zeros = path.join(work, 'zeros');
  const handle = await fs.open(zeros, 'w');
  await handle.truncate(1024 * MiB);
  await handle.close();
  await fs.mkdir(path.join(work, 'store'));
  await fs.writeFile(path.join(work, 'bundle.yaml'), 'policy:\n  default: [{type: signedBy, keys: [zeros]}]\n');
});
afterAll(async () => {
  await fs.rm(work, { recursive: true, force: true });
});

/** Runs the CLI and samples its peak resident size (VmHWM) until it exits. */
function runMeasured(args: string[]): Promise<{ code: number; stderr: string; peakBytes: number; ms: number }> {
  const started = Date.now();
  const child = spawn(process.execPath, [CLI, ...args], { cwd: work, env: { ...process.env, NO_COLOR: '1' } });
  let stderr = '';
  let peakKiB = 0;
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdout.resume();
  const sample = () => {
    try {
      const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
      if (m) peakKiB = Math.max(peakKiB, Number(m[1]));
    } catch {
      // exited between samples: the last sample stands
    }
  };
  const timer = setInterval(sample, 10);
  return new Promise((resolve) => {
    child.on('exit', () => sample());
    child.on('close', (code) => {
      clearInterval(timer);
      resolve({ code: code ?? -1, stderr, peakBytes: peakKiB * 1024, ms: Date.now() - started });
    });
  });
}

describe('inputs far larger than their format', () => {
  it.each([
    [
      'audit --keys <1 GiB of zeros>',
      () => ['audit', '--store', 'store', '--keys', zeros],
      'more than a keyring can be',
    ],
    [
      'audit --policy <1 GiB of zeros>',
      () => ['audit', '--store', 'store', '--policy', zeros],
      'more than a policy can be',
    ],
    [
      'sign --manifest /dev/zero',
      () => ['sign', '--key', KEY, '--reference', 'a.io/b:c', '--store', 'store', '--manifest', '/dev/zero'],
      'more than a manifest can be',
    ],
    [
      'verify --manifest /dev/zero',
      () => ['verify', 'a.io/b:c', '--policy', zeros, '--manifest', '/dev/zero'],
      'more than a manifest can be',
    ],
    [
      'verify --policy <1 GiB of zeros>',
      () => ['verify', 'a.io/b:c', '--policy', zeros, '--digest', DIGEST],
      'more than a policy can be',
    ],
    [
      'verify --kbs <1 GiB of zeros>',
      () => ['verify', 'a.io/b:c', '--kbs', zeros, '--digest', DIGEST],
      'more than a KBS repository can be',
    ],
    [
      'render pod --initdata /dev/zero',
      () => ['render', 'pod', '--image', 'a.io/b:c', '--initdata', '/dev/zero'],
      'more than an initdata can be',
    ],
    ['lint --initdata /dev/zero', () => ['lint', '--initdata', '/dev/zero'], 'more than an initdata can be'],
    [
      'render initdata-digest <1 GiB of zeros>',
      () => ['render', 'initdata-digest', zeros],
      'more than an initdata can be',
    ],
    [
      'sign --passphrase-file /dev/zero',
      () => [
        'sign',
        '--key',
        KEY,
        '--passphrase-file',
        '/dev/zero',
        '--reference',
        'a.io/b:c',
        '--store',
        'store',
        '--digest',
        DIGEST,
      ],
      'more than a passphrase can be',
    ],
  ])('%s: exit 2 at once, under 200 MiB', async (_, args, problem) => {
    const r = await runMeasured(args());
    expect(r.stderr).toContain(problem);
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(r.code).toBe(2);
    expect(r.peakBytes).toBeGreaterThan(0);
    expect(r.peakBytes).toBeLessThan(200 * MiB);
    expect(r.ms).toBeLessThan(20_000);
  });
});

describe('a KBS repository directory whose resource is far larger than its format', () => {
  /** A repository directory (nested or flat layout) holding `relative` as a 1 GiB sparse file. */
  const repositoryWith = async (name: string, relative: string): Promise<string> => {
    const dir = path.join(work, name);
    await fs.mkdir(path.dirname(path.join(dir, relative)), { recursive: true });
    const handle = await fs.open(path.join(dir, relative), 'w');
    await handle.truncate(1024 * MiB);
    await handle.close();
    return dir;
  };

  it.each([
    ['verify --kbs', 'nested', 'default/security-policy/test', 'is larger than 16 MiB, more than a policy can be'],
    [
      'verify --kbs',
      'flat',
      'repository/default\\x2Fsigstore-config\\x2Ftest',
      'is larger than 4 MiB, more than a sigstore config can be',
    ],
    ['lint --kbs', 'nested', 'default/security-policy/test', 'is larger than 16 MiB, more than a policy can be'],
  ])('%s DIR (%s layout, 1 GiB %s): exit 2 at once, under 200 MiB', async (command, layout, relative, problem) => {
    const dir = await repositoryWith(`kbs-${command.split(' ')[0]}-${layout}`, relative);
    if (layout === 'flat')
      await fs.writeFile(
        path.join(dir, 'repository/default\\x2Fsecurity-policy\\x2Ftest'),
        '{"default":[{"type":"insecureAcceptAnything"}],"transports":{}}',
      );
    const args =
      command === 'lint --kbs' ? ['lint', '--kbs', dir] : ['verify', 'a.io/b:c', '--kbs', dir, '--digest', DIGEST];
    const r = await runMeasured(args);
    expect(r.stderr.trimEnd()).toBe(`kbs-bundler: ${path.join(dir, relative)}: ${problem}`);
    expect(r.code).toBe(2);
    expect(r.peakBytes).toBeGreaterThan(0);
    expect(r.peakBytes).toBeLessThan(200 * MiB);
    expect(r.ms).toBeLessThan(20_000);
  });
});

describe('a FIFO where a directory is expected', () => {
  it.each([
    [
      'verify --rootfs',
      (fifo: string) => ['verify', 'a.io/b:c', '--policy', KEY, '--rootfs', fifo, '--digest', DIGEST],
      'is neither a directory, a disk image nor an initrd',
    ],
    [
      'stage --rootfs',
      (fifo: string) => ['stage', '-c', path.join(TEMPLATES, 'example/bundle.yaml'), '--rootfs', fifo, '--dry-run'],
      'is neither a directory, a disk image nor an initrd',
    ],
    [
      'audit --store',
      (fifo: string) => ['audit', '--store', fifo, '--keys', KEY],
      'is neither a directory nor a tar archive',
    ],
  ])('%s is refused without blocking on it', async (_, args, problem) => {
    const fifo = path.join(work, 'a.fifo');
    await fs.rm(fifo, { force: true });
    expect((await runProcess('mkfifo', [fifo])).code).toBe(0);
    const r = await runCli(args(fifo), { cwd: work });
    expect(r.stderr.trim()).toBe(`kbs-bundler: ${fifo}: ${problem}`);
    expect(r.code).toBe(2);
  });
});
