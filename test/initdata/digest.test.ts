import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeInitdata } from '../../src/render/initdata.js';
import { TEMPLATES } from '../helpers/paths.js';
import { runCli } from '../helpers/run-cli.js';
import { runProcess } from '../helpers/run-process.js';

const EXAMPLE_BUNDLE = path.join(TEMPLATES, 'example', 'bundle.yaml');
const KBS = 'http://kbs.example.com:8080';
const FIELD_BYTES = { snp: 32, tdx: 48, cca: 64, se: 256 } as const;
const TEES = Object.keys(FIELD_BYTES) as Array<keyof typeof FIELD_BYTES>;

/** The coreutils way: hash the file, then cut or zero-pad the raw digest to the TEE's field, as hex. */
async function shellDigest(file: string, algorithm: string, bytes: number): Promise<string> {
  const script = `{ ${algorithm}sum "$1" | cut -d' ' -f1 | xxd -r -p; head -c 256 /dev/zero; } | head -c "$2" | xxd -p | tr -d '\\n'`;
  const r = await runProcess('sh', ['-c', script, 'sh', file, String(bytes)]);
  expect(r.code).toBe(0);
  return r.stdout;
}

describe('initdata digests', () => {
  let tmp: string;
  beforeAll(async () => {
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'kbsb-digest-'));
  });
  afterAll(async () => {
    await fs.rm(tmp, { recursive: true, force: true });
  });

  for (const algorithm of ['sha256', 'sha384', 'sha512']) {
    it(`${algorithm}: render initdata --digest and initdata-digest equal sha*sum of the file, cut or zero-padded per TEE`, async () => {
      const common = [
        'render',
        'initdata',
        '-c',
        EXAMPLE_BUNDLE,
        '--kbs-url',
        KBS,
        '--algorithm',
        algorithm,
        '--inline',
      ];
      const file = path.join(tmp, `initdata-${algorithm}.toml`);
      expect((await runCli([...common, '-o', file])).code).toBe(0);
      const expected = Object.fromEntries(
        await Promise.all(TEES.map(async (t) => [t, await shellDigest(file, algorithm, FIELD_BYTES[t])] as const)),
      );

      for (const tee of TEES) {
        const one = await runCli([...common, '--digest', tee]);
        expect(one.code).toBe(0);
        expect(one.stdout).toBe(`${expected[tee]}\n`);
      }
      const all = await runCli([...common, '--digest', 'all']);
      expect(all.stdout).toBe(TEES.map((t) => `${t} ${expected[t]}\n`).join(''));

      const json = JSON.parse((await runCli([...common, '--json'])).stdout) as {
        annotation: string;
        digests: { algorithm: string; tees: Array<{ tee: string; bytes: number; hex: string; base64: string }> };
      };
      expect(json.digests.algorithm).toBe(algorithm);
      expect(json.digests.tees).toEqual(
        TEES.map((t) => ({
          tee: t,
          bytes: FIELD_BYTES[t],
          hex: expected[t],
          base64: Buffer.from(expected[t]!, 'hex').toString('base64'),
        })),
      );
      // The annotation carries exactly the bytes that were measured.
      expect(decodeInitdata(json.annotation)).toBe(await fs.readFile(file, 'utf8'));

      const measured = await runCli(['render', 'initdata-digest', file, '--tee', 'all']);
      expect(measured.stdout).toBe(all.stdout);
      const encoded = path.join(tmp, `initdata-${algorithm}.b64`);
      await fs.writeFile(encoded, `${json.annotation}\n`);
      expect((await runCli(['render', 'initdata-digest', encoded, '--tee', 'tdx'])).stdout).toBe(`${expected.tdx}\n`);
    });
  }

  it("refuses algorithms kata refuses (trustee's sha-256 spelling), exit 2, one line", async () => {
    const bad = await runCli(['render', 'initdata', '-c', EXAMPLE_BUNDLE, '--kbs-url', KBS, '--algorithm', 'sha-256']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe(
      'kbs-bundler: --algorithm: must be one of sha256, sha384, sha512 (kata refuses other spellings such as sha-256)\n',
    );
    const file = path.join(tmp, 'sha-256.toml');
    await fs.writeFile(file, 'version = "0.1.0"\nalgorithm = "sha-256"\n\n[data]\n"cdh.toml" = "x"\n');
    const r = await runCli(['render', 'initdata-digest', file]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(
      `kbs-bundler: ${file}: algorithm: unsupported algorithm: kata takes sha256, sha384, sha512 (not e.g. sha-256)\n`,
    );
    const noUrl = await runCli(['render', 'initdata', '-c', EXAMPLE_BUNDLE, '--digest', 'snp']);
    expect(noUrl.code).toBe(2);
    const badTee = await runCli(['render', 'initdata', '-c', EXAMPLE_BUNDLE, '--kbs-url', KBS, '--digest', 'sev']);
    expect(badTee.stderr).toBe('kbs-bundler: --digest: must be one of snp, tdx, cca, se, all\n');
  });
});
