/**
 * `sign --manifest` signs only an image manifest (what the registry serves, `skopeo inspect --raw`), and
 * signing what this key already signed writes nothing unless --force.
 */
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildOciImage } from '../helpers/oci-image.js';
import { runCli } from '../helpers/run-cli.js';
import { skopeoOk } from '../helpers/skopeo.js';

const REFERENCE = 'registry.example.com:5000/demo/app:1.0';
let work: string;
let key: string;
let raw: string;
let summary: string;

beforeAll(async () => {
  work = await fs.mkdtemp(path.join(os.tmpdir(), 'kbs-sign-inputs-'));
  const oci = await buildOciImage(path.join(work, 'layout'));
  raw = path.join(work, 'manifest.json');
  summary = path.join(work, 'inspect.json');
  await fs.writeFile(raw, (await skopeoOk(['inspect', '--raw', oci])).stdout);
  await fs.writeFile(summary, (await skopeoOk(['inspect', oci])).stdout);
  const keygen = await runCli(['keygen', '--name', 'Signer', '--algorithm', 'ed25519', '--out', work]);
  expect(keygen.code).toBe(0);
  key = path.join(work, 'signing-key.sec.asc');
});

afterAll(async () => {
  await fs.rm(work, { recursive: true, force: true });
});

const sign = (store: string, ...more: string[]) =>
  runCli(['sign', '--key', key, '--reference', REFERENCE, '--store', store, ...more]);

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await fs.readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries.filter((e) => e.isFile()).map((e) => path.relative(dir, path.join(e.parentPath, e.name)));
}

describe('sign --manifest', () => {
  it('refuses the output of skopeo inspect without --raw, pointing at --raw, and writes nothing', async () => {
    const store = path.join(work, 'store-summary');
    const r = await sign(store, '--manifest', summary);
    expect(r.code).toBe(2);
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain(`${summary}: is the output of skopeo inspect, not the image manifest`);
    expect(r.stderr).toContain('skopeo inspect --raw');
    expect(await filesUnder(store)).toEqual([]);
  });

  it.each([
    ['a JSON object that is no manifest', '{"schemaVersion": 3}'],
    ['a config blob', '{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}'],
    ['an unknown mediaType', '{"schemaVersion":2,"mediaType":"application/vnd.example+json"}'],
  ])('refuses %s', async (_, text) => {
    const file = path.join(work, 'not-a-manifest.json');
    await fs.writeFile(file, text);
    const r = await sign(path.join(work, 'store-other'), '--manifest', file);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('skopeo inspect --raw');
  });

  it('signs the raw manifest once; again says it is already signed and writes nothing; --force signs again', async () => {
    const store = path.join(work, 'store-raw');
    const first = await sign(store, '--manifest', raw);
    expect(first.code).toBe(0);
    const written = await filesUnder(store);
    expect(written).toHaveLength(1);
    expect(written[0]).toMatch(/^demo\/app@sha256=[0-9a-f]{64}\/signature-1$/);

    const again = await sign(store, '--manifest', raw);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('is already signed by');
    expect(await filesUnder(store)).toEqual(written);

    const asJson = await sign(store, '--manifest', raw, '--json');
    expect(JSON.parse(asJson.stdout)).toMatchObject({ alreadySigned: true, identity: REFERENCE });

    const forced = await sign(store, '--manifest', raw, '--force');
    expect(forced.code).toBe(0);
    expect((await filesUnder(store)).sort()).toEqual([...written, written[0]!.replace(/1$/, '2')].sort());
  });

  it('signs the same digest for another identity (not a duplicate)', async () => {
    const store = path.join(work, 'store-identity');
    expect((await sign(store, '--manifest', raw)).code).toBe(0);
    const other = await sign(store, '--manifest', raw, '--sign-identity', 'registry.example.com:5000/demo/app:2.0');
    expect(other.code).toBe(0);
    expect(await filesUnder(store)).toHaveLength(2);
  });

  it('stops reading /dev/zero at the 4 MiB manifest limit', async () => {
    const started = Date.now();
    const r = await sign(path.join(work, 'store-zero'), '--manifest', '/dev/zero');
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe('kbs-bundler: /dev/zero: is larger than 4 MiB, more than a manifest can be');
    expect(Date.now() - started).toBeLessThan(20_000);
  });
});

describe('sign, other inputs', () => {
  it('says a missing --key file does not exist', async () => {
    const r = await runCli([
      'sign',
      '--key',
      path.join(work, 'absent.asc'),
      '--reference',
      REFERENCE,
      '--store',
      work,
      '--manifest',
      raw,
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe(`kbs-bundler: ${path.join(work, 'absent.asc')}: the secret key file does not exist`);
  });

  it('refuses --store that is a file, naming the option', async () => {
    const file = path.join(work, 'store-file');
    await fs.writeFile(file, 'x');
    const r = await sign(file, '--manifest', raw);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe(`kbs-bundler: --store: ${file} exists and is not a directory`);
  });
});
