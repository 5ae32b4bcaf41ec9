import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parse as parseToml } from 'smol-toml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeInitdata } from '../../src/render/initdata.js';
import { tomlMultiline } from '../../src/render/template.js';
import { TEMPLATES } from '../helpers/paths.js';
import { runCli } from '../helpers/run-cli.js';

const EXAMPLE = path.join(TEMPLATES, 'example');
const EXAMPLE_BUNDLE = path.join(EXAMPLE, 'bundle.yaml');
const KBS = 'http://kbs.example.com:8080';

type Toml = Record<string, unknown>;
const imageOf = (initdata: string) =>
  (parseToml((parseToml(initdata).data as Toml)['cdh.toml'] as string) as { image: Record<string, unknown> }).image;

describe('render initdata --inline', () => {
  let tmp: string;
  let built: string;

  beforeAll(async () => {
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'kbsb-inline-'));
    built = path.join(tmp, 'repo');
    const b = await runCli(['build', '-c', EXAMPLE_BUNDLE, '-o', built]);
    expect(b.code).toBe(0);
  });
  afterAll(async () => {
    await fs.rm(tmp, { recursive: true, force: true });
  });

  /** The example bundle with an `initdata:` section (a copy of the example directory, so its paths hold). */
  async function bundleWith(section: string): Promise<string> {
    const dir = await fs.mkdtemp(path.join(tmp, 'example-'));
    await fs.cp(EXAMPLE, dir, { recursive: true });
    const file = path.join(dir, 'bundle.yaml');
    await fs.appendFile(file, `\n${section}\n`);
    return file;
  }

  it('carries the exact bytes build writes as security-policy and sigstore-config; the credential stays a URI', async () => {
    const r = await runCli(['render', 'initdata', '-c', EXAMPLE_BUNDLE, '--kbs-url', KBS, '--inline', '--encode']);
    expect(r.code).toBe(0);
    const image = imageOf(decodeInitdata(r.stdout.trim()));
    const utf8 = (v: unknown) => Buffer.from(v as string, 'utf8');
    expect(utf8(image.image_security_policy)).toEqual(
      await fs.readFile(path.join(built, 'default/security-policy/test')),
    );
    expect(utf8(image.sigstore_config)).toEqual(await fs.readFile(path.join(built, 'default/sigstore-config/test')));
    expect(image.image_security_policy_uri).toBeUndefined();
    expect(image.sigstore_config_uri).toBeUndefined();
    expect(image.authenticated_registry_credentials_uri).toBe('kbs:///default/credential/test');
    const password = (await fs.readFile(path.join(EXAMPLE, 'registry-password'), 'utf8')).trim();
    expect(decodeInitdata(r.stdout.trim())).not.toContain(password);
  });

  it('without --inline (and no bundle setting) names the KBS URIs', async () => {
    const r = await runCli(['render', 'initdata', '-c', EXAMPLE_BUNDLE, '--kbs-url', KBS]);
    const image = imageOf(r.stdout);
    expect(image.image_security_policy_uri).toBe('kbs:///default/security-policy/test');
    expect(image.image_security_policy).toBeUndefined();
    expect(image.sigstore_config).toBeUndefined();
  });

  it('a guest older than v0.17.0 gets the URI form, with a note; v0.17.0 gets the inline form', async () => {
    const old = await runCli([
      'render',
      'initdata',
      '-c',
      EXAMPLE_BUNDLE,
      '--kbs-url',
      KBS,
      '--inline',
      '--guest-release',
      'v0.16.0',
    ]);
    expect(old.code).toBe(0);
    expect(imageOf(old.stdout).image_security_policy_uri).toBe('kbs:///default/security-policy/test');
    expect(imageOf(old.stdout).image_security_policy).toBeUndefined();
    expect(old.stderr).toContain('older than v0.17.0');
    const first = await runCli([
      'render',
      'initdata',
      '-c',
      EXAMPLE_BUNDLE,
      '--kbs-url',
      KBS,
      '--inline',
      '--guest-release',
      '0.17',
    ]);
    expect(imageOf(first.stdout).image_security_policy_uri).toBeUndefined();
    expect(typeof imageOf(first.stdout).image_security_policy).toBe('string');
  });

  it('bundle.yaml initdata.inline / initdata.guestRelease choose the form; a bad release is one line, exit 2', async () => {
    const inline = await runCli([
      'render',
      'initdata',
      '-c',
      await bundleWith('initdata: {inline: true}'),
      '--kbs-url',
      KBS,
    ]);
    expect(inline.code).toBe(0);
    expect(imageOf(inline.stdout).image_security_policy).toBe(
      await fs.readFile(path.join(built, 'default/security-policy/test'), 'utf8'),
    );
    const old = await runCli([
      'render',
      'initdata',
      '-c',
      await bundleWith('initdata: {inline: true, guestRelease: v0.16.1}'),
      '--kbs-url',
      KBS,
    ]);
    expect(imageOf(old.stdout).image_security_policy_uri).toBe('kbs:///default/security-policy/test');
    const bad = await bundleWith('initdata: {inline: true, guestRelease: latest}');
    const r = await runCli(['render', 'initdata', '-c', bad, '--kbs-url', KBS]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim().split('\n')).toEqual([
      `kbs-bundler: ${bad}: initdata.guestRelease: expected a guest-components release, e.g. v0.21.0`,
    ]);
  });

  it('multi-line TOML strings round-trip any text (quotes stay readable but never close the string)', () => {
    const alphabet = ['"', '\\', 'a', '\n', "'", '\r', '\t', '{'];
    let seed = 7;
    const next = () => (seed = (seed * 1103515245 + 12345) % 2147483648);
    const samples = ['{"k": "v"}\n', '"', '""', '"""', 'x"', 'a""""b"', '\\"'];
    for (let i = 0; i < 3000; i++) {
      samples.push(Array.from({ length: 1 + (next() % 9) }, () => alphabet[next() % alphabet.length]).join(''));
    }
    for (const s of samples) expect((parseToml(`x = ${tomlMultiline(s)}\n`) as { x: string }).x).toBe(s);
    expect(tomlMultiline('{"k": "v"}')).toBe('"""\n{"k": "v"}"""');
  });
});
