/**
 * The openEuler signed-image flow of the README's walk-through, rehearsed end to end with the real tools and nothing but loopback:
 *  1. docker-registry on 127.0.0.1 (named `localhost:PORT`, as the guide names `registry.com:5000`), TLS + htpasswd;
 *  2. a busybox-static OCI image built offline with umoci, pushed by skopeo signed (`--sign-by`, lookaside staging)
 *     and unsigned, plus a tag whose manifest differs from the signed one;
 *  3. bundle.yaml naming the registry, key, store, credentials, CA and an /etc/hosts address; `build` nested, flat, tarball;
 *  4. a kata-style disk image (MBR, ext4 at 3 MiB) and a gzip'd newc initrd; `stage` into both;
 *  5. `verify --fetch` from both rootfs kinds: signed allowed, unsigned / tampered / wrong credential denied with the
 *     reason; `lint` clean; a broken variant (lookaside-only sigstore config, keyPath under /run) flagged and denied;
 *  6. `render pod` and `render initdata` parse as YAML / TOML and carry the KBS URIs and the CA.
 */
import { execFileSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { parse as parseToml } from 'smol-toml';
import { parse as parseYaml } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeGnupgHome, type GnupgHome } from '../helpers/gpg.js';
import { buildOciImage } from '../helpers/oci-image.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import { runCli, type CliResult } from '../helpers/run-cli.js';
import { pushImage } from '../helpers/skopeo.js';
import { debugfsCatFile, e2fsckClean, makeInitrd, makeMbrExt4, MIB, tempDir } from '../rootfs/images.js';
import { writeBundle, writeGuestTree } from './bundle.js';

const FS_OFFSET = 3 * MIB;
const DENIED_BY_SIGNED_BY = 'Image policy rejected: Denied by policy: rejected by `signedBy` rule';

let work: string;
let registry: TestRegistry;
let gnupg: GnupgHome;
/** `localhost:PORT`: the registry as the bundle, the signatures and the pod name it. */
let host: string;
let signedDigest: string;
let tamperedDigest: string;
let lookaside: string;
let disk: string;
let initrd: string;
const at = (...p: string[]) => path.join(work, ...p);

async function cli(args: string[]): Promise<CliResult> {
  return runCli(args, { cwd: work });
}

async function must(args: string[]): Promise<CliResult> {
  const r = await cli(args);
  if (r.code !== 0) throw new Error(`kbs-bundler ${args.join(' ')} exited ${r.code}:\n${r.stdout}\n${r.stderr}`);
  return r;
}

beforeAll(async () => {
  work = await tempDir('kbs-e2e-');
  // 1. The registry. Its certificate names localhost and 127.0.0.1; the push side uses an authfile for localhost.
  registry = await startRegistry();
  host = `localhost:${registry.host.split(':')[1]}`;
  const authFile = at('auth.json');
  await fs.writeFile(
    authFile,
    JSON.stringify({
      auths: { [host]: { auth: Buffer.from(`${registry.username}:${registry.password}`).toString('base64') } },
    }),
    { mode: 0o600 },
  );
  const named: TestRegistry = { ...registry, host, authFile };

  // 2. The image, signed with a gpg key by skopeo and pushed unsigned; a tag serving another manifest.
  gnupg = await makeGnupgHome();
  const fpr = await gnupg.generateKey('E2E Signer', 'signer@example.com');
  await fs.mkdir(at('keys'));
  await fs.writeFile(at('keys/signer.asc'), await gnupg.exportPublic(fpr, true));
  lookaside = at('lookaside');
  const image = await buildOciImage(at('oci'), '1.0', { marker: 'e2e' });
  const other = await buildOciImage(at('oci-other'), '1.0', { marker: 'not what was signed' });
  signedDigest = (
    await pushImage({
      ociRef: image,
      registry: named,
      dest: 'demo/app:1.0',
      signBy: fpr,
      gnupg,
      lookasideStagingDir: lookaside,
    })
  ).digest;
  const unsignedDigest = (
    await pushImage({ ociRef: image, registry: named, dest: 'demo/unsigned:1.0', lookasideStagingDir: lookaside })
  ).digest;
  if (unsignedDigest !== signedDigest) throw new Error('the same image pushed twice should keep its digest');
  tamperedDigest = (
    await pushImage({ ociRef: other, registry: named, dest: 'demo/app:tampered', lookasideStagingDir: lookaside })
  ).digest;

  // 3. bundle.yaml (good, wrong password, broken), then build: nested + tarball, flat.
  await fs.copyFile(registry.caFile, at('registry-ca.crt'));
  await fs.writeFile(at('registry-password'), `${registry.password}\n`, { mode: 0o600 });
  await fs.writeFile(at('wrong-password'), 'not-the-password\n', { mode: 0o600 });
  await writeBundle(at('bundle.yaml'), {
    registry: host,
    username: registry.username,
    passwordFile: 'registry-password',
  });
  await writeBundle(at('bundle-wrong-password.yaml'), {
    registry: host,
    username: registry.username,
    passwordFile: 'wrong-password',
  });
  await writeBundle(at('bundle-broken.yaml'), {
    registry: host,
    username: registry.username,
    passwordFile: 'registry-password',
    keyPath: '/run/image-security/simple_signing/pubkey.gpg',
  });
  await must(['build', '-c', 'bundle.yaml', '-o', 'kbs-nested', '--tar', 'kbs.tar']);
  await must(['build', '-c', 'bundle.yaml', '-o', 'kbs-flat', '--layout', 'flat']);
  await must(['build', '-c', 'bundle-wrong-password.yaml', '-o', 'kbs-wrong-password']);

  // 4. The guest images, made as kata's builders make them, and staged by the CLI.
  const tree = at('guest-tree');
  await writeGuestTree(tree);
  disk = at('kata-containers.img');
  await makeMbrExt4(tree, disk, FS_OFFSET);
  initrd = at('kata-containers-initrd.img');
  await makeInitrd(tree, initrd);
  await must(['stage', '-c', 'bundle.yaml', '--rootfs', disk, '--no-mount']);
  await must(['stage', '-c', 'bundle.yaml', '--rootfs', initrd]);
}, 240_000);

afterAll(async () => {
  await registry?.stop();
  await gnupg?.cleanup();
  if (work) await fs.rm(work, { recursive: true, force: true });
});

interface Decision {
  side: string;
  allowed: boolean;
  message: string;
  chain: string[];
}
interface Report {
  allowed: boolean;
  digest: string;
  decisions: Decision[];
}

async function verify(
  reference: string,
  kbs: string,
  rootfs: string,
  extra: string[] = [],
): Promise<{ r: CliResult; report: Report }> {
  const r = await cli([
    'verify',
    reference,
    '--kbs',
    kbs,
    '--rootfs',
    rootfs,
    '--fetch',
    '--ca-file',
    'registry-ca.crt',
    '--json',
    ...extra,
  ]);
  return { r, report: JSON.parse(r.stdout) as Report };
}

const signatureDir = (repo: string, digest: string) =>
  `/var/lib/containers/sigstore/${repo}@${digest.replace(':', '=')}`;

describe('3-4. build and stage', () => {
  it('build wrote the same resources in the nested tree, the flat tree and the tarball', async () => {
    const files = ['security-policy', 'sigstore-config', 'credential'];
    for (const type of files) {
      const nested = await fs.readFile(at('kbs-nested/default', type, 'test'));
      expect((await fs.readFile(at('kbs-flat/repository', `default\\x2F${type}\\x2Ftest`))).equals(nested)).toBe(true);
    }
    const policy = JSON.parse(await fs.readFile(at('kbs-nested/default/security-policy/test'), 'utf8')) as {
      transports: { docker: Record<string, Array<{ keyData: string }>> };
    };
    expect(
      Buffer.from(policy.transports.docker[host]?.[0]?.keyData ?? '', 'base64').equals(
        await fs.readFile(at('keys/signer.asc')),
      ),
    ).toBe(true);
    expect(((await fs.stat(at('kbs-nested/default/credential/test'))).mode & 0o777).toString(8)).toBe('600');
    const listed = execFileSync('tar', ['-tf', at('kbs.tar')])
      .toString()
      .split('\n')
      .filter((l) => !l.endsWith('/') && l !== '');
    expect(listed.map((l) => l.replace(/^\.\//, '')).sort()).toEqual([
      'default/credential/test',
      'default/security-policy/test',
      'default/sigstore-config/test',
    ]);
  });

  it("the disk image holds skopeo's signature, the CA and the hosts entry, and e2fsck finds it clean", async () => {
    const sig = await fs.readFile(path.join(lookaside, `demo/app@${signedDigest.replace(':', '=')}/signature-1`));
    expect(
      (await debugfsCatFile(disk, FS_OFFSET, `${signatureDir('demo/app', signedDigest)}/signature-1`)).equals(sig),
    ).toBe(true);
    expect((await debugfsCatFile(disk, FS_OFFSET, '/etc/hosts')).toString()).toBe(
      '127.0.0.1 localhost\n# BEGIN kbs-bundler registry addresses (managed by `kbs-bundler stage`; `kbs-bundler unstage` removes it)\n127.0.0.1 localhost\n# END kbs-bundler registry addresses\n',
    );
    const ca = (await fs.readFile(registry.caFile, 'utf8')).trim();
    expect((await debugfsCatFile(disk, FS_OFFSET, '/etc/ssl/certs/ca-certificates.crt')).toString()).toContain(ca);
    expect((await e2fsckClean(disk, FS_OFFSET)).code).toBe(0);
  });
});

describe('5. verify --fetch, as the guest decides', () => {
  for (const [kind, kbs] of [
    ['disk image', 'kbs-nested'],
    ['initrd', 'kbs-flat'],
  ] as const) {
    const rootfs = () => (kind === 'disk image' ? disk : initrd);

    it(`${kind}: the signed image is allowed, with the digest the registry serves`, async () => {
      const { r, report } = await verify(`${host}/demo/app:1.0`, kbs, rootfs(), ['--mode', 'both']);
      expect(r.code).toBe(0);
      expect(report.digest).toBe(signedDigest);
      expect(report.decisions.map((d) => [d.side, d.allowed])).toEqual([
        ['guest', true],
        ['host', true],
      ]);
    });

    it(`${kind}: the same image pushed unsigned is denied: no signature for that repository`, async () => {
      const { r, report } = await verify(`${host}/demo/unsigned:1.0`, kbs, rootfs());
      expect(r.code).toBe(1);
      const [guest] = report.decisions;
      expect(guest?.message).toBe(DENIED_BY_SIGNED_BY);
      expect(guest?.chain[1]).toBe(
        `Read Sigstore Dir failed: Os { code: 2, kind: NotFound, message: "No such file or directory" }, path: ${signatureDir('demo/unsigned', signedDigest)}`,
      );
    });

    it(`${kind}: a tag serving a manifest other than the signed one is denied`, async () => {
      const { r, report } = await verify(`${host}/demo/app:tampered`, kbs, rootfs(), ['--mode', 'both']);
      expect(r.code).toBe(1);
      expect(report.digest).toBe(tamperedDigest);
      const [guest, hostSide] = report.decisions;
      expect(guest?.message).toBe(DENIED_BY_SIGNED_BY);
      expect(guest?.chain[1]).toBe(
        `Read Sigstore Dir failed: Os { code: 2, kind: NotFound, message: "No such file or directory" }, path: ${signatureDir('demo/app', tamperedDigest)}`,
      );
      expect(hostSide?.message).toBe('Source image rejected: A signature was required, but no signature exists');
    });
  }

  it('a signature moved to the tampered digest is not staged, and the guest would reject it on the payload digest', async () => {
    const misplaced = at('lookaside-misplaced', `demo/app@${tamperedDigest.replace(':', '=')}`);
    await fs.mkdir(misplaced, { recursive: true });
    await fs.copyFile(
      path.join(lookaside, `demo/app@${signedDigest.replace(':', '=')}/signature-1`),
      path.join(misplaced, 'signature-1'),
    );
    const plan = await cli([
      'stage',
      '-c',
      'bundle.yaml',
      '--rootfs',
      initrd,
      '--signatures',
      'lookaside-misplaced',
      '--dry-run',
      '--json',
    ]);
    expect(plan.code).toBe(0);
    const skipped = (JSON.parse(plan.stdout) as { skippedSignatures: Array<{ code: string; reason: string }> })
      .skippedSignatures;
    expect(skipped.map((x) => [x.code, x.reason])).toEqual([
      ['digest-mismatch', `it signs manifest ${signedDigest}, but it is stored for ${tamperedDigest}`],
    ]);
    // Put there by hand anyway (a directory rootfs), the guest reads it and refuses it.
    const root = at('rootfs-misplaced');
    await fs.mkdir(path.join(root, 'var/lib/containers'), { recursive: true });
    await fs.cp(at('lookaside-misplaced'), path.join(root, 'var/lib/containers/sigstore'), { recursive: true });
    // Under its own tag the signed identity (…/demo/app:1.0) does not match; served as :1.0, the digest does not.
    const { r, report } = await verify(`${host}/demo/app:tampered`, 'kbs-nested', root);
    expect(r.code).toBe(1);
    expect(report.decisions[0]?.chain[1]).toBe(
      'The signatures do not satisfied! Reject reason: [Match reference failed.]',
    );
    const asSigned = await cli([
      'verify',
      `${host}/demo/app:1.0`,
      '--kbs',
      'kbs-nested',
      '--rootfs',
      root,
      '--digest',
      tamperedDigest,
      '--json',
    ]);
    expect(asSigned.code).toBe(1);
    expect((JSON.parse(asSigned.stdout) as Report).decisions[0]?.chain[1]).toBe(
      `The signatures do not satisfied! Reject reason: [SigPayload's manifest digest does not match, the input is ${tamperedDigest}, but in SigPayload it is ${signedDigest}]`,
    );
  });

  it('the signed image is allowed from the tarball form of the repository too', async () => {
    const { r } = await verify(`${host}/demo/app:1.0`, 'kbs.tar', initrd);
    expect(r.code).toBe(0);
  });

  it('a wrong registry credential denies the pull with the authentication reason, and never prints the password', async () => {
    const r = await cli([
      'verify',
      `${host}/demo/app:1.0`,
      '--kbs',
      'kbs-wrong-password',
      '--rootfs',
      disk,
      '--fetch',
      '--ca-file',
      'registry-ca.crt',
    ]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^DENIED /);
    expect(r.stdout).toContain(
      `  message: cannot pull the image manifest: authentication failed for ${host} (credential from auths key "${host}"): UNAUTHORIZED: authentication required\n`,
    );
    expect(r.stdout + r.stderr).not.toContain('not-the-password');
    expect(r.stdout + r.stderr).not.toContain(registry.password);
  });

  it('lint finds nothing in the built repository and the staged guest images', async () => {
    for (const rootfs of [disk, initrd]) {
      const r = await cli(['lint', '--kbs', 'kbs-nested', '--rootfs', rootfs]);
      expect([rootfs, r.code, r.stdout.trim()]).toEqual([
        rootfs,
        0,
        'No findings: the guest and the host read this configuration the same way.\n(linted for image-rs of guest-components v0.21.0)',
      ]);
    }
  });

  it('a broken variant (lookaside-only sigstore config, keyPath under /run) is flagged by lint and denied by verify', async () => {
    const built = await must(['build', '-c', 'bundle-broken.yaml', '-o', 'kbs-broken']);
    expect(built.stderr).toContain('warning: keyPath /run/image-security/simple_signing/pubkey.gpg is under /run');
    // A hand-written sigstore config in the style of a podman host: lookaside only, which image-rs never reads.
    await fs.writeFile(
      at('kbs-broken/default/sigstore-config/test'),
      `docker:\n  ${host}:\n    lookaside: file:///var/lib/containers/sigstore\n`,
    );
    const lint = await cli(['lint', '--kbs', 'kbs-broken', '--rootfs', disk, '--json']);
    expect(lint.code).toBe(1);
    const findings = (JSON.parse(lint.stdout) as { findings: Array<{ code: string; problem: string }> }).findings;
    expect(findings.map((f) => f.code)).toEqual(expect.arrayContaining(['L_LOOKASIDE_ONLY', 'L_RUN_PATH']));
    expect(findings.find((f) => f.code === 'L_RUN_PATH')?.problem).toBe(
      'keyPath /run/image-security/simple_signing/pubkey.gpg is under /run',
    );

    const { r, report } = await verify(`${host}/demo/app:1.0`, 'kbs-broken', disk);
    expect(r.code).toBe(1);
    expect(report.decisions[0]?.message).toBe(
      'Initialize signature validator failed: Invalid simple signing sigstore config',
    );
    // With the sigstore config fixed, the /run keyPath alone still denies: the key is not where the guest looks.
    const keyOnly = await verify(`${host}/demo/app:1.0`, 'kbs-broken', disk, [
      '--sigstore-config',
      'kbs-nested/default/sigstore-config/test',
    ]);
    expect(keyOnly.r.code).toBe(1);
    expect(keyOnly.report.decisions[0]?.message).toBe(DENIED_BY_SIGNED_BY);
    expect(keyOnly.report.decisions[0]?.chain[1]).toBe(
      'Read SignedBy keyPath failed: Failed to read local file /run/image-security/simple_signing/pubkey.gpg: No such file or directory, path: /run/image-security/simple_signing/pubkey.gpg',
    );
    // Staging the key there anyway is refused unless forced: the agent's tmpfs on /run hides it at boot.
    await fs.copyFile(initrd, at('initrd-run.img'));
    const refused = await cli(['stage', '-c', 'bundle-broken.yaml', '--rootfs', 'initrd-run.img']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('warning [W_RUN] /run/image-security/simple_signing/pubkey.gpg');
    expect((await fs.readFile(at('initrd-run.img'))).equals(await fs.readFile(initrd))).toBe(true);
  });
});

describe('6. render the pod and its initdata', () => {
  const kbsUrl = 'http://127.0.0.1:8080';

  interface CdhToml {
    kbc: { name: string; url: string };
    image: Record<string, unknown>;
  }
  const cdhOf = (initdataToml: string): CdhToml => {
    const doc = parseToml(initdataToml) as { version: string; data: Record<string, string> };
    expect(doc.version).toBe('0.1.0');
    return parseToml(doc.data['cdh.toml'] ?? '') as unknown as CdhToml;
  };
  const expectUris = async (cdh: CdhToml) => {
    expect(cdh.kbc).toEqual({ name: 'cc_kbc', url: kbsUrl });
    expect(cdh.image.image_security_policy_uri).toBe('kbs:///default/security-policy/test');
    expect(cdh.image.sigstore_config_uri).toBe('kbs:///default/sigstore-config/test');
    expect(cdh.image.authenticated_registry_credentials_uri).toBe('kbs:///default/credential/test');
    const roots = cdh.image.extra_root_certificates as string[];
    expect(roots.map((c) => c.trim())).toContain((await fs.readFile(registry.caFile, 'utf8')).trim());
  };

  it('render initdata gives TOML whose cdh.toml names the KBS resources build wrote and the registry CA', async () => {
    const r = await must(['render', 'initdata', '-c', 'bundle.yaml', '--kbs-url', kbsUrl]);
    await expectUris(cdhOf(r.stdout));
    for (const uri of ['security-policy', 'sigstore-config', 'credential'])
      await fs.access(at('kbs-nested/default', uri, 'test'));
  });

  it('render pod gives a kata pod for the signed image whose initdata annotation decodes to the same TOML', async () => {
    const r = await must([
      'render',
      'pod',
      '--image',
      `${host}/demo/app:1.0`,
      '-c',
      'bundle.yaml',
      '--kbs-url',
      kbsUrl,
    ]);
    const pod = parseYaml(r.stdout) as {
      kind: string;
      metadata: { annotations: Record<string, string> };
      spec: { runtimeClassName: string; containers: Array<{ image: string }> };
    };
    expect([pod.kind, pod.spec.runtimeClassName, pod.spec.containers[0]?.image]).toEqual([
      'Pod',
      'kata',
      `${host}/demo/app:1.0`,
    ]);
    const annotation = pod.metadata.annotations['io.katacontainers.config.hypervisor.cc_init_data'] ?? '';
    await expectUris(cdhOf(gunzipSync(Buffer.from(annotation, 'base64')).toString('utf8')));
  });
});
