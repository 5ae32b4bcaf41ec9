/** `verify`'s everyday mistakes: one line, exit 2, and no network access before every local input is checked. */
import { generateKeyPairSync } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/run-cli.js';
import { TEMPLATES } from '../helpers/paths.js';
import {
  IMAGE_RS_RESOURCES,
  SIGNED_DIGEST,
  kbsTreeFromOfflineJson,
  rootfsWithImageRsSignatures,
  tempDir,
} from '../verify/fixtures.js';

const SIGNED = 'quay.io/kata-containers/confidential-containers:signed';
let work: string;
let kbs: string;
let rootfs: string;
let server: net.Server;
let connections = 0;
let port = 0;

beforeAll(async () => {
  work = await tempDir('verify-inputs');
  kbs = await kbsTreeFromOfflineJson(IMAGE_RS_RESOURCES, path.join(work, 'kbs'));
  rootfs = await rootfsWithImageRsSignatures(path.join(work, 'rootfs'));
  server = net.createServer((socket) => {
    connections++;
    socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as net.AddressInfo).port;
});
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  await fs.rm(work, { recursive: true, force: true });
});

async function oneLine(args: string[]): Promise<string> {
  const r = await runCli(['verify', ...args], { cwd: work });
  expect(r.stdout).toBe('');
  expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
  expect(r.code).toBe(2);
  return r.stderr.trimEnd();
}

describe('verify --fetch checks local inputs before the network', () => {
  it('an unknown --kbs-tag is a usage error and the registry is never contacted', async () => {
    const image = `127.0.0.1:${port}/demo/app:1.0`;
    const line = await oneLine([image, '--kbs', kbs, '--rootfs', rootfs, '--fetch', '--kbs-tag', 'prod']);
    expect(line).toContain('has no default/security-policy/prod');
    expect(connections).toBe(0);
  });

  it('an unreadable --ca-file is a usage error and the registry is never contacted', async () => {
    const image = `127.0.0.1:${port}/demo/app:1.0`;
    const line = await oneLine([image, '--kbs', kbs, '--fetch', '--ca-file', path.join(work, 'absent.pem')]);
    expect(line).toContain('absent.pem: the CA certificate file does not exist');
    expect(connections).toBe(0);
  });

  it('a policy no side can load denies without contacting the registry, as every pull would fail first', async () => {
    const image = `127.0.0.1:${port}/demo/app:1.0`;
    const policy = path.join(work, 'broken-policy.json');
    await fs.writeFile(policy, '{"default": [{"type": "reject"}]');
    const r = await runCli(
      ['verify', image, '--policy', policy, '--rootfs', rootfs, '--fetch', '--mode', 'both', '--json'],
      {
        cwd: work,
      },
    );
    expect(r.code).toBe(1);
    const report = JSON.parse(r.stdout) as { decisions: Array<{ side: string; allowed: boolean; code: string }> };
    expect(report.decisions.map((d) => [d.side, d.allowed, d.code])).toEqual([
      ['guest', false, 'E_POLICY_INVALID'],
      ['host', false, 'E_POLICY_INVALID'],
    ]);
    expect(connections).toBe(0);
    // A policy the sides can load does go to the registry (the listener drops the connection).
    await fs.writeFile(policy, '{"default": [{"type": "insecureAcceptAnything"}], "transports": {}}');
    await runCli(['verify', image, '--policy', policy, '--rootfs', rootfs, '--fetch', '--insecure'], { cwd: work });
    expect(connections).toBeGreaterThan(0);
  });
});

describe('verify inputs', () => {
  it('--ca-file holding a private key is refused as build refuses it, without quoting it', async () => {
    const keyFile = path.join(work, 'domain.key');
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
    await fs.writeFile(keyFile, pem);
    const line = await oneLine([
      SIGNED,
      '--kbs',
      kbs,
      '--rootfs',
      rootfs,
      '--digest',
      SIGNED_DIGEST,
      '--ca-file',
      keyFile,
    ]);
    expect(line).toBe(
      `kbs-bundler: ${keyFile}: --ca-file: is a private key, not a CA certificate; give the certificate (-----BEGIN CERTIFICATE-----)`,
    );
    expect(line).not.toContain(pem.split('\n')[1]!);
  });

  it('--kbs bundle.yaml says a bundle.yaml is not a KBS repository and how to build one', async () => {
    const bundle = path.join(TEMPLATES, 'example/bundle.yaml');
    const line = await oneLine([SIGNED, '--kbs', bundle, '--digest', SIGNED_DIGEST]);
    expect(line).toBe(
      `kbs-bundler: ${bundle}: is a bundle.yaml, not a KBS repository; build the repository first (kbs-bundler build -c ${bundle} -o kbs-repo) and give --kbs kbs-repo`,
    );
  });

  it('without --rootfs, a rule that needs signatures is a usage error saying where signatures are read from', async () => {
    const line = await oneLine([SIGNED, '--kbs', kbs, '--digest', SIGNED_DIGEST]);
    expect(line).toMatch(
      /^kbs-bundler: --rootfs: the policy for quay\.io\/kata-containers\/confidential-containers:signed needs signatures, which are read from the guest rootfs \(.*\): give --rootfs DIR\|IMG, or --rootfs \/ for this machine's own store$/,
    );
    const both = await runCli(['verify', SIGNED, '--kbs', kbs, '--digest', SIGNED_DIGEST, '--mode', 'both']);
    expect(both.code).toBe(2);
  });

  it('without --rootfs, an image whose rule needs no signature is still decided', async () => {
    const r = await runCli(['verify', 'docker.io/library/busybox:latest', '--kbs', kbs, '--digest', SIGNED_DIGEST]);
    expect(r.stderr).toBe('');
    expect([0, 1]).toContain(r.code);
  });
});
