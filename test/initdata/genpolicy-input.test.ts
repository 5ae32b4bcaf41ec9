import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parse as parseToml, stringify as stringifyToml } from 'smol-toml';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeInitdata } from '../../src/render/initdata.js';
import { TEMPLATES } from '../helpers/paths.js';
import { runCli } from '../helpers/run-cli.js';

const EXAMPLE_BUNDLE = path.join(TEMPLATES, 'example', 'bundle.yaml');
const KBS = 'http://kbs.example.com:8080';
const ANNOTATION = 'io.katacontainers.config.hypervisor.cc_init_data';

describe('initdata as genpolicy --initdata-path input', () => {
  let tmp: string;
  beforeAll(async () => {
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'kbsb-genpolicy-'));
  });
  afterAll(async () => {
    await fs.rm(tmp, { recursive: true, force: true });
  });

  for (const form of [[], ['--inline']]) {
    it(`${form.join(' ') || 'URI form'}: kata's InitData shape, no policy.rego for genpolicy to collide with`, async () => {
      const r = await runCli(['render', 'initdata', '-c', EXAMPLE_BUNDLE, '--kbs-url', KBS, ...form]);
      expect(r.code).toBe(0);
      const doc = parseToml(r.stdout) as { version: unknown; algorithm: unknown; data: Record<string, unknown> };
      // kata-types InitData: exactly version, algorithm and a map of string values.
      expect(Object.keys(doc).sort()).toEqual(['algorithm', 'data', 'version']);
      expect(doc.version).toBe('0.1.0');
      expect(['sha256', 'sha384', 'sha512']).toContain(doc.algorithm);
      expect(Object.keys(doc.data).sort()).toEqual(['aa.toml', 'cdh.toml']);
      for (const v of Object.values(doc.data)) expect(typeof v).toBe('string');
    });
  }

  it('initdata-digest reads the annotation of the pod genpolicy writes (its re-serialized TOML, with policy.rego)', async () => {
    const r = await runCli(['render', 'initdata', '-c', EXAMPLE_BUNDLE, '--kbs-url', KBS, '--inline']);
    // What genpolicy does with --initdata-path: parse, add policy.rego, serialize again, annotate the pod.
    const doc = parseToml(r.stdout) as { data: Record<string, string> };
    doc.data['policy.rego'] = 'package agent_policy\ndefault AllowRequestsFailingPolicy := false\n';
    const genpolicyToml = stringifyToml(doc);
    const pod = path.join(tmp, 'pod.yaml');
    const podDoc = parseYaml(
      (await runCli(['render', 'pod', '--image', 'registry.example.com:5000/demo/app:1.0'])).stdout,
    ) as {
      metadata: Record<string, unknown>;
    };
    podDoc.metadata.annotations = { [ANNOTATION]: encodeInitdata(genpolicyToml) };
    await fs.writeFile(pod, `---\n${stringifyYaml(podDoc)}`);
    const tomlFile = path.join(tmp, 'genpolicy.toml');
    await fs.writeFile(tomlFile, genpolicyToml);

    const fromPod = await runCli(['render', 'initdata-digest', pod, '--json']);
    expect(fromPod.code).toBe(0);
    const fromToml = await runCli(['render', 'initdata-digest', tomlFile, '--json']);
    expect(JSON.parse(fromPod.stdout)).toEqual(JSON.parse(fromToml.stdout));
    const rendered = JSON.parse(
      (await runCli(['render', 'initdata', '-c', EXAMPLE_BUNDLE, '--kbs-url', KBS, '--inline', '--json'])).stdout,
    ) as {
      digests: { hash: string };
    };
    expect((JSON.parse(fromPod.stdout) as { hash: string }).hash).not.toBe(rendered.digests.hash);

    const bare = path.join(tmp, 'bare-pod.yaml');
    await fs.writeFile(bare, 'apiVersion: v1\nkind: Pod\nmetadata: {name: p}\n');
    const none = await runCli(['render', 'initdata-digest', bare]);
    expect(none.code).toBe(2);
    expect(none.stderr).toBe(`kbs-bundler: ${bare}: is a Kubernetes YAML without the ${ANNOTATION} annotation\n`);
  });

  it('a pod YAML that is not valid YAML, or an alias bomb, is one line naming where (not internal error)', async () => {
    const head = 'apiVersion: v1\nkind: Pod\nmetadata:\n  annotations:\n';
    const broken = path.join(tmp, 'broken-pod.yaml');
    await fs.writeFile(broken, `${head}    x: [\n`);
    const r = await runCli(['render', 'initdata-digest', broken]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      `kbs-bundler: ${broken}: is not a valid Kubernetes YAML: line 6, column 1: malformed YAML: unexpected end of the stream within a flow collection\n`,
    );
    const bomb = path.join(tmp, 'bomb-pod.yaml');
    const levels = ['    a0: &a0 [x, x, x, x, x, x, x, x, x, x]'];
    for (let i = 1; i < 9; i++)
      levels.push(
        `    a${i}: &a${i} [${Array(10)
          .fill(`*a${i - 1}`)
          .join(', ')}]`,
      );
    await fs.writeFile(bomb, `${head}${levels.join('\n')}\n`);
    const b = await runCli(['render', 'initdata-digest', bomb]);
    expect(b.code).toBe(2);
    expect(b.stderr).toBe(
      `kbs-bundler: ${bomb}: is not a valid Kubernetes YAML: unsupported YAML: aliases expand to too many nodes (an alias bomb)\n`,
    );
  });

  it('render pod --help gives the order with genpolicy', async () => {
    const r = await runCli(['render', 'pod', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('genpolicy -y pod.yaml --initdata-path=initdata.toml');
    expect(r.stdout).toContain('render pod --image IMAGE -o pod.yaml     (no --initdata');
  });
});
