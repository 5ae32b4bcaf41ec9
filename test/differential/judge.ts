/**
 * Both judges of one case: the case written to a directory (policy.json, sigstore.yaml, rootfs/, kbs/),
 * kbs-bundler's verifier run in-process exactly as `verify --mode image-rs --policy … --sigstore-config …
 * --rootfs … --kbs … --digest …` runs it, and the oracle run as a child process.
 */
import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { openKbsRepository } from '../../src/kbs/read.js';
import type { GuestRelease } from '../../src/releases/guest-components.js';
import { openRootfsReader } from '../../src/rootfs/reader.js';
import { defaultSignatureBackend } from '../../src/verify/default-backend.js';
import { loadVerifyInputs, manifestFromDigest } from '../../src/verify/sources.js';
import { verifyImage } from '../../src/verify/verify-image.js';
import { policyText, sigstoreText, type Case } from './generate.js';

export interface Verdict {
  allowed: boolean;
  /** The side's one-line reason. */
  text: string;
}

/** A placeholder resource: a KBS repository directory must hold at least one. */
const PLACEHOLDER = 'default/placeholder/differential';

export async function writeCase(c: Case, dir: string): Promise<void> {
  await fs.rm(dir, { recursive: true, force: true });
  await fs.mkdir(path.join(dir, 'rootfs'), { recursive: true });
  await fs.writeFile(path.join(dir, 'policy.json'), policyText(c));
  if (c.sigstore) await fs.writeFile(path.join(dir, 'sigstore.yaml'), sigstoreText(c.sigstore));
  const write = async (root: string, rel: string, bytes: Uint8Array) => {
    const target = path.join(root, rel);
    await fs.mkdir(path.dirname(target), { recursive: true });
    await fs.writeFile(target, bytes);
  };
  for (const [p, blob] of Object.entries(c.rootfs)) await write(path.join(dir, 'rootfs'), p, blob.bytes);
  for (const [p, blob] of Object.entries({ ...c.kbs, [PLACEHOLDER]: { label: '', bytes: new Uint8Array([0]) } }))
    await write(path.join(dir, 'kbs'), p, blob.bytes);
}

export async function judgeOurs(c: Case, dir: string, guestRelease: GuestRelease): Promise<Verdict> {
  const rootfs = await openRootfsReader(path.join(dir, 'rootfs'));
  try {
    const inputs = await loadVerifyInputs({
      image: c.image,
      repository: await openKbsRepository(path.join(dir, 'kbs')),
      policyFile: path.join(dir, 'policy.json'),
      ...(c.sigstore ? { sigstoreConfigFile: path.join(dir, 'sigstore.yaml') } : {}),
      rootfs,
      manifest: manifestFromDigest(c.digest),
      guestRelease,
    });
    const report = await verifyImage(inputs, 'image-rs', defaultSignatureBackend);
    const d = report.decisions[0];
    return { allowed: report.allowed, text: d ? (d.allowed ? 'allow' : d.chain.join(' / ')) : 'no decision' };
  } finally {
    await rootfs.close();
  }
}

/** `allow`, `deny: …`, or undefined with the oracle's reason when it cannot decide (exit 2). */
export function judgeOracle(oracle: string, c: Case, dir: string): Promise<{ verdict?: Verdict; undecided?: string }> {
  const args = ['--policy', path.join(dir, 'policy.json'), '--rootfs', path.join(dir, 'rootfs')];
  if (c.sigstore) args.push('--sigstore-config', path.join(dir, 'sigstore.yaml'));
  args.push('--image', c.image, '--digest', c.digest);
  return new Promise((resolve, reject) => {
    const child = spawn(oracle, args, {
      env: { ...process.env, KBS_DIR: path.join(dir, 'kbs') },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      const line = out.trim();
      if (code === 0) resolve({ verdict: { allowed: true, text: line } });
      else if (code === 1) resolve({ verdict: { allowed: false, text: line.replace(/^deny: /, '') } });
      else resolve({ undecided: line || `exit ${code}` });
    });
  });
}
