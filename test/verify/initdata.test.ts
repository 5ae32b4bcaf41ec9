import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEMPLATES } from '../helpers/paths.js';
import { runCli } from '../helpers/run-cli.js';

const EXAMPLE = path.join(TEMPLATES, 'example');
const EXAMPLE_BUNDLE = path.join(EXAMPLE, 'bundle.yaml');
const MANIFEST = path.join(EXAMPLE, 'manifest.json');
const KBS = 'http://kbs.example.com:8080';
const SIGNED = 'registry.example.com:5000/demo/app:1.0';
/** The same manifest under a tag its signature does not name: the example policy denies it. */
const UNSIGNED_TAG = 'registry.example.com:5000/demo/app:2.0';

interface Report {
  allowed: boolean;
  decisions: Array<{ side: string; allowed: boolean; message?: string; scope?: string }>;
}

describe('verify / lint --initdata', () => {
  let tmp: string;
  let repo: string;
  let acceptRepo: string;
  let rootfs: string;
  let inlineInit: string;
  let uriInit: string;
  let bothInit: string;

  beforeAll(async () => {
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'kbsb-verify-initdata-'));
    repo = path.join(tmp, 'repo');
    rootfs = path.join(tmp, 'rootfs');
    await fs.mkdir(rootfs);
    expect((await runCli(['build', '-c', EXAMPLE_BUNDLE, '-o', repo])).code).toBe(0);
    expect((await runCli(['stage', '-c', EXAMPLE_BUNDLE, '--rootfs', rootfs, '--force'])).code).toBe(0);
    const acceptBundle = path.join(tmp, 'accept.yaml');
    await fs.writeFile(
      acceptBundle,
      'kbs: {repository: accept, tag: test}\npolicy:\n  default: [{type: insecureAcceptAnything}]\n',
    );
    acceptRepo = path.join(tmp, 'accept-repo');
    expect((await runCli(['build', '-c', acceptBundle, '-o', acceptRepo])).code).toBe(0);

    const render = async (name: string, extra: string[]) => {
      const r = await runCli(['render', 'initdata', '-c', EXAMPLE_BUNDLE, '--kbs-url', KBS, ...extra]);
      expect(r.code).toBe(0);
      const file = path.join(tmp, name);
      await fs.writeFile(file, r.stdout);
      return { file, text: r.stdout };
    };
    inlineInit = (await render('inline.toml', ['--inline'])).file;
    uriInit = (await render('uri.toml', [])).file;
    const inline = await fs.readFile(inlineInit, 'utf8');
    bothInit = path.join(tmp, 'both.toml');
    await fs.writeFile(
      bothInit,
      inline.replace('[image]\n', '[image]\nimage_security_policy_uri = "kbs:///accept/security-policy/test"\n'),
    );
  });
  afterAll(async () => {
    await fs.rm(tmp, { recursive: true, force: true });
  });

  const verify = async (image: string, source: string[]) => {
    const r = await runCli(['verify', image, ...source, '--rootfs', rootfs, '--manifest', MANIFEST, '--json']);
    const report = JSON.parse(r.stdout) as Report;
    return {
      code: r.code,
      allowed: report.allowed,
      decisions: report.decisions.map(({ side, allowed, message, scope }) => ({ side, allowed, message, scope })),
    };
  };

  for (const image of [SIGNED, UNSIGNED_TAG]) {
    it(`${image}: --initdata (inline, and URI with --kbs) decides as --kbs does`, async () => {
      const byKbs = await verify(image, ['--kbs', repo]);
      expect(byKbs.code).toBe(image === SIGNED ? 0 : 1);
      expect(await verify(image, ['--initdata', inlineInit])).toEqual(byKbs);
      expect(await verify(image, ['--initdata', uriInit, '--kbs', repo])).toEqual(byKbs);
    });
  }

  it('the URI wins over the inline policy, as in image-rs; lint says the inline one is dead', async () => {
    const r = await verify(UNSIGNED_TAG, ['--initdata', bothInit, '--kbs', acceptRepo]);
    expect(r.code).toBe(0);
    const lint = await runCli(['lint', '--initdata', bothInit, '--kbs', acceptRepo, '--json']);
    expect(lint.code).toBe(1);
    const findings = (JSON.parse(lint.stdout) as { findings: Array<{ code: string; where: string }> }).findings;
    expect(findings).toContainEqual(
      expect.objectContaining({
        code: 'L_INITDATA_INLINE_SHADOWED',
        where: `${bothInit} cdh.toml image.image_security_policy`,
      }),
    );
    const clean = await runCli(['lint', '--initdata', inlineInit, '--rootfs', rootfs, '--json']);
    expect(
      (JSON.parse(clean.stdout) as { findings: Array<{ code: string }> }).findings.map((f) => f.code),
    ).not.toContain('L_INITDATA_INLINE_SHADOWED');
  });

  it('bad input exits 2 with one line: a URI whose resource is not given, an initdata without a policy', async () => {
    const missing = await runCli(['verify', SIGNED, '--initdata', uriInit, '--manifest', MANIFEST]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toBe(
      `kbs-bundler: ${uriInit}: data."cdh.toml".image.image_security_policy_uri: Get resource failed: default/security-policy/test not found in the KBS repository (give the KBS repository with --kbs, guest files with --rootfs)\n`,
    );
    const none = path.join(tmp, 'none.toml');
    await fs.writeFile(
      none,
      'version = "0.1.0"\nalgorithm = "sha384"\n\n[data]\n"cdh.toml" = "[kbc]\\nname = \\"cc_kbc\\"\\n"\n',
    );
    const r = await runCli(['verify', SIGNED, '--initdata', none, '--manifest', MANIFEST]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      `kbs-bundler: ${none}: data."cdh.toml".image: sets neither image_security_policy_uri nor image_security_policy: the guest would check no signature at all\n`,
    );
  });

  it('a guest older than v0.17.0 ignores the inline policy: its URI form decides as before, inline-only is bad input', async () => {
    const older = ['--guest-release', 'v0.16.0'];
    const byKbs = await verify(SIGNED, ['--kbs', repo, ...older]);
    expect(byKbs.code).toBe(0);
    expect(await verify(SIGNED, ['--initdata', uriInit, '--kbs', repo, ...older])).toEqual(byKbs);
    const r = await runCli([
      'verify',
      SIGNED,
      '--initdata',
      inlineInit,
      '--rootfs',
      rootfs,
      '--manifest',
      MANIFEST,
      ...older,
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      `kbs-bundler: ${inlineInit}: data."cdh.toml".image: sets only the inline image_security_policy, which guest-components v0.16.0 ignores (read since v0.17.0): the guest would check no signature at all; set image_security_policy_uri\n`,
    );
    // The URI wins for every release; with both set, an old guest follows the URI as a new one does.
    expect((await verify(UNSIGNED_TAG, ['--initdata', bothInit, '--kbs', acceptRepo, ...older])).code).toBe(0);
  });
});
