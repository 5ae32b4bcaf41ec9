/**
 * package.json `bin` is a rolldown bundle of tsc's dist/cli/main.js (scripts/bundle-cli.mjs). The
 * bundle must behave exactly as the unbundled CLI: same output, same exit codes, same error lines,
 * and the files it finds beside the package (templates, package.json) found from the bundle's place.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readPublicKeyring } from '../../src/keys/index.js';
import { verifySignature } from '../../src/signature/index.js';
import { CLI, REPO_ROOT, TEMPLATES } from '../helpers/paths.js';
import { runCli, type CliResult } from '../helpers/run-cli.js';
import {
  IMAGE_RS_RESOURCES,
  OTHER_SIGNED_DIGEST,
  SIGNED_DIGEST,
  kbsTreeFromOfflineJson,
  rootfsWithImageRsSignatures,
  tempDir,
} from '../verify/fixtures.js';

const UNBUNDLED = path.join(REPO_ROOT, 'dist/cli/main.js');
const EXAMPLE = path.join(TEMPLATES, 'example');
const COMMANDS = [
  'init',
  'build',
  'render',
  'verify',
  'lint',
  'keygen',
  'sign',
  'audit',
  'stage',
  'unstage',
  'quickstart',
];

function run(entry: string, args: string[], cwd?: string): Promise<CliResult> {
  return runCli(args, { entry, cwd });
}

/** Runs both and expects the same result; returns it. */
async function same(args: string[], cwd?: string) {
  const [bundled, unbundled] = await Promise.all([run(CLI, args, cwd), run(UNBUNDLED, args, cwd)]);
  expect(bundled, `kbs-bundler ${args.join(' ')}`).toEqual(unbundled);
  return bundled;
}

let work: string;
beforeAll(async () => {
  work = await tempDir('bundle-cli');
});
afterAll(async () => {
  await fs.rm(work, { recursive: true, force: true });
});

describe('the bundled CLI (package.json bin)', () => {
  it('is what bin names, and not tsc’s main.js', () => {
    expect(path.relative(REPO_ROOT, CLI)).toBe('dist/bin/kbs-bundler.js');
  });

  it('prints the same help, version and usage errors', async () => {
    expect((await same(['--version'])).stdout).toBe(
      `${(JSON.parse(await fs.readFile(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string }).version}\n`,
    );
    expect((await same(['--help'])).code).toBe(0);
    for (const c of COMMANDS) expect((await same([c, '--help'])).code).toBe(0);
    expect((await same(['no-such-command'])).code).toBe(2);
    expect((await same(['verify'])).code).toBe(2);
  });

  it('finds the templates beside the package: init --dry-run, render pod and initdata', async () => {
    const init = await same(['init', '--dry-run'], work);
    expect(init.stdout).toBe(await fs.readFile(path.join(TEMPLATES, 'bundle.yaml'), 'utf8'));
    expect((await same(['render', 'pod', '--image', 'registry.example.com:5000/app:1'])).code).toBe(0);
    expect(
      (
        await same([
          'render',
          'initdata',
          '-c',
          path.join(EXAMPLE, 'bundle.yaml'),
          '--kbs-url',
          'http://kbs.example.com:8080',
        ])
      ).code,
    ).toBe(0);
  });

  it('gives the same one-line error and exit code 2 for bad input', async () => {
    const r = await same(['build', '-c', path.join(work, 'missing.yaml'), '-o', path.join(work, 'out')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^kbs-bundler: .*missing\.yaml/);
    await fs.writeFile(path.join(work, 'empty.yaml'), '');
    expect((await same(['build', '-c', path.join(work, 'empty.yaml'), '-o', path.join(work, 'out')])).code).toBe(2);
  });

  it('decides the same in verify (allowed, denied, --json, both modes) and lint', async () => {
    const kbs = await kbsTreeFromOfflineJson(IMAGE_RS_RESOURCES, path.join(work, 'kbs'));
    const rootfs = await rootfsWithImageRsSignatures(path.join(work, 'rootfs'));
    const image = 'quay.io/kata-containers/confidential-containers';
    expect(
      (await same(['verify', `${image}:signed`, '--kbs', kbs, '--rootfs', rootfs, '--digest', SIGNED_DIGEST])).code,
    ).toBe(0);
    expect(
      (
        await same([
          'verify',
          `${image}:signed`,
          '--kbs',
          kbs,
          '--rootfs',
          rootfs,
          '--digest',
          SIGNED_DIGEST,
          '--mode',
          'both',
          '--json',
        ])
      ).code,
    ).toBe(0);
    expect(
      (
        await same([
          'verify',
          `${image}:other_signed`,
          '--kbs',
          kbs,
          '--rootfs',
          rootfs,
          '--digest',
          OTHER_SIGNED_DIGEST,
        ])
      ).code,
    ).toBe(1);
    await same(['lint', '--kbs', kbs, '--rootfs', rootfs]);
  });

  it('builds the same KBS tree and signs with the same creator version', async () => {
    for (const [name, entry] of [
      ['bundled', CLI],
      ['unbundled', UNBUNDLED],
    ] as const) {
      const out = path.join(work, `kbs-${name}`);
      expect((await run(entry, ['build', '-c', path.join(EXAMPLE, 'bundle.yaml'), '-o', out])).code).toBe(0);
    }
    const a = await fs.readFile(path.join(work, 'kbs-bundled/default/security-policy/test'));
    expect(a.equals(await fs.readFile(path.join(work, 'kbs-unbundled/default/security-policy/test')))).toBe(true);

    const keyring = await readPublicKeyring(await fs.readFile(path.join(EXAMPLE, 'example-public-key.asc')), {
      file: 'key',
    });
    const creators = [];
    for (const [name, entry] of [
      ['bundled', CLI],
      ['unbundled', UNBUNDLED],
    ] as const) {
      const store = path.join(work, `store-${name}`);
      const args = [
        'sign',
        '--reference',
        'registry.example.com:5000/demo/app:1.0',
        '--key',
        path.join(EXAMPLE, 'EXAMPLE-ONLY-secret-key.asc'),
        '--manifest',
        path.join(EXAMPLE, 'manifest.json'),
        '--store',
        store,
        '--json',
      ];
      const r = await run(entry, args);
      expect(r.code, r.stderr).toBe(0);
      const written = (JSON.parse(r.stdout) as { path: string }).path;
      const v = await verifySignature(await fs.readFile(written), keyring, 'guest');
      creators.push(
        (JSON.parse(Buffer.from(v.payloadBytes).toString()) as { optional?: { creator?: string } }).optional?.creator,
      );
    }
    expect(creators[0]).toMatch(/^kbs-bundler \d/);
    expect(creators[0]).toBe(creators[1]);
  });
});
