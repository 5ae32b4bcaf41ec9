/**
 * bundle.yaml and the sigstore config are plain data: a YAML 2.0 directive, an unknown tag, an alias
 * bomb, nesting thousands deep or a file of gigabytes is refused with one line naming the file and the
 * problem (exit 2 for bundle.yaml; a denial naming the config for verify), and no message quotes the
 * file's text, which may hold secrets.
 */
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/run-cli.js';

let work: string;

beforeAll(async () => {
  work = await fs.mkdtemp(path.join(os.tmpdir(), 'kbsb-yaml-limits-'));
});
afterAll(async () => {
  await fs.rm(work, { recursive: true, force: true });
});

/** Nine anchors, each a list of nine aliases of the one before: 9^10 nodes once expanded. */
function aliasBomb(): string {
  let text = 'a0: &a0 [x, x, x, x, x, x, x, x, x]\n';
  for (let i = 1; i < 10; i++)
    text += `a${i}: &a${i} [${Array(9)
      .fill(`*a${i - 1}`)
      .join(', ')}]\n`;
  return text;
}

/** A block sequence `n` deep, on one line (`- - - … x`). */
const deepBlock = (n: number) => `policy:\n${'- '.repeat(n)}x\n`;
const deepFlow = (n: number) => `policy: ${'['.repeat(n)}${']'.repeat(n)}\n`;

/** `build` of the text as case.yaml: exit 2, one line on stderr, nothing written. */
async function refusedBuild(text: string | (() => Promise<void>)): Promise<string> {
  const file = path.join(work, 'case.yaml');
  await fs.rm(file, { force: true });
  if (typeof text === 'string') await fs.writeFile(file, text);
  else await text();
  const r = await runCli(['build', '-c', 'case.yaml', '-o', 'out'], { cwd: work });
  expect(r.code).toBe(2);
  expect(r.stdout).toBe('');
  const lines = r.stderr.trimEnd().split('\n');
  expect(lines).toHaveLength(1);
  expect(r.stderr).not.toMatch(/internal error|stack|RangeError|\^/);
  await expect(fs.access(path.join(work, 'out'))).rejects.toThrow();
  return lines[0]!;
}

describe('bundle.yaml that is more than plain data', () => {
  it('a %YAML 2.0 directive is refused', async () => {
    expect(await refusedBuild('%YAML 2.0\n---\npolicy:\n  default:\n    - type: reject\n')).toBe(
      'kbs-bundler: case.yaml: line 2, column 1: unsupported YAML: a %YAML directive other than 1.x (YAML 1.2 is read)',
    );
  });

  it('an unknown local tag is refused (not read as a string)', async () => {
    expect(await refusedBuild('policy:\n  default:\n    - type: !foo reject\n')).toBe(
      "kbs-bundler: case.yaml: line 3, column 24: unsupported YAML: a tag other than the core schema's (only the core schema's tags are read)",
    );
  });

  it('an alias bomb is refused without expanding it', async () => {
    expect(await refusedBuild(aliasBomb())).toBe(
      'kbs-bundler: case.yaml: unsupported YAML: aliases expand to too many nodes (an alias bomb)',
    );
  });

  it('3,000 levels of nesting, block or flow, are refused without a stack overflow', async () => {
    expect(await refusedBuild(deepBlock(3000))).toMatch(
      /^kbs-bundler: case\.yaml: line 2, column \d+: unsupported YAML: nested more than 64 levels deep$/,
    );
    expect(await refusedBuild(deepFlow(3000))).toMatch(
      /^kbs-bundler: case\.yaml: line 1, column \d+: unsupported YAML: nested more than 64 levels deep$/,
    );
    // Deep enough to be absurd, shallow enough for the parser: the same limit.
    expect(await refusedBuild(deepBlock(100))).toBe(
      'kbs-bundler: case.yaml: line 2, column 127: unsupported YAML: nested more than 64 levels deep',
    );
  });

  it('errors never quote the file (no code frame)', async () => {
    const line = await refusedBuild('policy:\n  default: "hunter2-secret-value\n');
    expect(line).toMatch(/^kbs-bundler: case\.yaml: line \d+, column \d+: malformed YAML: /);
    expect(line).not.toContain('hunter2');
    const dup = await refusedBuild('policy:\n  default: []\n  default: ["hunter2-secret-value"]\n');
    expect(dup).toBe('kbs-bundler: case.yaml: line 3, column 3: malformed YAML: duplicated mapping key');
    // A password file given as bundle.yaml: names js-yaml would quote (a tag, an alias) are left out.
    expect(await refusedBuild('!hunter2-secret-value\n')).toBe(
      "kbs-bundler: case.yaml: line 2, column 1: unsupported YAML: a tag other than the core schema's (only the core schema's tags are read)",
    );
    expect(await refusedBuild('*hunter2-secret-value\n')).toBe(
      'kbs-bundler: case.yaml: line 1, column 22: malformed YAML: unidentified alias',
    );
  });

  it('a file larger than 4 MiB is refused without reading it all (a 1 GiB sparse file)', async () => {
    const line = await refusedBuild(async () => {
      const handle = await fs.open(path.join(work, 'case.yaml'), 'w');
      await handle.truncate(1024 ** 3);
      await handle.close();
    });
    expect(line).toBe('kbs-bundler: case.yaml: is larger than 4 MiB, more than a bundle file can be');
    const justOver = await refusedBuild(`# ${'x'.repeat(4 * 1024 * 1024)}\n`);
    expect(justOver).toBe('kbs-bundler: case.yaml: is larger than 4 MiB, more than a bundle file can be');
  });
});

describe('a sigstore config that is more than plain data, read by verify --kbs', () => {
  const DIGEST = `sha256:${'a'.repeat(64)}`;
  const POLICY = JSON.stringify({ default: [{ type: 'insecureAcceptAnything' }], transports: {} });

  async function verifyWith(sigstore: string | Buffer, mode: string) {
    const kbs = path.join(work, 'kbs');
    await fs.rm(kbs, { recursive: true, force: true });
    await fs.mkdir(path.join(kbs, 'default/security-policy'), { recursive: true });
    await fs.mkdir(path.join(kbs, 'default/sigstore-config'), { recursive: true });
    await fs.writeFile(path.join(kbs, 'default/security-policy/test'), POLICY);
    await fs.writeFile(path.join(kbs, 'default/sigstore-config/test'), sigstore);
    return runCli(['verify', 'registry.example.com/app:1', '--kbs', kbs, '--digest', DIGEST, '--mode', mode, '--json']);
  }

  const SOURCE = 'kbs:///default/sigstore-config/test';
  const cases: Array<[string, () => string, string]> = [
    ['an alias bomb', aliasBomb, `${SOURCE}: unsupported YAML: aliases expand to too many nodes (an alias bomb)`],
    ['3,000 levels of nesting', () => deepBlock(3000), 'unsupported YAML: nested more than 64 levels deep'],
  ];
  it.each(cases)('%s denies on both sides, naming the config and the problem', async (_name, text, problem) => {
    for (const mode of ['image-rs', 'containers-image']) {
      const r = await verifyWith(text(), mode);
      expect(r.code, r.stderr).toBe(1);
      const report = JSON.parse(r.stdout) as { decisions: Array<{ message: string; chain: string[] }> };
      const decision = report.decisions[0]!;
      const said = [decision.message, ...decision.chain].join('\n');
      expect(said).toContain(SOURCE);
      expect(said).toContain(problem);
      expect(said).not.toMatch(/Maximum call stack|internal error|- - x/);
    }
  });

  it('a config larger than 4 MiB is bad input, named in one line', async () => {
    const r = await verifyWith(`# ${'x'.repeat(4 * 1024 * 1024)}\n`, 'image-rs');
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe(
      `kbs-bundler: ${path.join(work, 'kbs/default/sigstore-config/test')}: is larger than 4 MiB, more than a sigstore config can be`,
    );
  });

  it('--sigstore-config FILE of 1 GiB is refused without reading it all', async () => {
    const file = path.join(work, 'huge-sigstore.yaml');
    const handle = await fs.open(file, 'w');
    await handle.truncate(1024 ** 3);
    await handle.close();
    const r = await runCli([
      'verify',
      'registry.example.com/app:1',
      '--policy',
      path.join(work, 'kbs/default/security-policy/test'),
      '--sigstore-config',
      file,
      '--digest',
      DIGEST,
    ]);
    await fs.rm(file);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe(`kbs-bundler: ${file}: is larger than 4 MiB, more than a sigstore config can be`);
  });
});
