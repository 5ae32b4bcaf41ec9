import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseReference } from '../../src/reference/index.js';
import { RegistryError, fetchBlob, fetchManifest, type FetchOptions } from '../../src/registry/index.js';
import type { AuthsFile } from '../../src/registry/auths-schema.js';
import { buildOciImage } from '../helpers/oci-image.js';
import { blobDataPath, freePort, putManifest, startRegistry, type TestRegistry } from '../helpers/registry.js';
import { inspectRaw, pushImage } from '../helpers/skopeo.js';

async function rejection(p: Promise<unknown>): Promise<RegistryError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(RegistryError);
    return e as RegistryError;
  }
  throw new Error('expected a rejection');
}

describe('fetchManifest against docker-registry (TLS + htpasswd)', () => {
  let registry: TestRegistry;
  let tmp: string;
  let options: FetchOptions;
  let amd64: { digest: string };
  let arm64: { digest: string };

  beforeAll(async () => {
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'kbsb-fetch-'));
    registry = await startRegistry({ dnsNames: ['registry.test'] });
    options = {
      auths: JSON.parse(await fs.readFile(registry.authFile, 'utf8')) as AuthsFile,
      caPems: [await fs.readFile(registry.caFile, 'utf8')],
    };
    const [a, b] = await Promise.all([
      buildOciImage(path.join(tmp, 'a'), '1.0', { marker: 'amd64' }),
      buildOciImage(path.join(tmp, 'b'), '1.0', { marker: 'arm64' }),
    ]);
    amd64 = await pushImage({ ociRef: a, registry, dest: 'team/app:amd64' });
    arm64 = await pushImage({ ociRef: b, registry, dest: 'team/app:arm64' });
  });
  afterAll(async () => {
    await registry?.stop();
    await fs.rm(tmp, { recursive: true, force: true });
  });

  it('returns the bytes and digest skopeo sees, by tag and by digest', async () => {
    const got = await fetchManifest(parseReference(`${registry.host}/team/app:amd64`), options);
    const oracle = await inspectRaw(registry, 'team/app:amd64');
    expect(got.digest).toBe(amd64.digest);
    expect(got.digest).toBe(oracle.digest);
    expect(Buffer.from(got.bytes).equals(oracle.bytes)).toBe(true);
    expect(got.mediaType).toBe('application/vnd.oci.image.manifest.v1+json');
    expect(got.listDigest).toBeUndefined();

    const byDigest = await fetchManifest(parseReference(`${registry.host}/team/app@${amd64.digest}`), options);
    expect(byDigest.digest).toBe(amd64.digest);
  });

  it('fetches blobs checked against their digest', async () => {
    const ref = parseReference(`${registry.host}/team/app:amd64`);
    const manifest = JSON.parse(Buffer.from((await fetchManifest(ref, options)).bytes).toString()) as {
      config: { digest: string };
    };
    const config = JSON.parse(Buffer.from(await fetchBlob(ref, manifest.config.digest, options)).toString()) as {
      config: { Cmd: string[] };
    };
    expect(config.config.Cmd).toEqual(['/bin/sh']);
  });

  it('resolves an OCI index to the platform manifest and reports the list digest', async () => {
    const entry = async (digest: string, platform: object) => {
      const bytes = (await inspectRaw(registry, `team/app@${digest}`)).bytes;
      return { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest, size: bytes.length, platform };
    };
    const index = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.index.v1+json',
        manifests: [
          await entry(arm64.digest, { os: 'linux', architecture: 'arm64', variant: 'v8' }),
          await entry(amd64.digest, { os: 'linux', architecture: 'amd64' }),
        ],
      }),
    );
    const indexDigest = await putManifest(
      registry,
      'team/app',
      'multi',
      index,
      'application/vnd.oci.image.index.v1+json',
    );
    expect((await inspectRaw(registry, 'team/app:multi')).digest).toBe(indexDigest);

    const ref = parseReference(`${registry.host}/team/app:multi`);
    const def = await fetchManifest(ref, options);
    expect(def).toMatchObject({ digest: amd64.digest, listDigest: indexDigest });
    expect((await fetchManifest(ref, { ...options, platform: 'linux/arm64' })).digest).toBe(arm64.digest);
    expect((await fetchManifest(ref, { ...options, platform: 'linux/arm64/v8' })).digest).toBe(arm64.digest);
    const e = await rejection(fetchManifest(ref, { ...options, platform: 'linux/s390x' }));
    expect(e.code).toBe('E_REGISTRY_NO_PLATFORM');
    expect(e.message).toContain('no manifest for linux/s390x (has: linux/arm64/v8, linux/amd64)');
  });

  it('refuses a wrong password, naming the auths key and never the password', async () => {
    const wrong = `wrong-${registry.password}`;
    const auths = {
      auths: { [`${registry.host}/team`]: { auth: Buffer.from(`${registry.username}:${wrong}`).toString('base64') } },
    };
    const e = await rejection(fetchManifest(parseReference(`${registry.host}/team/app:amd64`), { ...options, auths }));
    expect(e.code).toBe('E_REGISTRY_AUTH');
    expect(e.status).toBe(401);
    expect(e.message).toContain(
      `authentication failed for ${registry.host} (credential from auths key "${registry.host}/team")`,
    );
    expect(e.message).not.toContain(wrong);
    expect(JSON.stringify(e)).not.toContain(wrong);
  });

  it('says when no credential matches', async () => {
    const e = await rejection(
      fetchManifest(parseReference(`${registry.host}/team/app:amd64`), { ...options, auths: { auths: {} } }),
    );
    expect(e.code).toBe('E_REGISTRY_AUTH');
    expect(e.message).toContain(
      `registry ${registry.host} requires authentication and no auths entry matches ${registry.host}/team/app`,
    );
  });

  it('reports an unknown tag and an unknown repository as not found', async () => {
    const e = await rejection(fetchManifest(parseReference(`${registry.host}/team/app:nope`), options));
    expect(e.code).toBe('E_REGISTRY_NOT_FOUND');
    expect(e.message).toBe(
      `manifest ${registry.host}/team/app:nope not found in registry ${registry.host} (MANIFEST_UNKNOWN: manifest unknown)`,
    );
    const r = await rejection(fetchManifest(parseReference(`${registry.host}/nobody/here:1`), options));
    expect(r.code).toBe('E_REGISTRY_NOT_FOUND');
    expect(r.message).toContain(`manifest ${registry.host}/nobody/here:1 not found`);
  });

  it('fails TLS without the CA, and explains http sent to the https port', async () => {
    const ref = parseReference(`${registry.host}/team/app:amd64`);
    const untrusted = await rejection(fetchManifest(ref, { auths: options.auths }));
    expect(untrusted.code).toBe('E_REGISTRY_TLS');
    expect(untrusted.message).toContain(
      `TLS certificate of registry ${registry.host} not trusted: SELF_SIGNED_CERT_IN_CHAIN; give the registry's CA certificate (the bundle's caFile or --ca-file)`,
    );
    const plain = await rejection(fetchManifest(ref, { ...options, insecure: true }));
    expect(plain.code).toBe('E_REGISTRY_TLS');
    expect(plain.message).toBe(
      `registry ${registry.host} speaks https, but was asked over plain http; drop --insecure`,
    );
  });

  it('reports a closed port as unreachable', async () => {
    const port = await freePort();
    const e = await rejection(fetchManifest(parseReference(`127.0.0.1:${port}/team/app:1`), options));
    expect(e.code).toBe('E_REGISTRY_UNREACHABLE');
    expect(e.message).toBe(
      `cannot reach registry 127.0.0.1:${port} (https://127.0.0.1:${port}/v2/team/app/manifests/1): connection refused`,
    );
  });

  it('connects to the address given for a host name, verifying TLS for the name', async () => {
    const port = registry.host.split(':')[1];
    const name = `registry.test:${port}`;
    const auths = {
      auths: { [name]: { auth: Buffer.from(`${registry.username}:${registry.password}`).toString('base64') } },
    };
    const ref = parseReference(`${name}/team/app:amd64`);
    const got = await fetchManifest(ref, { ...options, auths, addresses: { 'registry.test': '127.0.0.1' } });
    expect(got.digest).toBe(amd64.digest);
    const wrongName = await rejection(
      fetchManifest(parseReference(`other.test:${port}/team/app:amd64`), {
        ...options,
        addresses: { 'other.test': '127.0.0.1' },
      }),
    );
    expect(wrongName.code).toBe('E_REGISTRY_TLS');
    expect(wrongName.message).toBe(
      `TLS certificate of registry other.test:${port} not trusted: ERR_TLS_CERT_ALTNAME_INVALID; the certificate does not name this host (check its subjectAltName)`,
    );
    const e = await rejection(
      fetchManifest(parseReference(`registry.test:${port}/team/app:amd64`), { ...options, auths }),
    );
    expect(e.code).toBe('E_REGISTRY_UNREACHABLE');
    expect(e.message).toMatch(/unknown host|host name lookup failed/);
  });

  it('caps the response size', async () => {
    const e = await rejection(
      fetchManifest(parseReference(`${registry.host}/team/app:amd64`), { ...options, maxBytes: 100 }),
    );
    expect(e.code).toBe('E_REGISTRY_TOO_LARGE');
    expect(e.message).toMatch(/^manifest .* from registry .* is \d+ bytes, over the 100-byte limit$/);
  });

  it('detects bytes that do not match the digest the registry announces', async () => {
    const ociRef = await buildOciImage(path.join(tmp, 'c'), '1.0', { marker: 'tamper' });
    const pushed = await pushImage({ ociRef, registry, dest: 'team/tampered:1' });
    const file = blobDataPath(registry, pushed.digest);
    const original = await fs.readFile(file, 'utf8');
    // Same length, still a valid manifest for the registry: only the config size changes.
    const tampered = original.replace(
      /"size":(\d+)/,
      (_m, n: string) => `"size":${n.slice(0, -1)}${(Number(n.slice(-1)) + 1) % 10}`,
    );
    expect(tampered).not.toBe(original);
    await fs.writeFile(file, tampered);
    const e = await rejection(fetchManifest(parseReference(`${registry.host}/team/tampered:1`), options));
    expect(e.code).toBe('E_REGISTRY_DIGEST_MISMATCH');
    expect(e.message).toContain(`expected ${pushed.digest}`);
  });
});
