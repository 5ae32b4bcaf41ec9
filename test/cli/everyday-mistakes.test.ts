/** Everyday mistakes get one line naming the option or file and what is wrong, exit 2, and nothing written. */
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEMPLATES } from '../helpers/paths.js';
import { expectFailureStdout, runCli } from '../helpers/run-cli.js';

let work: string;
beforeAll(async () => {
  work = await fs.mkdtemp(path.join(os.tmpdir(), 'kbs-mistakes-'));
});
afterAll(async () => {
  await fs.rm(work, { recursive: true, force: true });
});

async function oneLineError(args: string[], cwd = work): Promise<string> {
  const r = await runCli(args, { cwd });
  expectFailureStdout(r);
  expect(r.stdout === '').toBe(!args.includes('--json'));
  expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
  expect(r.code).toBe(2);
  return r.stderr.trimEnd();
}

describe('keygen', () => {
  it.each([
    [
      ['--name', 'Signer', '--email', 'p@x'],
      'kbs-bundler: --email: "p@x" is not an e-mail address of the form name@example.com',
    ],
    [['--name', 'Signer', '--email', 'signer example.com'], '--email: "signer example.com" is not an e-mail address'],
    [['--name', 'Signer <s@example.com>'], 'kbs-bundler: --name: must not hold "<", ">" or control characters'],
    [['--name', ' '], 'kbs-bundler: --name: must not be empty'],
  ])('keygen %j says what is wrong with the user id and generates nothing', async (args, line) => {
    const out = path.join(work, 'keys-uid');
    expect(await oneLineError(['keygen', ...args, '--out', out])).toContain(line);
    await expect(fs.stat(out)).rejects.toThrow();
  });

  it('refuses --out that is a file, naming the option', async () => {
    const file = path.join(work, 'a-file');
    await fs.writeFile(file, 'x');
    expect(await oneLineError(['keygen', '--name', 'Signer', '--out', file])).toBe(
      `kbs-bundler: --out: ${file} exists and is not a directory`,
    );
    expect(await fs.readFile(file, 'utf8')).toBe('x');
  });
});

describe('Kubernetes namespaces', () => {
  it.each(['Bad_NS', 'UPPER', '-lead', 'a'.repeat(64)])(
    'build --k8s-namespace %s is refused and nothing written',
    async (ns) => {
      const example = path.join(TEMPLATES, 'example/bundle.yaml');
      const out = path.join(work, 'secrets.yaml');
      const line = await oneLineError(['build', '-c', example, '--k8s', out, '--k8s-namespace', ns]);
      expect(line).toMatch(/^kbs-bundler: --k8s-namespace: ".*" is not a Kubernetes namespace: at most 63 lowercase/);
      await expect(fs.stat(out)).rejects.toThrow();
    },
  );

  it('render snippet kbsconfig --namespace Bad_NS is refused', async () => {
    const line = await oneLineError(['render', 'snippet', 'kbsconfig', '--namespace', 'Bad_NS']);
    expect(line).toMatch(/^kbs-bundler: --namespace: "Bad_NS" is not a Kubernetes namespace/);
  });

  it('a valid namespace is written into the Secrets', async () => {
    const example = path.join(TEMPLATES, 'example/bundle.yaml');
    const out = path.join(work, 'secrets-ok.yaml');
    const r = await runCli(['build', '-c', example, '--k8s', out, '--k8s-namespace', 'coco-kbs-1'], { cwd: work });
    expect(r.code).toBe(0);
    expect(await fs.readFile(out, 'utf8')).toContain('namespace: coco-kbs-1');
  });
});

describe('names too long for a file system', () => {
  it('a KBS tag of 300 characters is one line naming kbs.tag, and nothing is written', async () => {
    const dir = path.join(work, 'long-tag');
    await fs.cp(path.join(TEMPLATES, 'example'), dir, { recursive: true });
    const bundle = path.join(dir, 'bundle.yaml');
    const text = await fs.readFile(bundle, 'utf8');
    await fs.writeFile(bundle, text.replace(/^ {2}tag: .*$/m, `  tag: ${'a'.repeat(300)}`));
    const line = await oneLineError(['build', '-c', bundle, '-o', path.join(dir, 'out')]);
    expect(line).toBe(
      `kbs-bundler: ${bundle}: kbs.tag: is 300 characters long; a KBS resource name may have at most 80 (the file name holding it is limited to 255 bytes)`,
    );
    expect((await fs.readdir(dir)).filter((n) => n.includes('out'))).toEqual([]);
  });

  it('sign for a repository whose signature directory name exceeds 255 bytes is one line', async () => {
    const key = path.join(TEMPLATES, 'example/EXAMPLE-ONLY-secret-key.asc');
    const store = path.join(work, 'long-store');
    const line = await oneLineError([
      'sign',
      '--key',
      key,
      '--reference',
      `registry.example.com/x/${'a'.repeat(200)}:1`,
      '--store',
      store,
      '--digest',
      `sha256:${'b'.repeat(64)}`,
    ]);
    expect(line).toMatch(/its signature directory name would be longer than the 255 bytes a file name may have$/);
    await expect(fs.stat(store)).rejects.toThrow();
  });
});

describe('render kernel-params and render initdata agree about --kbs-url', () => {
  const example = () => path.join(TEMPLATES, 'example/bundle.yaml');

  it.each([['kernel-params'], ['initdata']])(
    'render %s without --kbs-url leaves ${KBS_ADDRESS} to fill in',
    async (what) => {
      const r = await runCli(['render', what, '-c', example()], { cwd: work });
      expect(r.code).toBe(0);
      expect(r.stdout).toContain('${KBS_ADDRESS}');
      expect(r.stderr).toContain('no --kbs-url given: the KBS address is left as ${KBS_ADDRESS}');
    },
  );

  it.each([['kernel-params'], ['initdata']])('render %s --json requires --kbs-url', async (what) => {
    const line = await oneLineError(['render', what, '-c', example(), '--json']);
    expect(line).toMatch(/^kbs-bundler: --kbs-url: required with --/);
  });
});
