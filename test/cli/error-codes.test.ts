import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ERROR_CODES } from '../../src/error-codes.js';
import { REPO_ROOT } from '../helpers/paths.js';
import { runCli } from '../helpers/run-cli.js';

const run = promisify(execFile);

describe('error codes', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'kbsb-codes-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('the README lists every code src/error-codes.ts defines, with the commands that report it', async () => {
    await expect(
      run(process.execPath, ['scripts/error-codes.mjs', '--check'], { cwd: REPO_ROOT }),
    ).resolves.toBeDefined();
  });

  it('--json on a failed command prints the error code on stdout beside the one line on stderr', async () => {
    const missing = path.join(dir, 'no-such-bundle.yaml');
    const r = await runCli(['build', '-c', missing, '-o', path.join(dir, 'out'), '--json']);
    expect(r.code).toBe(2);
    expect(JSON.parse(r.stdout)).toEqual({
      error: { code: 'E_FILE_NOT_FOUND', message: `${missing}: file not found`, exitCode: 2 },
    });
    expect(r.stderr).toBe(`kbs-bundler: ${missing}: file not found\n`);
  });

  it('a usage error under --json carries E_USAGE', async () => {
    const r = await runCli(['verify', 'registry.example.com/app:1', '--no-such-option', '--json']);
    expect(r.code).toBe(2);
    const doc = JSON.parse(r.stdout) as { error: { code: string; message: string } };
    expect(doc.error.code).toBe('E_USAGE');
    expect(doc.error.message).toContain('--no-such-option');
  });

  it('bad bundle input under --json names its code, and the code is a listed one', async () => {
    const bundle = path.join(dir, 'bundle.yaml');
    await writeFile(bundle, 'policy:\n  default: [{type: reject}]\n  scopez: {}\n');
    const r = await runCli(['build', '-c', bundle, '-o', path.join(dir, 'out'), '--json']);
    expect(r.code).toBe(2);
    const doc = JSON.parse(r.stdout) as { error: { code: string } };
    expect(doc.error.code).toBe('E_UNKNOWN_FIELD');
    expect(Object.keys(ERROR_CODES)).toContain(doc.error.code);
  });
});
