import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parse as parseToml } from 'smol-toml';
import { parse as parseYaml } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeInitdata, encodeInitdata } from '../../src/render/initdata.js';
import { TEMPLATES } from '../helpers/paths.js';
import { runCli } from '../helpers/run-cli.js';

const EXAMPLE = path.join(TEMPLATES, 'example');
const EXAMPLE_BUNDLE = path.join(EXAMPLE, 'bundle.yaml');

type Toml = Record<string, unknown>;
const cdhOf = (initdata: string) => parseToml((parseToml(initdata).data as Toml)['cdh.toml'] as string) as Toml;
const aaOf = (initdata: string) => parseToml((parseToml(initdata).data as Toml)['aa.toml'] as string) as Toml;

describe('kbs-bundler render', () => {
  let tmp: string;
  let otherBundle: string;
  let anonBundle: string;

  beforeAll(async () => {
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'kbsb-render-'));
    // A bundle with another repository/tag, two registries (one CA file shared, one with its own CA), no passwords.
    await fs.writeFile(path.join(tmp, 'second-ca.crt'), await fs.readFile(path.join(EXAMPLE, 'registry-ca.crt')));
    otherBundle = path.join(tmp, 'other.yaml');
    await fs.writeFile(
      otherBundle,
      [
        'kbs: {repository: team-a, tag: prod}',
        'policy:',
        '  default: [{type: reject}]',
        '  scopes:',
        `    "registry.example.com:5000": [{type: signedBy, keys: [${JSON.stringify(path.join(EXAMPLE, 'example-public-key.asc'))}]}]`,
        'registries:',
        `  "registry.example.com:5000": {caFile: ${JSON.stringify(path.join(EXAMPLE, 'registry-ca.crt'))}}`,
        '  "mirror.example.com": {caFile: second-ca.crt}',
        '',
      ].join('\n'),
    );
    anonBundle = otherBundle;
  });
  afterAll(async () => {
    await fs.rm(tmp, { recursive: true, force: true });
  });

  it("render pod: the guide's pod YAML", async () => {
    const r = await runCli(['render', 'pod', '--image', 'registry.com:5000/busybox_sign:latest']);
    expect(r.code).toBe(0);
    expect(parseYaml(r.stdout)).toEqual({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'sign-test' },
      spec: { runtimeClassName: 'kata', containers: [{ name: 'box', image: 'registry.com:5000/busybox_sign:latest' }] },
    });
  });

  it('render pod --initdata: plain TOML is encoded, an encoded value is used as is', async () => {
    const init = await runCli(['render', 'initdata', '-c', EXAMPLE_BUNDLE, '--kbs-url', 'http://kbs.example.com:8080']);
    expect(init.code).toBe(0);
    const plainFile = path.join(tmp, 'initdata.toml');
    await fs.writeFile(plainFile, init.stdout);
    const r = await runCli([
      'render',
      'pod',
      '--image',
      'registry.example.com:5000/app:1',
      '--name',
      'signed-app',
      '--runtime-class',
      'kata-qemu-tdx',
      '--initdata',
      plainFile,
    ]);
    expect(r.code).toBe(0);
    const pod = parseYaml(r.stdout) as {
      metadata: { name: string; annotations: Record<string, string> };
      spec: { runtimeClassName: string };
    };
    expect(pod.metadata.name).toBe('signed-app');
    expect(pod.spec.runtimeClassName).toBe('kata-qemu-tdx');
    const value = pod.metadata.annotations['io.katacontainers.config.hypervisor.cc_init_data'] ?? '';
    expect(decodeInitdata(value)).toBe(init.stdout);

    const encodedFile = path.join(tmp, 'initdata.b64');
    await fs.writeFile(encodedFile, `${encodeInitdata(init.stdout)}\n`);
    const again = await runCli([
      'render',
      'pod',
      '--image',
      'registry.example.com:5000/app:1',
      '--initdata',
      encodedFile,
    ]);
    expect(
      (parseYaml(again.stdout) as typeof pod).metadata.annotations['io.katacontainers.config.hypervisor.cc_init_data'],
    ).toBe(encodeInitdata(init.stdout));
  });

  it("render pod -c --kbs-url embeds the bundle's initdata in one step", async () => {
    const init = await runCli(['render', 'initdata', '-c', EXAMPLE_BUNDLE, '--kbs-url', 'http://kbs.example.com:8080']);
    const r = await runCli([
      'render',
      'pod',
      '--image',
      'registry.example.com:5000/app:1',
      '-c',
      EXAMPLE_BUNDLE,
      '--kbs-url',
      'http://kbs.example.com:8080',
    ]);
    expect(r.code).toBe(0);
    const pod = parseYaml(r.stdout) as { metadata: { annotations: Record<string, string> } };
    expect(decodeInitdata(pod.metadata.annotations['io.katacontainers.config.hypervisor.cc_init_data'] ?? '')).toBe(
      init.stdout,
    );
    const half = await runCli(['render', 'pod', '--image', 'busybox', '-c', EXAMPLE_BUNDLE]);
    expect(half.code).toBe(2);
    expect(half.stderr).toContain('--config: -c and --kbs-url go together');
  });

  it('render pod refuses a bad image, name or initdata file with exit 2', async () => {
    const bad = await runCli(['render', 'pod', '--image', 'Registry.com/UPPER:1']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain(
      '--image: invalid reference "Registry.com/UPPER:1": repository name must be lowercase',
    );
    const name = await runCli(['render', 'pod', '--image', 'busybox', '--name', 'Sign_Test']);
    expect(name.code).toBe(2);
    expect(name.stderr).toContain('--name: "Sign_Test" is not a valid Kubernetes name');
    const junk = path.join(tmp, 'junk.txt');
    await fs.writeFile(junk, 'hello\n');
    const init = await runCli(['render', 'pod', '--image', 'busybox', '--initdata', junk]);
    expect(init.code).toBe(2);
    expect(init.stderr).toContain(
      `${junk}: is neither initdata TOML (no [data] table) nor a gzip+base64 initdata value`,
    );
    const missing = await runCli(['render', 'pod', '--image', 'busybox', '--initdata', path.join(tmp, 'nope.toml')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('nope.toml: the initdata file does not exist');
  });

  it("render initdata: cdh.toml points at the bundle's resources and carries the registries' CAs", async () => {
    const r = await runCli(['render', 'initdata', '-c', EXAMPLE_BUNDLE, '--kbs-url', 'https://kbs.example.com:8443/']);
    expect(r.code).toBe(0);
    const top = parseToml(r.stdout) as Toml;
    expect(top.version).toBe('0.1.0');
    expect(top.algorithm).toBe('sha256');
    const cdh = cdhOf(r.stdout);
    expect(cdh.kbc).toEqual({ name: 'cc_kbc', url: 'https://kbs.example.com:8443' });
    const ca = await fs.readFile(path.join(EXAMPLE, 'registry-ca.crt'), 'utf8');
    expect(cdh.image).toEqual({
      image_security_policy_uri: 'kbs:///default/security-policy/test',
      sigstore_config_uri: 'kbs:///default/sigstore-config/test',
      authenticated_registry_credentials_uri: 'kbs:///default/credential/test',
      extra_root_certificates: [ca.trim() + '\n'],
    });
    expect((aaOf(r.stdout).token_configs as Toml).kbs).toEqual({ url: 'https://kbs.example.com:8443' });
    expect(r.stderr).toBe('');
  });

  it('render initdata --encode: gzip+base64 that decodes to the same TOML, same bytes each time', async () => {
    const args = ['render', 'initdata', '-c', EXAMPLE_BUNDLE, '--kbs-url', 'http://10.0.0.5:8080'];
    const plain = await runCli(args);
    const encoded = await runCli([...args, '--encode']);
    expect(encoded.code).toBe(0);
    expect(encoded.stdout.trim()).toMatch(/^H4sI[A-Za-z0-9+/=]+$/);
    expect(decodeInitdata(encoded.stdout.trim())).toBe(plain.stdout);
    expect((await runCli([...args, '--encode'])).stdout).toBe(encoded.stdout);
    expect(cdhOf(decodeInitdata(encoded.stdout.trim())).kbc).toEqual({ name: 'cc_kbc', url: 'http://10.0.0.5:8080' });
    const json = await runCli([...args, '--json']);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toEqual({
      toml: plain.stdout,
      annotation: encoded.stdout.trim(),
      digests: expect.objectContaining({ algorithm: 'sha256' }) as unknown,
      notes: [],
    });
  });

  it("render initdata uses the bundle's repository and tag, leaves out a credential that does not exist, dedupes CAs", async () => {
    const certFile = path.join(EXAMPLE, 'registry-ca.crt');
    const r = await runCli([
      'render',
      'initdata',
      '-c',
      anonBundle,
      '--kbs-url',
      'http://kbs:8080',
      '--kbs-cert',
      certFile,
    ]);
    expect(r.code).toBe(0);
    const cdh = cdhOf(r.stdout);
    const ca = (await fs.readFile(certFile, 'utf8')).trim() + '\n';
    expect(cdh.image).toEqual({
      image_security_policy_uri: 'kbs:///team-a/security-policy/prod',
      sigstore_config_uri: 'kbs:///team-a/sigstore-config/prod',
      extra_root_certificates: [ca],
    });
    expect((cdh.kbc as Toml).kbs_cert).toBe(await fs.readFile(certFile, 'utf8'));
    expect(r.stderr).toContain(
      'note: no registry in the bundle has a username, so no credential resource exists: authenticated_registry_credentials_uri is left out',
    );
  });

  it('render initdata without --kbs-url leaves ${KBS_ADDRESS}, and refuses --encode', async () => {
    const r = await runCli(['render', 'initdata', '-c', EXAMPLE_BUNDLE]);
    expect(r.code).toBe(0);
    expect((cdhOf(r.stdout).kbc as Toml).url).toBe('${KBS_ADDRESS}');
    expect(r.stderr).toContain('note: no --kbs-url given');
    const enc = await runCli(['render', 'initdata', '-c', EXAMPLE_BUNDLE, '--encode']);
    expect(enc.code).toBe(2);
    expect(enc.stderr).toContain('--kbs-url: required with --encode/--json');
    expect(enc.stdout).toBe('');
  });

  it('render initdata keeps a KBS URL with quotes and backslashes intact through both TOML layers', async () => {
    const url = `http://kbs.example.com:8080/a'''b"c\\d`;
    const r = await runCli(['render', 'initdata', '-c', EXAMPLE_BUNDLE, '--kbs-url', url]);
    expect(r.code).toBe(0);
    expect((cdhOf(r.stdout).kbc as Toml).url).toBe(url);
    const k = await runCli(['render', 'kernel-params', '-c', EXAMPLE_BUNDLE, '--kbs-url', url]);
    expect(k.code).toBe(2);
    expect(k.stderr).toContain('cannot go on a kernel command line');
  });

  it('render initdata/kernel-params refuse a KBS URL that is not http(s)', async () => {
    const r = await runCli(['render', 'initdata', '-c', EXAMPLE_BUNDLE, '--kbs-url', 'kbs.example.com:8080']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--kbs-url: "kbs.example.com:8080": the KBS is reached over http:// or https://');
  });

  it('render kernel-params: the agent.* line and the sigstore note on stderr', async () => {
    const r = await runCli([
      'render',
      'kernel-params',
      '-c',
      EXAMPLE_BUNDLE,
      '--kbs-url',
      'http://kbs.example.com:8080',
    ]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(
      'agent.enable_signature_verification=true agent.image_policy_file=kbs:///default/security-policy/test ' +
        'agent.image_registry_auth=kbs:///default/credential/test agent.aa_kbc_params=cc_kbc::http://kbs.example.com:8080\n',
    );
    expect(r.stderr).toContain(
      'note: no kernel parameter carries the sigstore config (kbs:///default/sigstore-config/test)',
    );
    const json = await runCli(['render', 'kernel-params', '-c', anonBundle, '--kbs-url', 'http://kbs:8080', '--json']);
    expect(json.code).toBe(0);
    const out = JSON.parse(json.stdout) as { params: string; notes: string[] };
    expect(out.params).toBe(
      'agent.enable_signature_verification=true agent.image_policy_file=kbs:///team-a/security-policy/prod agent.aa_kbc_params=cc_kbc::http://kbs:8080',
    );
    expect(out.notes).toHaveLength(2);
  });

  it('render snippet kata-config / containerd parse as TOML with the asked values', async () => {
    const kata = await runCli(['render', 'snippet', 'kata-config', '--image-request-timeout', '900']);
    expect(kata.code).toBe(0);
    expect(parseToml(kata.stdout)).toEqual({ image: { service_offload: true, image_request_timeout: 900 } });
    const ctr = await runCli(['render', 'snippet', 'containerd', '--runtime-class', 'kata-qemu.tdx']);
    expect(ctr.code).toBe(0);
    const parsed = parseToml(ctr.stdout) as {
      plugins: Record<string, { containerd: { runtimes: Record<string, unknown> } }>;
    };
    expect(parsed.plugins['io.containerd.grpc.v1.cri']?.containerd.runtimes['kata-qemu.tdx']).toEqual({
      runtime_type: 'io.containerd.kata.v2',
      cri_handler: 'cc',
    });
    const bad = await runCli(['render', 'snippet', 'kata-config', '--image-request-timeout', '10m']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--image-request-timeout: must be a positive whole number of seconds');
  });

  it("render snippet kbsconfig lists the bundle's Secrets, and refuses a repository trustee-operator cannot serve", async () => {
    const r = await runCli(['render', 'snippet', 'kbsconfig', '-c', EXAMPLE_BUNDLE, '--namespace', 'coco']);
    expect(r.code).toBe(0);
    expect(parseYaml(r.stdout)).toEqual({
      apiVersion: 'confidentialcontainers.org/v1alpha1',
      kind: 'KbsConfig',
      metadata: { name: 'kbsconfig', namespace: 'coco' },
      spec: { kbsSecretResources: ['security-policy', 'sigstore-config', 'credential'] },
    });
    const other = await runCli(['render', 'snippet', 'kbsconfig', '-c', otherBundle]);
    expect(other.code).toBe(2);
    expect(other.stderr).toContain('kbs.repository: trustee-operator serves Secrets as kbs:///default/<secret>/<key>');
    const unknown = await runCli(['render', 'snippet', 'crio']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('unknown snippet "crio"; one of kata-config, containerd, kbsconfig');
  });

  it('-o writes the file atomically; --dry-run writes nothing', async () => {
    const out = path.join(tmp, 'pod.yaml');
    const dry = await runCli(['render', 'pod', '--image', 'busybox', '-o', out, '--dry-run']);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toMatch(/would write .*pod\.yaml \(\d+ bytes\)/);
    await expect(fs.stat(out)).rejects.toThrow(/ENOENT/);
    const r = await runCli(['render', 'pod', '--image', 'busybox', '-o', out]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('');
    expect(
      (parseYaml(await fs.readFile(out, 'utf8')) as { spec: { containers: Array<{ image: string }> } }).spec
        .containers[0]?.image,
    ).toBe('busybox');
  });
});
