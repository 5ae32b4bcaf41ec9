/** Runs the real skopeo (1.9.3) for tests, and pushes umoci-built images to a TestRegistry, signed or not. */
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { GnupgHome } from './gpg.js';
import type { TestRegistry } from './registry.js';
import { runProcess, type ProcessResult } from './run-process.js';

export type SkopeoResult = ProcessResult;

export interface SkopeoOptions {
  env?: NodeJS.ProcessEnv;
  /** --policy FILE; without it --insecure-policy is passed. */
  policyFile?: string;
  /** --registries.d DIR; without it an empty dir is used so the machine's configuration does not leak in. */
  registriesDir?: string;
  /** Credentials: --authfile (inspect, …) or --src-authfile/--dest-authfile (copy). */
  authFile?: string;
  /** CA dir: --cert-dir (inspect, …) or --src-cert-dir/--dest-cert-dir (copy). */
  certDir?: string;
}

const COPY_LIKE = new Set(['copy', 'sync']);
const SINGLE_SIDE = new Set(['inspect', 'delete', 'list-tags']);

export async function skopeo(args: string[], options: SkopeoOptions = {}): Promise<SkopeoResult> {
  let emptyDir: string | undefined;
  let registriesDir = options.registriesDir;
  if (!registriesDir) {
    emptyDir = await fs.mkdtemp(path.join(os.tmpdir(), 'kbsb-regd-'));
    registriesDir = emptyDir;
  }
  const global = [
    options.policyFile ? `--policy=${options.policyFile}` : '--insecure-policy',
    `--registries.d=${registriesDir}`,
  ];
  const [sub, ...rest] = args;
  const perCommand: string[] = [];
  if (sub && COPY_LIKE.has(sub)) {
    if (options.authFile) perCommand.push(`--src-authfile=${options.authFile}`, `--dest-authfile=${options.authFile}`);
    if (options.certDir) perCommand.push(`--src-cert-dir=${options.certDir}`, `--dest-cert-dir=${options.certDir}`);
  } else if (sub && SINGLE_SIDE.has(sub)) {
    if (options.authFile) perCommand.push(`--authfile=${options.authFile}`);
    if (options.certDir) perCommand.push(`--cert-dir=${options.certDir}`);
  }
  const argv = [...global, ...(sub ? [sub] : []), ...perCommand, ...rest];
  try {
    return await runProcess('skopeo', argv, { env: options.env });
  } finally {
    if (emptyDir) await fs.rm(emptyDir, { recursive: true, force: true });
  }
}

/** Throws with skopeo's stderr unless it exited 0. */
export async function skopeoOk(args: string[], options: SkopeoOptions = {}): Promise<SkopeoResult> {
  const r = await skopeo(args, options);
  if (r.code !== 0) throw new Error(`skopeo ${args.join(' ')} failed (${r.code}): ${r.stderr}`);
  return r;
}

/** A registries.d file pointing `host`'s lookaside (read) and lookaside-staging (write) at `dir`. */
export async function writeRegistriesD(registriesDir: string, host: string, lookasideDir: string): Promise<void> {
  await fs.mkdir(registriesDir, { recursive: true });
  const url = `file://${path.resolve(lookasideDir)}`;
  await fs.writeFile(
    path.join(registriesDir, `${host.replace(/[^A-Za-z0-9.-]/g, '_')}.yaml`),
    `docker:\n  ${host}:\n    lookaside: ${url}\n    lookaside-staging: ${url}\n`,
  );
}

export interface PushOptions {
  /** 'oci:<dir>:<tag>' (from buildOciImage) or any skopeo source. */
  ociRef: string;
  registry: TestRegistry;
  /** 'repo/path:tag' inside the registry. */
  dest: string;
  /** Sign with this gpg key (needs `gnupg` and `lookasideStagingDir`). */
  signBy?: string;
  gnupg?: GnupgHome;
  /** Passphrase of the signing key, if it has one. */
  passphrase?: string;
  /** Where skopeo writes the signature: `<dir>/<repo>@sha256=<hex>/signature-1`. */
  lookasideStagingDir?: string;
}

export interface PushResult {
  /** 'sha256:<hex>' of the manifest as stored in the registry. */
  digest: string;
  /** '127.0.0.1:PORT/repo:tag' */
  reference: string;
}

export async function pushImage(o: PushOptions): Promise<PushResult> {
  const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'kbsb-push-'));
  try {
    const digestFile = path.join(tmp, 'digest');
    const args = ['copy', `--digestfile=${digestFile}`];
    let registriesDir: string | undefined;
    if (o.lookasideStagingDir) {
      registriesDir = path.join(tmp, 'registries.d');
      await fs.mkdir(o.lookasideStagingDir, { recursive: true });
      await writeRegistriesD(registriesDir, o.registry.host, o.lookasideStagingDir);
    }
    if (o.signBy) {
      if (!o.gnupg) throw new Error('pushImage: signBy needs gnupg');
      if (!o.lookasideStagingDir) throw new Error('pushImage: signBy needs lookasideStagingDir');
      args.push(`--sign-by=${o.signBy}`);
      if (o.passphrase !== undefined) {
        const passFile = path.join(tmp, 'passphrase');
        await fs.writeFile(passFile, o.passphrase, { mode: 0o600 });
        args.push(`--sign-passphrase-file=${passFile}`);
      }
    }
    if (o.registry.scheme === 'http') args.push('--dest-tls-verify=false');
    const reference = `${o.registry.host}/${o.dest}`;
    args.push(o.ociRef, `docker://${reference}`);
    await skopeoOk(args, {
      env: o.gnupg?.env ?? process.env,
      authFile: o.registry.authFile,
      certDir: o.registry.certDir,
      ...(registriesDir ? { registriesDir } : {}),
    });
    const digest = (await fs.readFile(digestFile, 'utf8')).trim();
    return { digest, reference };
  } finally {
    await fs.rm(tmp, { recursive: true, force: true });
  }
}

/** The raw manifest bytes as skopeo reads them from the registry, and their sha256 digest. */
export async function inspectRaw(
  registry: TestRegistry,
  repoAndTagOrDigest: string,
): Promise<{ bytes: Buffer; digest: string }> {
  const r = await skopeoOk(['inspect', '--raw', `docker://${registry.host}/${repoAndTagOrDigest}`], {
    authFile: registry.authFile,
    certDir: registry.certDir,
  });
  const bytes = Buffer.from(r.stdout, 'utf8');
  return { bytes, digest: `sha256:${createHash('sha256').update(bytes).digest('hex')}` };
}
