/** templates/example is self-consistent: its store holds a signature skopeo accepts for its manifest and key. */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadBundle } from '../../src/bundle/load.js';
import { makeGnupgHome, type GnupgHome } from '../helpers/gpg.js';
import { TEMPLATES } from '../helpers/paths.js';

const run = promisify(execFile);
const EXAMPLE = path.join(TEMPLATES, 'example');
const FPR = 'DCD29C03BC6111298FBDE57C7C48400FEDEBAF21';
let gnupg: GnupgHome;

beforeAll(async () => {
  gnupg = await makeGnupgHome();
  const imported = await gnupg.gpg(['--import'], await fs.readFile(path.join(EXAMPLE, 'example-public-key.asc')));
  expect(imported.code).toBe(0);
});
afterAll(async () => {
  await gnupg?.cleanup();
});

describe('templates/example', () => {
  it('holds a signature of manifest.json for registry.example.com:5000/demo/app:1.0 that skopeo verifies', async () => {
    const manifest = path.join(EXAMPLE, 'manifest.json');
    const hex = createHash('sha256')
      .update(await fs.readFile(manifest))
      .digest('hex');
    const signature = path.join(EXAMPLE, `store/demo/app@sha256=${hex}/signature-1`);
    const { stdout } = await run(
      'skopeo',
      ['standalone-verify', manifest, 'registry.example.com:5000/demo/app:1.0', FPR, signature],
      { env: gnupg.env },
    );
    expect(stdout).toContain(`Signature verified, digest sha256:${hex}`);
    const wrongIdentity = run(
      'skopeo',
      ['standalone-verify', manifest, 'registry.example.com:5000/demo/app:2.0', FPR, signature],
      { env: gnupg.env },
    );
    await expect(wrongIdentity).rejects.toThrow(/not accepted|does not match/);
  });

  it('trusts that key for that registry, with a credential, CA and address', async () => {
    const b = await loadBundle(path.join(EXAMPLE, 'bundle.yaml'));
    expect(
      b.keyrings.map((k) => [k.scope, k.keyring.descriptions[0]!.fingerprint, k.keyring.descriptions[0]!.expires]),
    ).toEqual([['registry.example.com:5000', FPR, null]]);
    expect(b.registries).toMatchObject([
      { registry: 'registry.example.com:5000', username: 'demo', address: '192.0.2.10' },
    ]);
    expect(b.registries[0]!.caPem).toContain('BEGIN CERTIFICATE');
    expect(b.signatureSources).toEqual([path.join(EXAMPLE, 'store')]);
  });
});
