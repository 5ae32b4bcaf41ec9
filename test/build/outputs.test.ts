/**
 * `build` on the bundled example: every output form checked against the nested tree byte for
 * byte, modes, idempotence, and that the registry password never shows up in what is printed.
 */
import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { authsFileSchema } from '../../src/registry/auths-schema.js';
import { policySchema } from '../../src/policy/schema.js';
import { sigstoreConfigSchema } from '../../src/lookaside/schema.js';
import { CLI, TEMPLATES } from '../helpers/paths.js';
import { runCli } from '../helpers/run-cli.js';
import { copyExample, treeFiles, treeSnapshot } from './tree.js';

const run = promisify(execFile);
const PASSWORD = 'example-password';

let example: string;
let work: string;
let nested: Record<string, Buffer>;
let firstRun: { stdout: string; stderr: string };

beforeAll(async () => {
  example = await copyExample();
  work = path.dirname(example);
  const r = await runCli(
    [
      'build',
      '-c',
      'example/bundle.yaml',
      '-o',
      'nested',
      '--tar',
      'repo.tar',
      '--k8s',
      'secrets.yaml',
      '--kbs-client-script',
      'upload.sh',
      '--host-config',
      'host',
    ],
    { cwd: work },
  );
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  firstRun = r;
  nested = await treeFiles(path.join(work, 'nested'));
});

afterAll(async () => {
  await fs.rm(work, { recursive: true, force: true });
});

describe('build on templates/example', () => {
  it('writes the three resources of the openEuler guide, with the credential 0600', async () => {
    expect(await treeSnapshot(path.join(work, 'nested'))).toMatchObject({
      default: 'd 755',
      'default/credential': 'd 755',
      'default/credential/test': expect.stringMatching(/^f 600 /) as unknown,
      'default/security-policy/test': expect.stringMatching(/^f 644 /) as unknown,
      'default/sigstore-config/test': expect.stringMatching(/^f 644 /) as unknown,
    });
    expect(Object.keys(nested).sort()).toEqual([
      'default/credential/test',
      'default/security-policy/test',
      'default/sigstore-config/test',
    ]);
  });

  it('writes a policy with default and transports, keyData = base64 of the key file', async () => {
    const text = nested['default/security-policy/test']!.toString();
    const policy = policySchema.parse(JSON.parse(text));
    expect(Object.keys(JSON.parse(text) as object)).toEqual(['default', 'transports']);
    expect(policy.default).toEqual([{ type: 'reject' }]);
    const rules = policy.transports?.docker?.['registry.example.com:5000'];
    const keyFile = await fs.readFile(path.join(TEMPLATES, 'example/example-public-key.asc'));
    expect(rules).toEqual([{ type: 'signedBy', keyType: 'GPGKeys', keyData: keyFile.toString('base64') }]);
  });

  it('writes a sigstore config the guest reads: sigstore keys, file:// bases, no lookaside', () => {
    const raw = parse(nested['default/sigstore-config/test']!.toString()) as Record<string, unknown>;
    const config = sigstoreConfigSchema.parse(raw);
    expect(config['default-docker']).toEqual({ sigstore: 'file:///var/lib/containers/sigstore' });
    expect(config.docker).toEqual({ 'registry.example.com:5000': { sigstore: 'file:///var/lib/containers/sigstore' } });
    expect(nested['default/sigstore-config/test']!.toString()).not.toContain('lookaside');
  });

  it('writes a credential that decodes to the configured user:password', () => {
    const auths = authsFileSchema.parse(JSON.parse(nested['default/credential/test']!.toString()));
    expect(Object.keys(auths.auths)).toEqual(['registry.example.com:5000']);
    expect(Buffer.from(auths.auths['registry.example.com:5000']!.auth, 'base64').toString()).toBe(`demo:${PASSWORD}`);
  });

  it('prints resources and the key fingerprint, never the password', async () => {
    expect(firstRun.stdout).toContain('default/security-policy/test');
    expect(firstRun.stdout).toContain('DCD29C03BC6111298FBDE57C7C48400FEDEBAF21');
    expect(firstRun.stdout).toContain('example-signer@example.com');
    const json = await runCli(['build', '-c', 'example/bundle.yaml', '--dry-run', '--json'], { cwd: work });
    expect(json.code).toBe(0);
    const summary = JSON.parse(json.stdout) as {
      resources: Array<{ resource: string; size: number }>;
      keys: Array<{ fingerprint: string }>;
    };
    expect(summary.resources.map((r) => r.resource)).toEqual([
      'default/credential/test',
      'default/security-policy/test',
      'default/sigstore-config/test',
    ]);
    expect(summary.resources.find((r) => r.resource === 'default/credential/test')?.size).toBe(
      nested['default/credential/test']!.length,
    );
    expect(summary.keys.map((k) => k.fingerprint)).toEqual(['DCD29C03BC6111298FBDE57C7C48400FEDEBAF21']);
    const b64 = Buffer.from(`demo:${PASSWORD}`).toString('base64');
    for (const text of [firstRun.stdout, firstRun.stderr, json.stdout, json.stderr]) {
      expect(text).not.toContain(PASSWORD);
      expect(text).not.toContain(b64);
    }
  });

  it('writes the flat layout with the same bytes under repository/<repo>\\x2F<type>\\x2F<tag>', async () => {
    const r = await runCli(['build', '-c', 'example/bundle.yaml', '-o', 'flat', '--layout', 'flat'], { cwd: work });
    expect(r.code).toBe(0);
    const flat = await treeFiles(path.join(work, 'flat'));
    const expected = Object.fromEntries(
      Object.entries(nested).map(([p, b]) => [`repository/${p.split('/').join('\\x2F')}`, b]),
    );
    expect(flat).toEqual(expected);
    expect(Object.keys(flat)).toContain('repository/default\\x2Fsecurity-policy\\x2Ftest');
    const snap = await treeSnapshot(path.join(work, 'flat'));
    expect(snap['repository/default\\x2Fcredential\\x2Ftest']).toMatch(/^f 600 /);
  });

  it('writes a tarball that GNU tar extracts to the nested tree, modes and owner kept', async () => {
    const x = path.join(work, 'from-tar');
    await fs.mkdir(x);
    await run('tar', ['-xpf', path.join(work, 'repo.tar'), '-C', x]);
    expect(await treeSnapshot(x)).toEqual(await treeSnapshot(path.join(work, 'nested')));
    const listing = (await run('tar', ['-tvf', path.join(work, 'repo.tar'), '--numeric-owner'])).stdout
      .trim()
      .split('\n');
    expect(listing.map((l) => l.split(/\s+/).pop())).toEqual([
      'default/',
      'default/credential/',
      'default/credential/test',
      'default/security-policy/',
      'default/security-policy/test',
      'default/sigstore-config/',
      'default/sigstore-config/test',
    ]);
    for (const line of listing) expect(line).toMatch(/^\S+ 0\/0 .* 1970-01-01 00:00 /);
    expect(((await fs.stat(path.join(work, 'repo.tar'))).mode & 0o777).toString(8)).toBe('600');
  });

  it('writes k8s Secrets (one per type, one key per tag) that decode to the nested tree', async () => {
    const text = await fs.readFile(path.join(work, 'secrets.yaml'), 'utf8');
    const docs = parseAllDocuments(text)
      .map((d) => d.toJS() as { metadata: { name: string }; data: Record<string, string> } | null)
      .filter((d) => d !== null);
    expect(docs.map((d) => d.metadata.name)).toEqual(['credential', 'security-policy', 'sigstore-config']);
    const decoded: Record<string, Buffer> = {};
    for (const d of docs) {
      expect(d).toMatchObject({
        apiVersion: 'v1',
        kind: 'Secret',
        type: 'Opaque',
        metadata: { namespace: 'trustee-operator-system' },
      });
      for (const [tag, value] of Object.entries(d.data))
        decoded[`default/${d.metadata.name}/${tag}`] = Buffer.from(value, 'base64');
    }
    expect(decoded).toEqual(nested);
    expect(text).toContain('kbsSecretResources: ["credential","security-policy","sigstore-config"]');
  });

  it('writes a kbs-client script whose uploads equal the nested tree', async () => {
    const bin = path.join(work, 'fake-bin');
    const uploaded = path.join(work, 'uploaded');
    await fs.mkdir(bin);
    // A stand-in kbs-client that checks the flags and stores each --resource-file under --path.
    await fs.writeFile(
      path.join(bin, 'kbs-client'),
      [
        '#!/bin/sh',
        'set -eu',
        '[ "$1" = --url ] && [ "$2" = http://kbs.test:8080 ] && [ "$3" = config ] && [ "$4" = --admin-token-file ] && [ "$5" = /token ] || exit 9',
        '[ "$6" = set-resource ] && [ "$7" = --path ] && [ "$9" = --resource-file ] || exit 8',
        `mkdir -p "${uploaded}/$(dirname "$8")"`,
        `cp "\${10}" "${uploaded}/$8"`,
      ].join('\n'),
      { mode: 0o755 },
    );
    const script = path.join(work, 'upload.sh');
    expect(((await fs.stat(script)).mode & 0o777).toString(8)).toBe('700');
    const text = await fs.readFile(script, 'utf8');
    expect(text).toContain('kbs-bundler build --trustee-version 0.20');
    expect(text).toMatch(
      /kbs-client --url "\$KBS_URL" \$\{KBS_CERT_FILE:\+--cert-file "\$KBS_CERT_FILE"\} config --admin-token-file "\$KBS_ADMIN_TOKEN" set-resource --path default\/security-policy\/test --resource-file /,
    );
    await run('sh', [script], {
      env: {
        ...process.env,
        PATH: `${bin}:${process.env.PATH}`,
        KBS_URL: 'http://kbs.test:8080',
        KBS_ADMIN_TOKEN: '/token',
      },
    });
    expect(await treeFiles(uploaded)).toEqual(nested);
  });

  it('writes host-side twins: policy.json with keyData, registries.d with lookaside and sigstore, certs.d', async () => {
    const host = await treeFiles(path.join(work, 'host'));
    expect(Object.keys(host).sort()).toEqual([
      'README.md',
      'auth.json',
      'certs.d/registry.example.com:5000/ca.crt',
      'policy.json',
      'registries.d/default.yaml',
      'registries.d/kbs-bundler.yaml',
    ]);
    expect(host['policy.json']).toEqual(nested['default/security-policy/test']);
    expect(host['auth.json']).toEqual(nested['default/credential/test']);
    expect(parse(host['registries.d/kbs-bundler.yaml']!.toString())).toEqual({
      docker: {
        'registry.example.com:5000': {
          lookaside: 'file:///var/lib/containers/sigstore',
          sigstore: 'file:///var/lib/containers/sigstore',
        },
      },
    });
    expect(host['certs.d/registry.example.com:5000/ca.crt']!.toString()).toBe(
      await fs.readFile(path.join(TEMPLATES, 'example/registry-ca.crt'), 'utf8'),
    );
  });

  it('is idempotent: a second build gives byte-identical outputs, tarball included', async () => {
    const before = {
      nested: await treeSnapshot(path.join(work, 'nested')),
      host: await treeSnapshot(path.join(work, 'host')),
      files: await Promise.all(['repo.tar', 'secrets.yaml', 'upload.sh'].map((f) => fs.readFile(path.join(work, f)))),
    };
    const r = await runCli(
      [
        'build',
        '-c',
        'example/bundle.yaml',
        '-o',
        'nested',
        '--tar',
        'repo.tar',
        '--k8s',
        'secrets.yaml',
        '--kbs-client-script',
        'upload.sh',
        '--host-config',
        'host',
      ],
      { cwd: work },
    );
    expect(r.code).toBe(0);
    expect(await treeSnapshot(path.join(work, 'nested'))).toEqual(before.nested);
    expect(await treeSnapshot(path.join(work, 'host'))).toEqual(before.host);
    const after = await Promise.all(
      ['repo.tar', 'secrets.yaml', 'upload.sh'].map((f) => fs.readFile(path.join(work, f))),
    );
    expect(after).toEqual(before.files);
    // the output directories are links to the trees beside them; nothing else is left
    const links = (await fs.readdir(work, { withFileTypes: true })).filter((e) => e.isSymbolicLink());
    const trees = await Promise.all(links.map((e) => fs.readlink(path.join(work, e.name))));
    const leftovers = (await fs.readdir(work)).filter((n) => n.startsWith('.') && !trees.includes(n));
    expect(leftovers).toEqual([]);
  });

  it('writes the same modes under a strict umask', async () => {
    await run('sh', ['-c', `umask 077 && "${process.execPath}" "${CLI}" build -c example/bundle.yaml -o strict`], {
      cwd: work,
    });
    expect(await treeSnapshot(path.join(work, 'strict'))).toEqual(await treeSnapshot(path.join(work, 'nested')));
  });

  it('--dry-run writes nothing', async () => {
    const r = await runCli(['build', '-c', 'example/bundle.yaml', '-o', 'dry', '--tar', 'dry.tar', '--dry-run'], {
      cwd: work,
    });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Would write 3 KBS resources');
    await expect(fs.stat(path.join(work, 'dry'))).rejects.toThrow();
    await expect(fs.stat(path.join(work, 'dry.tar'))).rejects.toThrow();
  });

  it('runs on templates/example in place, as the README says', async () => {
    const out = path.join(work, 'in-place');
    const r = await runCli(['build', '-c', path.join(TEMPLATES, 'example/bundle.yaml'), '-o', out]);
    expect(r.code).toBe(0);
    expect(await treeFiles(out)).toEqual(nested);
  });
});
