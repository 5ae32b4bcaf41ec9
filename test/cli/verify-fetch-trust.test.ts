/**
 * `verify --fetch` trusts what the guest trusts: the CA bundles of its rootfs (which `stage` appends to) and the
 * bundle's caFile with -c, and says which one made the connection to a real TLS + htpasswd registry trusted.
 */
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import { pushImageWithBundle } from '../helpers/registry-bundle.js';
import { runCli } from '../helpers/run-cli.js';

let registry: TestRegistry;
let work: string;
let reference: string;
let kbs: string;
let rootfs: string;

beforeAll(async () => {
  work = await fs.mkdtemp(path.join(os.tmpdir(), 'kbs-fetch-trust-'));
  registry = await startRegistry();
  reference = await pushImageWithBundle(work, registry);
  kbs = path.join(work, 'kbs');
  expect((await runCli(['build', '-c', 'bundle.yaml', '-o', kbs], { cwd: work })).code).toBe(0);
  rootfs = path.join(work, 'rootfs');
  await fs.mkdir(path.join(rootfs, 'etc/ssl/certs'), { recursive: true });
  await fs.copyFile(registry.caFile, path.join(rootfs, 'etc/ssl/certs/ca-certificates.crt'));
}, 120_000);

afterAll(async () => {
  await registry?.stop();
  await fs.rm(work, { recursive: true, force: true });
});

describe('verify --fetch trusts what the guest trusts', () => {
  it('without a CA the registry is not trusted (the guest would fail the pull too)', async () => {
    const r = await runCli(['verify', reference, '--kbs', kbs, '--fetch']);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('cannot pull the image manifest');
  });

  it('--rootfs: the CA bundle of the guest makes it trusted, and the report says so', async () => {
    const r = await runCli(['verify', reference, '--kbs', kbs, '--rootfs', rootfs, '--fetch']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(
      `registry TLS: ${registry.host} trusted through the guest CA bundle /etc/ssl/certs/ca-certificates.crt`,
    );
  });

  it("-c bundle.yaml: the bundle's caFile, in --json too", async () => {
    const r = await runCli(['verify', reference, '--kbs', kbs, '-c', 'bundle.yaml', '--fetch', '--json'], {
      cwd: work,
    });
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout) as { allowed: boolean; registryTls: unknown };
    expect(report.allowed).toBe(true);
    expect(report.registryTls).toEqual([
      { registry: registry.host, trustedBy: `bundle.yaml registries["${registry.host}"].caFile` },
    ]);
  });

  it("--initdata: cdh.toml's extra_root_certificates, as render initdata writes them, plain or encoded", async () => {
    const rendered = await runCli(['render', 'initdata', '-c', 'bundle.yaml', '--kbs-url', 'http://kbs:8080'], {
      cwd: work,
    });
    expect(rendered.code).toBe(0);
    const initdata = path.join(work, 'initdata.toml');
    await fs.writeFile(initdata, rendered.stdout);
    const r = await runCli(['verify', reference, '--kbs', kbs, '--initdata', initdata, '--fetch']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(
      `registry TLS: ${registry.host} trusted through ${initdata} cdh.toml extra_root_certificates[0]`,
    );

    const encoded = await runCli(
      ['render', 'initdata', '-c', 'bundle.yaml', '--kbs-url', 'http://kbs:8080', '--encode'],
      {
        cwd: work,
      },
    );
    const annotation = path.join(work, 'initdata.b64');
    await fs.writeFile(annotation, encoded.stdout);
    const fromAnnotation = await runCli(['verify', reference, '--kbs', kbs, '--initdata', annotation, '--fetch']);
    expect(fromAnnotation.code).toBe(0);
  });

  it('-c bundle.yaml brings the credentials when the KBS has no credential resource', async () => {
    const bare = path.join(work, 'kbs-bare');
    await fs.cp(kbs, bare, { recursive: true });
    await fs.rm(path.join(bare, 'default/credential'), { recursive: true });
    const without = await runCli(['verify', reference, '--kbs', bare, '--rootfs', rootfs, '--fetch']);
    expect(without.code).toBe(1);
    const withBundle = await runCli(
      ['verify', reference, '--kbs', bare, '--rootfs', rootfs, '-c', 'bundle.yaml', '--fetch'],
      { cwd: work },
    );
    expect(withBundle.stderr).toBe('');
    expect(withBundle.code).toBe(0);
  });
});
