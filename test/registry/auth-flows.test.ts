import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseReference } from '../../src/reference/index.js';
import { RegistryError, fetchManifest } from '../../src/registry/index.js';
import type { AuthsFile } from '../../src/registry/auths-schema.js';
import { buildOciImage } from '../helpers/oci-image.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import { inspectRaw, pushImage } from '../helpers/skopeo.js';

describe('bearer token flow and plain http', () => {
  let tokenRegistry: TestRegistry;
  let httpRegistry: TestRegistry;
  let tmp: string;
  let ociRef: string;

  beforeAll(async () => {
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'kbsb-authflows-'));
    [tokenRegistry, httpRegistry, ociRef] = await Promise.all([
      startRegistry({ tokenAuth: true }),
      startRegistry({ http: true }),
      buildOciImage(path.join(tmp, 'img'), '1.0'),
    ]);
  });
  afterAll(async () => {
    await tokenRegistry?.stop();
    await httpRegistry?.stop();
    await fs.rm(tmp, { recursive: true, force: true });
  });

  it('answers a Bearer challenge: token from the realm with the credential, then the manifest', async () => {
    const pushed = await pushImage({ ociRef, registry: tokenRegistry, dest: 'team/app:1' });
    const before = tokenRegistry.tokensIssued?.() ?? 0;
    const got = await fetchManifest(parseReference(`${tokenRegistry.host}/team/app:1`), {
      auths: JSON.parse(await fs.readFile(tokenRegistry.authFile, 'utf8')) as AuthsFile,
      caPems: [await fs.readFile(tokenRegistry.caFile, 'utf8')],
    });
    expect(tokenRegistry.tokensIssued?.()).toBe(before + 1);
    expect(got.digest).toBe(pushed.digest);
    expect(got.digest).toBe((await inspectRaw(tokenRegistry, 'team/app:1')).digest);
  });

  it('reports a token refused for a wrong password as an auth failure', async () => {
    const wrong = `not-${tokenRegistry.password}`;
    const auths = {
      auths: { [tokenRegistry.host]: { auth: Buffer.from(`${tokenRegistry.username}:${wrong}`).toString('base64') } },
    };
    const e = await fetchManifest(parseReference(`${tokenRegistry.host}/team/app:1`), {
      auths,
      caPems: [await fs.readFile(tokenRegistry.caFile, 'utf8')],
    }).catch((x: unknown) => x as RegistryError);
    expect(e).toBeInstanceOf(RegistryError);
    expect((e as RegistryError).code).toBe('E_REGISTRY_AUTH');
    expect((e as RegistryError).message).toBe(
      `authentication failed for ${tokenRegistry.host} (credential from auths key "${tokenRegistry.host}"): UNAUTHORIZED: bad credentials`,
    );
    expect((e as RegistryError).message).not.toContain(wrong);
  });

  it("refuses a self-signed CA:TRUE server certificate as the guest's rustls does, unless allowed (skopeo accepts it)", async () => {
    const guideStyle = await startRegistry({ selfSignedCaLeaf: true });
    try {
      const pushed = await pushImage({ ociRef, registry: guideStyle, dest: 'guide/app:1' });
      const ref = parseReference(`${guideStyle.host}/guide/app:1`);
      const options = {
        auths: JSON.parse(await fs.readFile(guideStyle.authFile, 'utf8')) as AuthsFile,
        caPems: [await fs.readFile(guideStyle.caFile, 'utf8')],
      };
      const e = await fetchManifest(ref, options).catch((x: unknown) => x as RegistryError);
      expect((e as RegistryError).code).toBe('E_REGISTRY_TLS');
      expect((e as RegistryError).message).toContain(
        `registry ${guideStyle.host} presents a CA certificate (basicConstraints CA:TRUE) as its server certificate: the guest's rustls refuses it (CaUsedAsEndEntity)`,
      );
      expect((await fetchManifest(ref, { ...options, allowCaLeaf: true })).digest).toBe(pushed.digest);
    } finally {
      await guideStyle.stop();
    }
  });

  it('uses plain http only with insecure, and explains https sent to an http port', async () => {
    const pushed = await pushImage({ ociRef, registry: httpRegistry, dest: 'plain/app:1' });
    const ref = parseReference(`${httpRegistry.host}/plain/app:1`);
    const auths = JSON.parse(await fs.readFile(httpRegistry.authFile, 'utf8')) as AuthsFile;
    expect((await fetchManifest(ref, { auths, insecure: true })).digest).toBe(pushed.digest);
    const e = await fetchManifest(ref, { auths }).catch((x: unknown) => x as RegistryError);
    expect((e as RegistryError).code).toBe('E_REGISTRY_TLS');
    expect((e as RegistryError).message).toBe(
      `TLS handshake with registry ${httpRegistry.host} failed: it does not answer TLS (plain http?); use --insecure only for an http registry`,
    );
  });
});
