/**
 * Inputs for stage tests: real OpenPGP keys and simple signatures (made by the project's signer),
 * a lookaside signature store on disk, registry certificates made with openssl, and a StageInput
 * shaped as loadBundle returns it.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import * as openpgp from 'openpgp';
import { readPublicKeyring } from '../../src/keys/index.js';
import { signImage } from '../../src/signature/sign.js';
import type { StageInput } from '../../src/stage/types.js';
import type { Policy } from '../../src/policy/schema.js';

const exec = promisify(execFile);

export const REGISTRY = 'registry.example.com:5000';

export interface TestKey {
  key: openpgp.PrivateKey;
  publicBytes: Uint8Array;
  fingerprint: string;
}

export async function makeKey(name: string): Promise<TestKey> {
  const { privateKey, publicKey } = await openpgp.generateKey({
    type: 'ecc',
    curve: 'curve25519Legacy',
    userIDs: [{ name, email: `${name}@example.com` }],
    format: 'object',
  });
  return { key: privateKey, publicBytes: publicKey.write(), fingerprint: publicKey.getFingerprint().toUpperCase() };
}

export function digestOf(text: string): string {
  return `sha256:${createHash('sha256').update(text).digest('hex')}`;
}

/** Writes `<store>/<repo>@sha256=<hex>/signature-1` for each image and returns the digests. */
export async function makeStore(
  store: string,
  key: TestKey,
  images: Array<{ reference: string; repo: string; digest?: string }>,
): Promise<string[]> {
  const digests: string[] = [];
  for (const img of images) {
    const digest = img.digest ?? digestOf(img.reference);
    const blob = await signImage({ key: key.key, dockerReference: img.reference, manifestDigest: digest });
    const dir = path.join(store, `${img.repo}@sha256=${digest.slice(7)}`);
    await fs.mkdir(dir, { recursive: true });
    await fs.writeFile(path.join(dir, 'signature-1'), blob);
    digests.push(digest);
  }
  return digests;
}

export async function makeInput(
  key: TestKey,
  options: { caPem?: string; address?: string; keyPath?: string; policyScope?: string; sigstore?: string } = {},
): Promise<StageInput> {
  const scope = options.policyScope ?? REGISTRY;
  const keyring = await readPublicKeyring(key.publicBytes, { file: 'test-key' });
  const requirement = options.keyPath
    ? { type: 'signedBy' as const, keyType: 'GPGKeys', keyPath: options.keyPath }
    : { type: 'signedBy' as const, keyType: 'GPGKeys', keyData: Buffer.from(key.publicBytes).toString('base64') };
  const policy: Policy = {
    default: [{ type: 'reject' }],
    transports: {
      docker: { [scope]: [requirement], 'docker.io/library/busybox': [{ type: 'insecureAcceptAnything' }] },
    },
  };
  return {
    policy,
    sigstoreConfig: {
      'default-docker': { sigstore: options.sigstore ?? 'file:///var/lib/containers/sigstore' },
      docker: {},
    },
    registries: [
      {
        registry: REGISTRY,
        ...(options.caPem ? { caPem: options.caPem, caFile: '/bundle/registry-ca.crt' } : {}),
        ...(options.address ? { address: options.address } : {}),
      },
    ],
    guestKeyFiles: options.keyPath
      ? [{ guestPath: options.keyPath, bytes: key.publicBytes, sourceFile: '/bundle/keys/signer.gpg' }]
      : [],
    keyrings: [{ scope, keyring, sourceFile: '/bundle/keys/signer.gpg' }],
  };
}

/** A CA certificate (CA:TRUE) as openssl makes it; with `cn` naming a host it is the server's own self-signed certificate. */
export async function makeCaCert(dir: string, cn: string, san?: string): Promise<string> {
  await fs.mkdir(dir, { recursive: true });
  const crt = path.join(dir, `${cn}.crt`);
  await exec('openssl', [
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-days',
    '2',
    '-subj',
    `/CN=${cn}`,
    '-keyout',
    path.join(dir, `${cn}.key`),
    '-out',
    crt,
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    ...(san ? ['-addext', `subjectAltName=${san}`] : []),
  ]);
  return fs.readFile(crt, 'utf8');
}

/**
 * A stage input in `work`: a new signer's public key in keys/, a CA certificate (`caName`), a store
 * of `images` signed images (team/app<i>:v1 of REGISTRY) and bundle.yaml trusting the key for REGISTRY
 * at a guest keyPath, with the CA and a hosts address. Returns the bundle.yaml path.
 */
export async function writeStageInput(work: string, images: number, caName: string): Promise<string> {
  const key = await makeKey('signer');
  await fs.mkdir(path.join(work, 'keys'));
  await fs.writeFile(path.join(work, 'keys/signer.gpg'), key.publicBytes);
  await fs.writeFile(path.join(work, 'ca.crt'), await makeCaCert(path.join(work, 'certs'), caName));
  await makeStore(
    path.join(work, 'store'),
    key,
    Array.from({ length: images }, (_x, i) => ({ reference: `${REGISTRY}/team/app${i}:v1`, repo: `team/app${i}` })),
  );
  const cfg = path.join(work, 'bundle.yaml');
  await fs.writeFile(
    cfg,
    [
      'policy:',
      '  default: [{type: reject}]',
      '  scopes:',
      `    "${REGISTRY}":`,
      '      - type: signedBy',
      '        keys: [keys/signer.gpg]',
      '        keyPath: /etc/containers/keys/signer.gpg',
      'signatures: [store]',
      'registries:',
      `  "${REGISTRY}":`,
      '    caFile: ca.crt',
      '    address: 192.0.2.10',
      '',
    ].join('\n'),
  );
  return cfg;
}
