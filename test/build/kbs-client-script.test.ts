/**
 * `build --kbs-client-script` for both trustee admin forms: the script parses (`sh -n`) and, run against a
 * stand-in kbs-client that records its arguments, calls kbs-client as that release expects, once per resource.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/run-cli.js';
import { runProcess } from '../helpers/run-process.js';
import { copyExample, treeFiles } from './tree.js';

let work: string;
let nested: Record<string, Buffer>;
let bin: string;

beforeAll(async () => {
  const example = await copyExample();
  work = path.dirname(example);
  expect((await runCli(['build', '-c', 'example/bundle.yaml', '-o', 'nested'], { cwd: work })).code).toBe(0);
  nested = await treeFiles(path.join(work, 'nested'));
  bin = path.join(work, 'bin');
  await fs.mkdir(bin);
  // Records each call's arguments (one per line, calls separated by ---) and keeps a copy of the resource file.
  await fs.writeFile(
    path.join(bin, 'kbs-client'),
    [
      '#!/bin/sh',
      'for a in "$@"; do printf "%s\\n" "$a"; done >> "$RECORD"',
      'echo --- >> "$RECORD"',
      'while [ $# -gt 0 ]; do',
      '  case "$1" in --path) p=$2 ;; --resource-file) f=$2 ;; esac',
      '  shift',
      'done',
      'mkdir -p "$UPLOADED/$(dirname "$p")" && cp "$f" "$UPLOADED/$p"',
    ].join('\n'),
    { mode: 0o755 },
  );
});

afterAll(async () => {
  await fs.rm(work, { recursive: true, force: true });
});

async function runScript(flags: string[], env: Record<string, string>) {
  const name = `upload-${flags.join('-') || 'default'}`;
  const script = path.join(work, `${name}.sh`);
  const r = await runCli(['build', '-c', 'example/bundle.yaml', '--kbs-client-script', script, ...flags], {
    cwd: work,
  });
  expect(r.code).toBe(0);
  expect((await runProcess('sh', ['-n', script])).code).toBe(0);
  const record = path.join(work, `${name}.args`);
  const uploaded = path.join(work, `${name}.uploaded`);
  const run = await runProcess('sh', [script], {
    env: { ...process.env, PATH: `${bin}:${process.env.PATH}`, RECORD: record, UPLOADED: uploaded, ...env },
  });
  expect(run.stderr).toBe('');
  expect(run.code).toBe(0);
  const calls = (await fs.readFile(record, 'utf8'))
    .split('---\n')
    .filter((c) => c !== '')
    .map((c) => c.trimEnd().split('\n'));
  return { calls, uploaded: await treeFiles(uploaded) };
}

const paths = () => Object.keys(nested).sort();

describe('build --kbs-client-script', () => {
  it('trustee v0.21 (default): config --admin-token-file, one set-resource per resource, bytes as built', async () => {
    const { calls, uploaded } = await runScript([], { KBS_URL: 'http://kbs.test:8080', KBS_ADMIN_TOKEN: '/run/token' });
    expect(calls.map((c) => c[c.indexOf('--path') + 1]).sort()).toEqual(paths());
    for (const c of calls) {
      expect(c.slice(0, 6)).toEqual([
        '--url',
        'http://kbs.test:8080',
        'config',
        '--admin-token-file',
        '/run/token',
        'set-resource',
      ]);
      expect(c).toHaveLength(10);
    }
    expect(uploaded).toEqual(nested);
  });

  it('--trustee-version 0.20: config --auth-private-key; KBS_CERT_FILE adds --cert-file', async () => {
    const { calls, uploaded } = await runScript(['--trustee-version', '0.20'], {
      KBS_URL: 'https://kbs.test:8443',
      KBS_AUTH_PRIVATE_KEY: '/keys/admin.key',
      KBS_CERT_FILE: '/certs/kbs.pem',
    });
    expect(calls.map((c) => c[c.indexOf('--path') + 1]).sort()).toEqual(paths());
    for (const c of calls) {
      expect(c.slice(0, 8)).toEqual([
        '--url',
        'https://kbs.test:8443',
        '--cert-file',
        '/certs/kbs.pem',
        'config',
        '--auth-private-key',
        '/keys/admin.key',
        'set-resource',
      ]);
    }
    expect(uploaded).toEqual(nested);
  });

  it('the script refuses to run without its key or token; a bad --trustee-version is bad input', async () => {
    const script = path.join(work, 'legacy.sh');
    await runCli(
      ['build', '-c', 'example/bundle.yaml', '--kbs-client-script', script, '--trustee-version', 'v0.19.0'],
      {
        cwd: work,
      },
    );
    const r = await runProcess('sh', [script], {
      env: { ...process.env, PATH: `${bin}:${process.env.PATH}`, KBS_URL: 'x' },
    });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('KBS_AUTH_PRIVATE_KEY');
    const bad = await runCli(
      ['build', '-c', 'example/bundle.yaml', '--kbs-client-script', script, '--trustee-version', 'latest'],
      {
        cwd: work,
      },
    );
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe('kbs-bundler: --trustee-version: not a trustee release: expected e.g. 0.21 or v0.20.0\n');
  });
});
