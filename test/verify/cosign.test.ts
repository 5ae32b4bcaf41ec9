/** sigstoreSigned with a static cosign key (docs/guest-vs-host.md §8), against a signature image served by a test fetcher. */
import { generateKeyPairSync, sign as cryptoSign } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openRootfsReader, type RootfsReader } from '../../src/rootfs/reader.js';
import { defaultSignatureBackend, verifyImage, type CosignFetcher, type SideDecision } from '../../src/verify/index.js';
import { tempDir, writeTree } from './fixtures.js';
import { parseGuestRelease } from '../../src/releases/guest-components.js';

const IMAGE = 'registry.example.com/ns/app:1.0';
const DIGEST = `sha256:${'4'.repeat(64)}`;
const LIST_DIGEST = `sha256:${'5'.repeat(64)}`;
const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const other = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const pem = (k: typeof ec) => k.publicKey.export({ type: 'spki', format: 'pem' }).toString();

let root: string;
let rootfs: RootfsReader;
beforeAll(async () => {
  root = await tempDir('cosign');
  await writeTree(root, { 'keys/cosign.pub': pem(ec) });
  rootfs = await openRootfsReader(root);
});
afterAll(async () => {
  await rootfs.close();
  await fs.rm(root, { recursive: true, force: true });
});

function layer(key: typeof ec, digest = DIGEST, wrapEvery = 0) {
  const payload = new TextEncoder().encode(
    JSON.stringify({
      critical: {
        identity: { 'docker-reference': 'registry.example.com/ns/app' },
        image: { 'docker-manifest-digest': digest },
        type: 'cosign container image signature',
      },
      optional: null,
    }),
  );
  let signature = cryptoSign('sha256', payload, key.privateKey).toString('base64');
  if (wrapEvery) signature = signature.replace(new RegExp(`(.{${wrapEvery}})`, 'g'), '$1\n');
  return { payload, signature };
}

function fetcher(layers: ReturnType<typeof layer>[]): CosignFetcher {
  return (image, digest) =>
    Promise.resolve({
      reference: `registry.example.com/ns/app:${digest.replace(':', '-')}.sig`,
      layers: image === IMAGE ? layers : [],
    });
}

async function judgeReport(
  requirement: Record<string, unknown>,
  layers: ReturnType<typeof layer>[],
  sigstore = '',
  guestRelease?: string,
) {
  const policy = {
    default: [{ type: 'reject' }],
    transports: { docker: { 'registry.example.com/ns/app': [{ type: 'sigstoreSigned', ...requirement }] } },
  };
  const report = await verifyImage(
    {
      image: IMAGE,
      manifest: { digest: DIGEST, listDigest: LIST_DIGEST },
      policy: { bytes: new TextEncoder().encode(JSON.stringify(policy)), source: 'policy.json' },
      ...(sigstore ? { sigstoreConfig: { bytes: new TextEncoder().encode(sigstore), source: 'registries.d' } } : {}),
      resources: { get: () => Promise.resolve(undefined) },
      rootfs,
      cosign: fetcher(layers),
      ...(guestRelease ? { guestRelease: parseGuestRelease(guestRelease) } : {}),
    },
    'both',
    defaultSignatureBackend,
  );
  return report;
}

async function judge(
  requirement: Record<string, unknown>,
  layers: ReturnType<typeof layer>[],
  sigstore = '',
): Promise<SideDecision[]> {
  return (await judgeReport(requirement, layers, sigstore)).decisions;
}

/** The guest needs `sigstore:` in every entry; the host needs use-sigstore-attachments to read cosign signatures. */
const ATTACHMENTS =
  'docker:\n  registry.example.com:\n    sigstore: file:///sigs\n    use-sigstore-attachments: true\n';

describe('sigstoreSigned (cosign, static key)', () => {
  it('ECDSA P-256 key from keyPath: allowed by the guest; the host reads cosign signatures only with use-sigstore-attachments', async () => {
    const report = await judgeReport({ keyPath: '/keys/cosign.pub' }, [layer(ec)]);
    const [guest, host] = report.decisions;
    expect(guest?.allowed).toBe(true);
    expect(host?.message).toBe('Source image rejected: A signature was required, but no signature exists');
    expect(report.divergences.map((d) => d.rule)).toEqual(['cosign attachments']);
    const [, host2] = await judge(
      { keyPath: '/keys/cosign.pub', signedIdentity: { type: 'matchRepository' } },
      [layer(ec)],
      ATTACHMENTS,
    );
    expect(host2?.allowed).toBe(true);
  });

  it('keyData is the PEM itself for the guest (base64 of it for the host)', async () => {
    const [guest, host] = await judge({ keyData: pem(ec) }, [layer(ec)]);
    expect(guest?.allowed).toBe(true);
    expect(host?.message).toBe('invalid policy in "policy.json": illegal base64 data at input byte 0');
    const [guestB64, hostB64] = await judge(
      { keyData: Buffer.from(pem(ec)).toString('base64'), signedIdentity: { type: 'matchRepository' } },
      [layer(ec)],
      ATTACHMENTS,
    );
    expect(guestB64?.chain[1]).toMatch(/^failed to build public key verifier: /);
    expect(hostB64?.allowed).toBe(true);
  });

  it('RSA keys verify too; newlines in the signature annotation are stripped', async () => {
    const [guest] = await judge({ keyData: pem(rsa) }, [layer(rsa, DIGEST, 40)]);
    expect(guest?.allowed).toBe(true);
  });

  it('older guests: ECDSA P-256 only before v0.19.0, no newlines before v0.18.0, no manifest-list digest before v0.19.0', async () => {
    const guestAt = async (release: string, req: Record<string, unknown>, l: ReturnType<typeof layer>) =>
      (await judgeReport(req, [l], '', release)).decisions[0]?.allowed;
    expect(await guestAt('v0.19.0', { keyData: pem(rsa) }, layer(rsa))).toBe(true);
    expect(await guestAt('v0.18.0', { keyData: pem(rsa) }, layer(rsa))).toBe(false);
    expect(await guestAt('v0.18.0', { keyData: pem(ec) }, layer(ec, DIGEST, 40))).toBe(true);
    expect(await guestAt('v0.17.0', { keyData: pem(ec) }, layer(ec, DIGEST, 40))).toBe(false);
    expect(await guestAt('v0.17.0', { keyData: pem(ec) }, layer(ec))).toBe(true);
    expect(await guestAt('v0.19.0', { keyData: pem(ec) }, layer(ec, LIST_DIGEST))).toBe(true);
    expect(await guestAt('v0.18.0', { keyData: pem(ec) }, layer(ec, LIST_DIGEST))).toBe(false);
  });

  it('a signature by another key is denied', async () => {
    const [guest] = await judge({ keyData: pem(ec) }, [layer(other)]);
    expect(guest?.allowed).toBe(false);
    expect(guest?.message).toBe('Image policy rejected: Denied by policy: rejected by `sigstoreSigned` rule');
  });

  it('payload digest: the manifest digest or, for multi-arch, the manifest-list digest (guest); every layer must match', async () => {
    const listReport = await judgeReport(
      { keyPath: '/keys/cosign.pub', signedIdentity: { type: 'matchRepository' } },
      [layer(ec, LIST_DIGEST)],
      ATTACHMENTS,
    );
    const [guest, host] = listReport.decisions;
    expect(guest?.allowed).toBe(true);
    expect(host?.message).toBe(`Source image rejected: Signature for digest ${LIST_DIGEST} does not match`);
    expect(listReport.divergences.map((d) => d.rule)).toEqual(['cosign payload checks']);
    const [mixed] = await judge({ keyData: pem(ec) }, [layer(ec), layer(ec, `sha256:${'6'.repeat(64)}`)]);
    expect(mixed?.chain[1]).toBe('Manifest digest does not match signature.');
  });

  it('signedIdentity other than matchRepository/exactRepository: `Denied by MatchExact` before any fetch', async () => {
    const [guest] = await judge({ keyData: pem(ec), signedIdentity: { type: 'matchExact' } }, [layer(ec)]);
    expect(guest?.chain[1]).toBe('Denied by MatchExact');
    const [exact] = await judge(
      {
        keyData: pem(ec),
        signedIdentity: { type: 'exactRepository', dockerRepository: 'registry.example.com/ns/app' },
      },
      [layer(ec)],
    );
    expect(exact?.allowed).toBe(true);
  });

  it('no signature image: denied', async () => {
    const [guest] = await judge({ keyData: pem(ec) }, []);
    expect(guest?.allowed).toBe(false);
  });
});
