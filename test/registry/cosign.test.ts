import { createVerify, generateKeyPairSync, sign } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseReference } from '../../src/reference/index.js';
import {
  RegistryError,
  cosignSignatureTag,
  fetchCosignSignatureImage,
  type FetchOptions,
} from '../../src/registry/index.js';
import type { AuthsFile } from '../../src/registry/auths-schema.js';
import { buildOciImage } from '../helpers/oci-image.js';
import { putBlob, putManifest, startRegistry, type TestRegistry } from '../helpers/registry.js';
import { pushImage } from '../helpers/skopeo.js';

describe('fetchCosignSignatureImage', () => {
  let registry: TestRegistry;
  let tmp: string;
  let options: FetchOptions;

  beforeAll(async () => {
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'kbsb-cosign-'));
    registry = await startRegistry();
    options = {
      auths: JSON.parse(await fs.readFile(registry.authFile, 'utf8')) as AuthsFile,
      caPems: [await fs.readFile(registry.caFile, 'utf8')],
    };
  });
  afterAll(async () => {
    await registry?.stop();
    await fs.rm(tmp, { recursive: true, force: true });
  });

  it('returns each layer payload with its signature annotation (newlines stripped)', async () => {
    const pushed = await pushImage({
      ociRef: await buildOciImage(path.join(tmp, 'img')),
      registry,
      dest: 'team/app:1',
    });
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const payload = Buffer.from(
      JSON.stringify({
        critical: {
          identity: { 'docker-reference': `${registry.host}/team/app` },
          image: { 'docker-manifest-digest': pushed.digest },
          type: 'cosign container image signature',
        },
        optional: null,
      }),
    );
    const signature = sign('sha256', payload, privateKey).toString('base64');
    const wrapped = `${signature.slice(0, 20)}\n${signature.slice(20)}\r\n`;

    const layerDigest = await putBlob(registry, 'team/app', payload);
    const config = Buffer.from('{"architecture":"","config":{},"os":"","rootfs":{"type":"layers","diff_ids":[]}}');
    const configDigest = await putBlob(registry, 'team/app', config);
    const manifest = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: configDigest, size: config.length },
        layers: [
          {
            mediaType: 'application/vnd.dev.cosign.simplesigning.v1+json',
            digest: layerDigest,
            size: payload.length,
            annotations: { 'dev.cosignproject.cosign/signature': wrapped },
          },
        ],
      }),
    );
    const tag = cosignSignatureTag(pushed.digest);
    expect(tag).toBe(`sha256-${pushed.digest.slice(7)}.sig`);
    const sigDigest = await putManifest(
      registry,
      'team/app',
      tag,
      manifest,
      'application/vnd.oci.image.manifest.v1+json',
    );

    const got = await fetchCosignSignatureImage(parseReference(`${registry.host}/team/app:1`), pushed.digest, options);
    expect(got.reference).toBe(`${registry.host}/team/app:${tag}`);
    expect(got.digest).toBe(sigDigest);
    expect(got.layers).toHaveLength(1);
    const [layer] = got.layers;
    expect(layer?.digest).toBe(layerDigest);
    expect(layer?.mediaType).toBe('application/vnd.dev.cosign.simplesigning.v1+json');
    expect(layer?.annotations['dev.cosignproject.cosign/signature']).toBe(wrapped);
    expect(layer?.signature).toBe(signature);
    expect(Buffer.from(layer?.payload ?? []).equals(payload)).toBe(true);
    expect(
      createVerify('sha256')
        .update(layer?.payload ?? new Uint8Array())
        .verify(publicKey, Buffer.from(layer?.signature ?? '', 'base64')),
    ).toBe(true);
  });

  it('says when the image has no signature image', async () => {
    const digest = `sha256:${'ab'.repeat(32)}`;
    const e = await fetchCosignSignatureImage(parseReference(`${registry.host}/team/app:1`), digest, options).catch(
      (x: unknown) => x,
    );
    expect(e).toBeInstanceOf(RegistryError);
    expect((e as RegistryError).code).toBe('E_REGISTRY_NOT_FOUND');
    expect((e as RegistryError).message).toBe(
      `no cosign signature image ${registry.host}/team/app:sha256-${'ab'.repeat(32)}.sig in registry ${registry.host}`,
    );
  });
});
