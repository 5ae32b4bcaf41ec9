/**
 * Bundles that build but do not do what they say: a scope without the port of the registry the bundle
 * configures (never matches; lint finds it from bundle.yaml's registries or, given only the KBS, from the
 * registries the KBS names), and an expired key the guest is told to trust while the host refuses it.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IMAGE_RS_FIXTURES } from '../helpers/paths.js';
import { runCli } from '../helpers/run-cli.js';
import { copyExample } from './tree.js';

let example: string;
let work: string;

beforeAll(async () => {
  example = await copyExample();
  work = path.dirname(example);
  await fs.copyFile(
    path.join(IMAGE_RS_FIXTURES, 'simple-signing-scheme/pubkey.gpg'),
    path.join(example, 'expired.gpg'),
  );
});
afterAll(async () => {
  await fs.rm(work, { recursive: true, force: true });
});

async function variant(name: string, edit: (text: string) => string): Promise<string> {
  const text = await fs.readFile(path.join(example, 'bundle.yaml'), 'utf8');
  const file = path.join(example, name);
  await fs.writeFile(file, edit(text));
  return file;
}

const portless = (text: string) =>
  text.replace(
    /^ {4}"registry\.example\.com:5000":\n {6}- type: signedBy/m,
    '    "registry.example.com/demo":\n      - type: signedBy',
  );

describe('a scope without the port of the configured registry', () => {
  it('build warns that it never matches an image of registry:port', async () => {
    const bundle = await variant('portless.yaml', portless);
    const r = await runCli(['build', '-c', bundle, '--dry-run'], { cwd: work });
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(
      'warning: scope "registry.example.com/demo" names registry.example.com without a port while registries: has registry.example.com:5000: it never matches an image of registry.example.com:5000',
    );
  });

  it('lint reports it with the fix', async () => {
    const bundle = await variant('portless-lint.yaml', portless);
    const r = await runCli(['lint', '-c', bundle, '--json'], { cwd: work });
    expect(r.code).toBe(1);
    const findings = JSON.parse(r.stdout) as Array<{ code: string; fix: string }>;
    const finding = (Array.isArray(findings) ? findings : (findings as { findings: typeof findings }).findings).find(
      (f) => f.code === 'L_SCOPE_MISSES_PORT',
    );
    expect(finding?.fix).toBe('write the scope with the port: "registry.example.com:5000/demo"');
  });

  it('lint --kbs alone (no bundle.yaml) finds it from the registries the KBS names, in each form build writes', async () => {
    const bundle = await variant('portless-kbs.yaml', portless);
    const out = path.join(work, 'portless-kbs');
    const flat = path.join(work, 'portless-kbs-flat');
    const tar = path.join(work, 'portless-kbs.tar');
    expect((await runCli(['build', '-c', bundle, '-o', out, '--tar', tar], { cwd: work })).code).toBe(0);
    expect((await runCli(['build', '-c', bundle, '-o', flat, '--layout', 'flat'], { cwd: work })).code).toBe(0);
    for (const kbs of [out, flat, tar]) {
      const r = await runCli(['lint', '--kbs', kbs, '--json'], { cwd: work });
      expect(r.code, r.stderr).toBe(1);
      const { findings } = JSON.parse(r.stdout) as { findings: Array<{ code: string; problem: string; fix: string }> };
      expect(findings.filter((f) => f.code === 'L_SCOPE_MISSES_PORT')).toEqual([
        {
          code: 'L_SCOPE_MISSES_PORT',
          where: 'kbs:///default/security-policy/test transports.docker["registry.example.com/demo"]',
          problem:
            'scope "registry.example.com/demo" names registry.example.com without a port while kbs:///default/credential/test and kbs:///default/sigstore-config/test name registry.example.com:5000: it never matches an image of registry.example.com:5000 (scopes compare the registry with its port)',
          fix: 'write the scope with the port: "registry.example.com:5000/demo"',
        },
      ]);
    }
  });

  it('lint --kbs: the credential alone names the registry; the example built as is has no such finding', async () => {
    const noStore = await variant('portless-no-store.yaml', (text) =>
      portless(text).replace(/^signatureStores:\n(?: {2}.*\n| {4}.*\n)*/m, ''),
    );
    const out = path.join(work, 'portless-no-store');
    expect((await runCli(['build', '-c', noStore, '-o', out], { cwd: work })).code).toBe(0);
    const r = await runCli(['lint', '--kbs', out], { cwd: work });
    expect(r.stdout).toContain(
      'while kbs:///default/credential/test names registry.example.com:5000: it never matches an image of registry.example.com:5000',
    );
    expect(r.code).toBe(1);
    const exampleKbs = path.join(work, 'example-kbs');
    expect(
      (await runCli(['build', '-c', path.join(example, 'bundle.yaml'), '-o', exampleKbs], { cwd: work })).code,
    ).toBe(0);
    const clean = await runCli(['lint', '--kbs', exampleKbs], { cwd: work });
    expect(clean.stdout).toContain('No findings');
    expect(clean.code).toBe(0);
  });

  it('the example (scope with the port) gets no such warning', async () => {
    const r = await runCli(['build', '-c', path.join(example, 'bundle.yaml'), '--dry-run'], { cwd: work });
    expect(r.code).toBe(0);
    expect(r.stderr).not.toContain('without a port');
  });
});

describe('allowExpired', () => {
  it('build warns that the host policy refuses the expired key', async () => {
    const bundle = await variant('expired.yaml', (text) =>
      text
        .replace('- example-public-key.asc', '- expired.gpg')
        .replace(/(- type: signedBy\n)/, '$1        allowExpired: true\n'),
    );
    const r = await runCli(['build', '-c', bundle, '--dry-run'], { cwd: work });
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(
      /^warning: key 67B24AACC459679E0283D7EE58F6ED07EEA6B429 \(scope "registry\.example\.com:5000"\) expired on 2022-09-2\d.*: allowExpired lets the guest trust it, but podman\/CRI-O check expiry, so the host policy\.json \(--host-config\) refuses its signatures$/m,
    );
  });
});
