import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/run-cli.js';
import {
  debugfsCatFile,
  debugfsStat,
  e2fsckClean,
  makeBareExt4,
  makeGuestTree,
  run,
  tempDir,
} from '../rootfs/images.js';
import { cliRunnableBy } from '../helpers/cli-as-user.js';
import { makeCaCert, makeKey, makeStore, REGISTRY, type TestKey } from './fixtures.js';
import { snapshot } from './snapshot.js';

let work: string;
let key: TestKey;
let other: TestKey;

beforeAll(async () => {
  work = await tempDir('kbs-stage-cli-');
  key = await makeKey('signer');
  other = await makeKey('stranger');
  await fs.mkdir(path.join(work, 'keys'));
  await fs.writeFile(path.join(work, 'keys/signer.gpg'), key.publicBytes);
  await makeStore(path.join(work, 'store'), key, [
    { reference: `${REGISTRY}/team/app:v1`, repo: 'team/app' },
    { reference: 'quay.io/other/thing:v1', repo: 'other/thing' },
  ]);
  await makeStore(path.join(work, 'untrusted-store'), other, [
    { reference: `${REGISTRY}/team/evil:v1`, repo: 'team/evil' },
  ]);
  await fs.writeFile(path.join(work, 'ca.crt'), await makeCaCert(path.join(work, 'certs'), 'Test Registry CA'));
  await fs.writeFile(
    path.join(work, 'selfsigned.crt'),
    await makeCaCert(path.join(work, 'certs'), 'registry.example.com', 'DNS:registry.example.com'),
  );
}, 60_000);

afterAll(async () => {
  await fs.rm(work, { recursive: true, force: true });
});

async function bundle(name: string, options: { keyPath?: string; caFile?: string } = {}): Promise<string> {
  const file = path.join(work, `${name}.yaml`);
  await fs.writeFile(
    file,
    [
      'policy:',
      '  default: [{type: reject}]',
      '  scopes:',
      `    "${REGISTRY}":`,
      '      - type: signedBy',
      '        keys: [keys/signer.gpg]',
      `        keyPath: ${options.keyPath ?? '/etc/containers/keys/signer.gpg'}`,
      'signatures: [store]',
      'registries:',
      `  "${REGISTRY}":`,
      `    caFile: ${options.caFile ?? 'ca.crt'}`,
      '    address: 192.0.2.10',
      '',
    ].join('\n'),
  );
  return file;
}

async function rootfs(name: string): Promise<string> {
  const dir = path.join(work, name);
  await makeGuestTree(dir);
  return dir;
}

describe('kbs-bundler stage / unstage (CLI)', () => {
  it('--dry-run prints the plan per path and changes nothing; stage, re-stage, unstage', async () => {
    const cfg = await bundle('ok');
    const root = await rootfs('cli-ok');
    const before = await snapshot(root);
    const dry = await runCli(['stage', '-c', cfg, '--rootfs', root, '--dry-run']);
    expect(dry.stderr).toBe('');
    expect(dry.code).toBe(0);
    expect(dry.stdout).toMatch(/^Plan for .* \(directory\):\n {2}create {3}\/etc\/containers\/keys\/signer.gpg /);
    expect(dry.stdout).toMatch(
      / create +\/var\/lib\/containers\/sigstore\/team\/app@sha256=[0-9a-f]{64}\/signature-1 /,
    );
    expect(dry.stdout).toMatch(/ append +\/etc\/ssl\/certs\/ca-certificates\.crt +ca-bundle: 1 certificate/);
    expect(dry.stdout).toMatch(/ append +\/etc\/hosts /);
    expect(dry.stdout).toMatch(/ create +\/etc\/containers\/keys\/signer\.gpg /);
    expect(dry.stdout).toContain('quay.io/other/thing@sha256:');
    expect(dry.stdout).toContain('no signedBy rule covers it');
    expect(await snapshot(root)).toEqual(before);

    const staged = await runCli(['stage', '-c', cfg, '--rootfs', root, '--json']);
    expect(staged.code).toBe(0);
    const json: unknown = JSON.parse(staged.stdout);
    expect(json).toMatchObject({ kind: 'directory', applied: true, blocked: false, counts: { create: 3, append: 2 } });
    const afterStage = await snapshot(root);

    const again = await runCli(['stage', '-c', cfg, '--rootfs', root]);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('Nothing to change in');
    expect(await snapshot(root)).toEqual(afterStage);

    const undry = await runCli(['unstage', '--rootfs', root, '--dry-run']);
    expect(undry.code).toBe(0);
    expect(undry.stdout).toMatch(/ restore +\/etc\/hosts /);
    expect(await snapshot(root)).toEqual(afterStage);
    const un = await runCli(['unstage', '--rootfs', root]);
    expect(un.code).toBe(0);
    expect(await snapshot(root)).toEqual(before);
    const un2 = await runCli(['unstage', '--rootfs', root]);
    expect(un2.code).toBe(2);
    expect(un2.stderr).toContain('nothing was staged here by kbs-bundler');
  });

  it('warns about /run, a CA:TRUE server certificate, a missing CA bundle and untrusted keys: exit 1, nothing changed; --force stages', async () => {
    const root = await rootfs('cli-warn');
    await fs.rm(path.join(root, 'etc/ssl/certs/ca-certificates.crt'));
    const before = await snapshot(root);
    const cfg = await bundle('warn', {
      keyPath: '/run/image-security/simple_signing/pubkey.gpg',
      caFile: 'selfsigned.crt',
    });
    const r = await runCli([
      'stage',
      '-c',
      cfg,
      '--rootfs',
      root,
      '--signatures',
      path.join(work, 'store'),
      path.join(work, 'untrusted-store'),
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/warning \[W_RUN\] \/run\/image-security\/simple_signing\/pubkey\.gpg: .*tmpfs on \/run/);
    expect(r.stderr).toMatch(/warning \[W_CA_AS_SERVER\] .*selfsigned\.crt: .*CA:TRUE.*CaUsedAsEndEntity/);
    expect(r.stderr).toMatch(/warning \[W_NO_CA_BUNDLE\]: none of the known CA bundles exists/);
    expect(r.stderr).toMatch(
      /warning \[W_UNTRUSTED_KEY\]: 1 signature .*team\/evil.*made by key [0-9A-F]{16}, which the policy for scope registry\.example\.com:5000 does not trust/,
    );
    expect(r.stderr.match(/ {2}fix: /g)).toHaveLength(4);
    expect(r.stderr).toContain('nothing was changed');
    expect(await snapshot(root)).toEqual(before);

    const forced = await runCli([
      'stage',
      '-c',
      cfg,
      '--rootfs',
      root,
      '--force',
      '--signatures',
      path.join(work, 'store'),
      path.join(work, 'untrusted-store'),
    ]);
    expect(forced.code).toBe(0);
    expect(forced.stderr).toContain('warning [W_RUN]');
    expect(await fs.readFile(path.join(root, 'run/image-security/simple_signing/pubkey.gpg'))).toEqual(
      Buffer.from(key.publicBytes),
    );
  });

  it('without root a disk image is staged through debugfs (no mount), mode and owner set', async () => {
    const tree = await rootfs('cli-nonroot-tree');
    const img = path.join(work, 'nonroot.img');
    await makeBareExt4(tree, img);
    const cfg = await bundle('nonroot');
    // everything the unprivileged run reads must be readable by it; the image writable by it
    await fs.chmod(work, 0o755);
    await run('chown', ['nobody', img]);
    await run('chmod', ['-R', 'a+rX', work]);
    const { cli, remove } = cliRunnableBy('nobody');
    const out = await run('runuser', [
      '-u',
      'nobody',
      '--',
      process.execPath,
      cli,
      'stage',
      '-c',
      cfg,
      '--rootfs',
      img,
      '--json',
    ]).finally(remove);
    const json = JSON.parse(out.toString()) as { entries: Array<{ what: string; realPath: string }> };
    expect(json).toMatchObject({ kind: 'ext4-image', method: 'debugfs (no mount) at offset 0', applied: true });
    expect((await fs.stat(img)).uid).toBe(65534);
    const sig = json.entries.find((e) => e.what === 'signature')!.realPath;
    expect(await debugfsStat(img, 0, sig)).toEqual({ type: 'regular', mode: 0o644, uid: 0, gid: 0 });
    expect((await debugfsCatFile(img, 0, '/etc/hosts')).toString()).toContain('192.0.2.10 registry.example.com');
    expect((await e2fsckClean(img, 0)).code).toBe(0);
  });

  it('bad input: exit 2 with the file named', async () => {
    const cfg = await bundle('bad');
    const r = await runCli(['stage', '-c', cfg, '--rootfs', path.join(work, 'no-such-rootfs')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('no-such-rootfs: rootfs not found');
    const junk = path.join(work, 'junk.img');
    await fs.writeFile(junk, 'not an image');
    const j = await runCli(['stage', '-c', cfg, '--rootfs', junk]);
    expect(j.code).toBe(2);
    expect(j.stderr).toContain('junk.img: is not a directory, an ext4/erofs disk image');
  });
});
