/** docs/guest-vs-host.md §5 (where signatures are found): every row, both modes' decisions and words. */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIGEST, IMAGE_FULL, judgeBoth, payloadText, scoped, sign, signedByKeyData } from './scenario.js';
import { httpStoreGetter } from '../../src/verify/registry-access.js';

const HEX = DIGEST.slice('sha256:'.length);
let goodSignature: Uint8Array;
let server: Server;
let serverUrl: string;

beforeAll(async () => {
  goodSignature = await sign(payloadText(IMAGE_FULL));
  // A plain-http lookaside serving signature-1 for the test image, 404 for anything else.
  server = createServer((req, res) => {
    if (req.url === `/store/ns/app@sha256=${HEX}/signature-1`) res.end(Buffer.from(goodSignature));
    else res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  serverUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/store`;
});
afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

describe('§5 signature stores, guest vs host', () => {
  it('an entry with only lookaside: the guest cannot read the config, the host reads lookaside', async () => {
    const { guest, host, report } = await judgeBoth({
      policy: scoped([await signedByKeyData()]),
      sigstore: 'docker:\n  registry.example.com:\n    lookaside: file:///sigs\n',
      signatures: { 'signature-1': goodSignature },
    });
    expect(guest.message).toBe('Initialize signature validator failed: Invalid simple signing sigstore config');
    expect(host.allowed).toBe(true);
    expect(report.divergences[0]?.rule).toBe('lookaside-only sigstore config');
  });

  it('sigstore: is an alias of lookaside on the host and the only key on the guest', async () => {
    const { guest, host } = await judgeBoth({
      policy: scoped([await signedByKeyData()]),
      sigstore: 'docker:\n  registry.example.com/ns:\n    sigstore: file:///sigs\n',
      signatures: { 'signature-1': goodSignature },
    });
    expect([guest.allowed, host.allowed]).toEqual([true, true]);
  });

  it('an http store: the guest fails (`HTTP support …`), the host reads it over http', async () => {
    const { guest, host, report } = await judgeBoth({
      policy: scoped([await signedByKeyData()]),
      sigstore: `docker:\n  registry.example.com:\n    sigstore: ${serverUrl}\n`,
      http: httpStoreGetter({ timeoutMs: 5000 }),
    });
    expect(guest.chain[1]).toBe('HTTP support for signature stores is not implemented.');
    expect(host.allowed).toBe(true);
    expect(host.outcomes[0]?.signatures[0]?.source).toBe(`${serverUrl}/ns/app@sha256=${HEX}/signature-1`);
    expect(report.divergences[0]?.rule).toBe('http signature store');
  });

  it('directory: <base>/<repository without registry>@sha256=<hex>/ on both sides', async () => {
    const { guest, host } = await judgeBoth({
      policy: scoped([await signedByKeyData()]),
      signatures: { 'signature-1': goodSignature },
    });
    expect(guest.outcomes[0]?.signatureLocation).toBe(`file:///sigs/ns/app@sha256=${HEX}`);
    expect(host.outcomes[0]?.signatureLocation).toBe(`file:///sigs/ns/app@sha256=${HEX}`);
  });

  it('files read: the guest reads every file whatever its name, the host only signature-1…N', async () => {
    const { guest, host, report } = await judgeBoth({
      policy: scoped([await signedByKeyData()]),
      signatures: { 'my.sig': goodSignature },
    });
    expect(guest.allowed).toBe(true);
    expect(host.message).toBe('Source image rejected: A signature was required, but no signature exists');
    expect(report.divergences[0]?.rule).toBe('signature file names');
  });

  it('files read: the host stops at the first missing index (signature-2 alone is never read)', async () => {
    const { guest, host } = await judgeBoth({
      policy: scoped([await signedByKeyData()]),
      signatures: { 'signature-2': goodSignature },
    });
    expect(guest.allowed).toBe(true);
    expect(host.message).toBe('Source image rejected: A signature was required, but no signature exists');
  });

  it('directory missing: `Read Sigstore Dir failed: …` / `A signature was required, but no signature exists`', async () => {
    const { guest, host } = await judgeBoth({ policy: scoped([await signedByKeyData()]) });
    expect(guest.chain[1]).toBe(
      `Read Sigstore Dir failed: Os { code: 2, kind: NotFound, message: "No such file or directory" }, path: /sigs/ns/app@sha256=${HEX}`,
    );
    expect(host.message).toBe('Source image rejected: A signature was required, but no signature exists');
  });

  it('no files: `… Reject reason: [Can not find any signatures.]` / same as missing', async () => {
    const { guest, host } = await judgeBoth({
      policy: scoped([await signedByKeyData()]),
      files: { [`sigs/ns/app@sha256=${HEX}/sub/.keep`]: '' },
    });
    expect(guest.chain[1]).toBe('The signatures do not satisfied! Reject reason: [Can not find any signatures.]');
    expect(host.message).toBe('Source image rejected: A signature was required, but no signature exists');
  });

  it('digest used: the platform manifest, never the manifest-list digest (simple signing)', async () => {
    const listDigest = `sha256:${'2'.repeat(64)}`;
    const forList = await sign(payloadText(IMAGE_FULL, listDigest));
    const { guest, host } = await judgeBoth({
      policy: scoped([await signedByKeyData()]),
      listDigest,
      signatures: { 'signature-1': forList },
    });
    expect(guest.chain[1]).toBe(
      `The signatures do not satisfied! Reject reason: [SigPayload's manifest digest does not match, the input is ${DIGEST}, but in SigPayload it is ${listDigest}]`,
    );
    expect(host.message).toBe(`Source image rejected: Signature for digest ${listDigest} does not match`);
  });

  it('digest used by the host: sha256 of the manifest bytes (a signature for other bytes is refused)', async () => {
    const manifest = new TextEncoder().encode('{"schemaVersion":2}');
    const { host } = await judgeBoth({
      policy: scoped([await signedByKeyData()]),
      manifest,
      signatures: { 'signature-1': goodSignature },
    });
    expect(host.message).toBe(`Source image rejected: Signature for digest ${DIGEST} does not match`);
  });
});

describe('§5 an unreadable sigstore config', () => {
  it('fails every pull on both sides, before any rule', async () => {
    const { guest, host, report } = await judgeBoth({
      policy: { default: [{ type: 'insecureAcceptAnything' }], transports: {} },
      sigstore: 'docker: [unclosed\n',
    });
    expect(guest.message).toBe('Initialize signature validator failed: Invalid simple signing sigstore config');
    expect(host.message).toMatch(/^Error parsing signature storage configuration: /);
    expect(report.divergences).toEqual([]);
  });
});
