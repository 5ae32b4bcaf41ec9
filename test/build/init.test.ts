/** `kbs-bundler init`: writes the commented starter, refuses to overwrite without --force. */
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEMPLATES } from '../helpers/paths.js';
import { runCli } from '../helpers/run-cli.js';

let dir: string;
beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'kbsb-init-'));
});
afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

describe('init', () => {
  it('writes templates/bundle.yaml and refuses to overwrite it without --force', async () => {
    const template = await fs.readFile(path.join(TEMPLATES, 'bundle.yaml'), 'utf8');
    const first = await runCli(['init'], { cwd: dir });
    expect(first.code).toBe(0);
    expect(await fs.readFile(path.join(dir, 'bundle.yaml'), 'utf8')).toBe(template);
    await fs.writeFile(path.join(dir, 'bundle.yaml'), 'mine\n');
    const second = await runCli(['init'], { cwd: dir });
    expect(second.code).toBe(2);
    expect(second.stderr.trim()).toBe('kbs-bundler: bundle.yaml: already exists; use --force to overwrite it');
    expect(await fs.readFile(path.join(dir, 'bundle.yaml'), 'utf8')).toBe('mine\n');
    const forced = await runCli(['init', '-o', 'bundle.yaml', '--force'], { cwd: dir });
    expect(forced.code).toBe(0);
    expect(await fs.readFile(path.join(dir, 'bundle.yaml'), 'utf8')).toBe(template);
  });

  it('--dry-run prints the starter and writes nothing', async () => {
    const r = await runCli(['init', '-o', 'dry.yaml', '--dry-run'], { cwd: dir });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(await fs.readFile(path.join(TEMPLATES, 'bundle.yaml'), 'utf8'));
    await expect(fs.stat(path.join(dir, 'dry.yaml'))).rejects.toThrow();
  });

  it('builds once the starter key and password exist', async () => {
    const sub = path.join(dir, 'starter');
    await fs.mkdir(path.join(sub, 'keys'), { recursive: true });
    expect((await runCli(['init', '-o', 'starter/bundle.yaml'], { cwd: dir })).code).toBe(0);
    await fs.copyFile(path.join(TEMPLATES, 'example/example-public-key.asc'), path.join(sub, 'keys/signer.gpg'));
    await fs.writeFile(path.join(sub, 'registry-password'), 'pw\n');
    await fs.mkdir(path.join(sub, 'sigstore'));
    const r = await runCli(['build', '-c', 'starter/bundle.yaml', '-o', 'starter-out'], { cwd: dir });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
  });
});
