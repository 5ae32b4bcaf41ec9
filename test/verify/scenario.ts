/**
 * Small guest-vs-host scenarios: a policy, a sigstore config, signatures made in the test with the
 * containers/image fixture key (secring.gpg, no passphrase), a directory rootfs; both sides judged.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import * as openpgp from 'openpgp';
import { parseReference } from '../../src/reference/index.js';
import { parseHostRelease } from '../../src/releases/containers-image.js';
import { parseGuestRelease } from '../../src/releases/guest-components.js';
import { openRootfsReader } from '../../src/rootfs/reader.js';
import {
  defaultSignatureBackend,
  verifyImage,
  type HttpGetter,
  type SideDecision,
  type VerifyReport,
} from '../../src/verify/index.js';
import { CI_FIXTURES } from '../helpers/paths.js';
import { tempDir, writeTree } from './fixtures.js';

export const TEST_KEY_FPR = '08CD26E446E2E95249B7A405E932F44B23E8DD43';
export const DIGEST = `sha256:${'1'.repeat(64)}`;
export const IMAGE = 'registry.example.com/ns/app:1.0';
export const IMAGE_FULL = 'registry.example.com/ns/app:1.0';

let secretKey: openpgp.PrivateKey | undefined;
async function testKey(): Promise<openpgp.PrivateKey> {
  if (!secretKey) {
    const keys = await openpgp.readPrivateKeys({
      binaryKeys: await fs.readFile(path.join(CI_FIXTURES, 'secring.gpg')),
    });
    const key = keys.find((k) => k.getFingerprint().toUpperCase() === TEST_KEY_FPR);
    if (!key) throw new Error('test key not in secring.gpg');
    secretKey = key;
  }
  return secretKey;
}

export function payloadText(
  reference: string,
  digest = DIGEST,
  extra: { critical?: string; optional?: string | null; type?: string } = {},
): string {
  const optional =
    extra.optional === undefined ? '{"creator":"kbs-bundler test","timestamp":1700000000}' : extra.optional;
  const critical = `{"identity":{"docker-reference":${JSON.stringify(reference)}},"image":{"docker-manifest-digest":${JSON.stringify(digest)}},"type":${JSON.stringify(extra.type ?? 'atomic container signature')}${extra.critical ?? ''}}`;
  return optional === null ? `{"critical":${critical}}` : `{"critical":${critical},"optional":${optional}}`;
}

/** A binary signed message over `payload` by the fixture test key (as skopeo would write it). */
export async function sign(payload: string): Promise<Uint8Array> {
  const message = await openpgp.createMessage({ binary: new TextEncoder().encode(payload) });
  return openpgp.sign({ message, signingKeys: await testKey(), format: 'binary' }) as Promise<Uint8Array>;
}

export async function publicKeyData(file = 'public-key.gpg'): Promise<string> {
  return (await fs.readFile(path.join(CI_FIXTURES, file))).toString('base64');
}

export async function signedByKeyData(extra: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
  return { type: 'signedBy', keyType: 'GPGKeys', keyData: await publicKeyData(), ...extra };
}

export interface Scenario {
  image?: string;
  digest?: string;
  manifest?: Uint8Array;
  listDigest?: string;
  policy: unknown;
  /** Sigstore config YAML; null for none at all. */
  sigstore?: string | null;
  /** Signature files by name, in the store directory of the image. */
  signatures?: Record<string, Uint8Array>;
  /** Store directory (default `/sigs/<repo>@sha256=<hex>`). */
  storeDir?: string;
  files?: Record<string, string | Uint8Array>;
  /** KBS resources by `<repo>/<type>/<tag>`. */
  resources?: Record<string, Uint8Array>;
  http?: HttpGetter;
  /** `--guest-release` / `--host-release` (default: the current ones). */
  guestRelease?: string;
  hostRelease?: string;
}

export const SIGSTORE_DEFAULT = 'default-docker:\n  sigstore: file:///sigs\n  lookaside: file:///sigs\n';

export async function judgeBoth(
  s: Scenario,
): Promise<{ report: VerifyReport; guest: SideDecision; host: SideDecision }> {
  const root = await tempDir('scenario');
  try {
    const digest = s.digest ?? DIGEST;
    const image = s.image ?? IMAGE;
    let repoPath = 'unparsable';
    try {
      repoPath = parseReference(image).repository;
    } catch {
      // the verifier itself reports the bad reference
    }
    const storeDir = s.storeDir ?? `sigs/${repoPath}@${digest.replace(':', '=')}`;
    const files: Record<string, string | Uint8Array> = { ...(s.files ?? {}) };
    for (const [name, bytes] of Object.entries(s.signatures ?? {})) files[`${storeDir}/${name}`] = bytes;
    await writeTree(root, files);
    await fs.mkdir(path.join(root, 'sigs'), { recursive: true });
    const rootfs = await openRootfsReader(root);
    const policyBytes = new TextEncoder().encode(typeof s.policy === 'string' ? s.policy : JSON.stringify(s.policy));
    const report = await verifyImage(
      {
        image,
        manifest: {
          digest,
          ...(s.manifest ? { bytes: s.manifest } : {}),
          ...(s.listDigest ? { listDigest: s.listDigest } : {}),
        },
        policy: { bytes: policyBytes, source: 'policy.json' },
        ...(s.sigstore === null
          ? {}
          : {
              sigstoreConfig: {
                bytes: new TextEncoder().encode(s.sigstore ?? SIGSTORE_DEFAULT),
                source: 'sigstore-config',
              },
            }),
        resources: { get: (p) => Promise.resolve(s.resources?.[p]) },
        ...(s.guestRelease ? { guestRelease: parseGuestRelease(s.guestRelease) } : {}),
        ...(s.hostRelease ? { hostRelease: parseHostRelease(s.hostRelease) } : {}),
        rootfs,
        ...(s.http ? { http: s.http } : {}),
      },
      'both',
      defaultSignatureBackend,
    );
    await rootfs.close();
    const [guest, host] = report.decisions as [SideDecision, SideDecision];
    return { report, guest, host };
  } finally {
    await fs.rm(root, { recursive: true, force: true });
  }
}

/** A policy whose only docker scope is the test image's repository. */
export function scoped(requirements: unknown[], scope = 'registry.example.com/ns/app'): unknown {
  return { default: [{ type: 'reject' }], transports: { docker: { [scope]: requirements } } };
}
