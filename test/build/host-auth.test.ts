/**
 * `build --host-config` with registry credentials writes auth.json (containers-auth.json, 0600) that the
 * host's own tools accept: skopeo pulls from a TLS + htpasswd registry with it and the written certs.d.
 */
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import { pushImageWithBundle } from '../helpers/registry-bundle.js';
import { runCli } from '../helpers/run-cli.js';
import { skopeo } from '../helpers/skopeo.js';

let registry: TestRegistry;
let work: string;
let reference: string;

beforeAll(async () => {
  work = await fs.mkdtemp(path.join(os.tmpdir(), 'kbs-host-auth-'));
  registry = await startRegistry();
  reference = await pushImageWithBundle(work, registry);
}, 120_000);

afterAll(async () => {
  await registry?.stop();
  await fs.rm(work, { recursive: true, force: true });
});

describe('build --host-config with credentials', () => {
  it('writes auth.json 0600 that skopeo uses to pull, and a README naming the host paths', async () => {
    const hc = path.join(work, 'host');
    const r = await runCli(['build', '-c', 'bundle.yaml', '--host-config', hc], { cwd: work });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);

    const auth = path.join(hc, 'auth.json');
    expect((await fs.stat(auth)).mode & 0o777).toBe(0o600);
    const decoded = JSON.parse(await fs.readFile(auth, 'utf8')) as { auths: Record<string, { auth: string }> };
    expect(Object.keys(decoded.auths)).toEqual([registry.host]);
    expect(Buffer.from(decoded.auths[registry.host]!.auth, 'base64').toString()).toBe(
      `${registry.username}:${registry.password}`,
    );

    const certDir = path.join(hc, 'certs.d', registry.host);
    const withAuth = await skopeo(['inspect', '--raw', `docker://${reference}`], { authFile: auth, certDir });
    expect(withAuth.stderr).toBe('');
    expect(withAuth.code).toBe(0);
    const without = await skopeo(['inspect', '--raw', `docker://${reference}`], { certDir });
    expect(without.code).not.toBe(0);

    const readme = await fs.readFile(path.join(hc, 'README.md'), 'utf8');
    expect(readme).toContain('| policy.json | /etc/containers/policy.json |');
    expect(readme).toContain(`| certs.d/${registry.host}/ca.crt | /etc/containers/certs.d/${registry.host}/ca.crt`);
    expect(readme).toContain('/run/containers/0/auth.json');
    expect(readme).toContain('- /var/lib/containers/sigstore');
  });

  it('writes no auth.json when the bundle has no credentials', async () => {
    const bundle = path.join(work, 'anonymous.yaml');
    await fs.writeFile(bundle, 'policy:\n  default: [{type: insecureAcceptAnything}]\n');
    const hc = path.join(work, 'host-anon');
    const r = await runCli(['build', '-c', bundle, '--host-config', hc], { cwd: work });
    expect(r.code).toBe(0);
    expect((await fs.readdir(hc)).sort()).toEqual(['README.md', 'policy.json', 'registries.d']);
  });
});
