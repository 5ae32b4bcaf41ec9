/**
 * Secrets (the registry password, the signing key's passphrase, the secret keys, the KBS admin token)
 * never appear in what any command prints — on success and on failure, in text and in --json — though
 * every one of these runs reads them. (Each bad-input case of bad-inputs.test.ts is checked the same way.)
 */
import { promises as fs } from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/run-cli.js';
import { DIGEST, IMAGE, inPool, leakedSecrets, makeWorkspace, type Workspace } from './workspace.js';

let ws: Workspace;
let token: string;
/** A loopback port that accepts and drops every connection: a registry or KBS that fails mid-way. */
let dropPort: number;
let dropper: net.Server;

beforeAll(async () => {
  ws = await makeWorkspace('kbsb-secrets-');
  const part = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
  token = `${part({ alg: 'EdDSA', typ: 'JWT' })}.${part({ role: 'admin', exp: 4102444800 })}.c2VjcmV0LXNpZ25hdHVyZS1ieXRlcw`;
  await fs.writeFile(path.join(ws.dir, 'admin-token'), `${token}\n`);
  await fs.writeFile(path.join(ws.dir, 'wrong-passphrase'), 'not the passphrase\n');
  dropper = net.createServer((s) => s.destroy());
  await new Promise<void>((resolve) => dropper.listen(0, '127.0.0.1', resolve));
  dropPort = (dropper.address() as net.AddressInfo).port;
}, 60_000);

afterAll(async () => {
  dropper?.close();
  await ws?.cleanup();
});

const SIGN = ['sign', '--reference', IMAGE, '--digest', DIGEST];
const KBS_URL = () => `http://127.0.0.1:${dropPort}`;

/** [name, args, env]: runs that read a secret, succeeding or failing. */
const RUNS: Array<[string, () => string[], NodeJS.ProcessEnv?]> = [
  ['build', () => ['build', '-c', 'bundle.yaml', '-o', 'out-1']],
  [
    'build --json with every output',
    () =>
      ['build', '-c', 'bundle.yaml', '-o', 'out-2', '--json'].concat([
        '--k8s',
        'secrets.yaml',
        '--kbs-client-script',
        'upload.sh',
        '--host-config',
        'host',
        '--tar',
        'kbs.tar',
      ]),
  ],
  ['build --dry-run --json', () => ['build', '-c', 'bundle.yaml', '-o', 'out-3', '--dry-run', '--json']],
  ['lint -c --json', () => ['lint', '-c', 'bundle.yaml', '--json']],
  ['lint --kbs', () => ['lint', '--kbs', 'kbs']],
  ['render initdata --json', () => ['render', 'initdata', '-c', 'bundle.yaml', '--json']],
  ['render initdata --inline', () => ['render', 'initdata', '-c', 'bundle.yaml', '--inline']],
  [
    'render pod -c',
    () => ['render', 'pod', '--image', IMAGE, '-c', 'bundle.yaml', '--kbs-url', 'http://kbs.example:8080'],
  ],
  ['render snippet kbsconfig', () => ['render', 'snippet', 'kbsconfig', '-c', 'bundle.yaml']],
  ['render kernel-params', () => ['render', 'kernel-params', '-c', 'bundle.yaml', '--json']],
  [
    'publish --dry-run --json',
    () => [
      'publish',
      '-c',
      'bundle.yaml',
      '--kbs-url',
      KBS_URL(),
      '--admin-token-file',
      'admin-token',
      '--dry-run',
      '--json',
    ],
  ],
  [
    'publish to a KBS that drops the connection',
    () => ['publish', '-c', 'bundle.yaml', '--kbs-url', KBS_URL(), '--admin-token-file', 'admin-token'],
  ],
  [
    'publish --json to a KBS that drops the connection',
    () => ['publish', '-c', 'bundle.yaml', '--kbs-url', KBS_URL(), '--admin-token-file', 'admin-token', '--json'],
  ],
  [
    'sign --passphrase-file --json',
    () => [...SIGN, '--key', 'signer.sec.asc', '--passphrase-file', 'passphrase', '--store', 'signed', '--json'],
  ],
  [
    'sign, passphrase from the environment',
    () => [...SIGN, '--key', 'signer.sec.asc', '--store', 'signed-env'],
    { KBS_BUNDLER_PASSPHRASE: 'PASSPHRASE' },
  ],
  [
    'sign --dry-run',
    () => [...SIGN, '--key', 'signer.sec.asc', '--passphrase-file', 'passphrase', '--store', 'signed', '--dry-run'],
  ],
  [
    'sign, wrong passphrase',
    () => [...SIGN, '--key', 'signer.sec.asc', '--passphrase-file', 'wrong-passphrase', '--store', 'signed'],
  ],
  [
    'sign --json, wrong passphrase',
    () => [...SIGN, '--key', 'signer.sec.asc', '--passphrase-file', 'wrong-passphrase', '--store', 'signed', '--json'],
  ],
  ['sign, no passphrase', () => [...SIGN, '--key', 'signer.sec.asc', '--store', 'signed', '--json']],
  [
    'sign with the example secret key',
    () => [...SIGN, '--key', 'EXAMPLE-ONLY-secret-key.asc', '--store', 'signed-ex', '--json'],
  ],
  [
    'sign, the secret key given as the manifest',
    () => [
      'sign',
      '--reference',
      IMAGE,
      '--manifest',
      'signer.sec.asc',
      '--key',
      'signer.sec.asc',
      '--store',
      'signed',
    ],
  ],
  [
    'keygen --passphrase-file --json',
    () => [
      'keygen',
      '--name',
      'S',
      '--email',
      's@example.com',
      '--algorithm',
      'ed25519',
      '--passphrase-file',
      'passphrase',
      '--out',
      'keys',
      '--json',
    ],
  ],
  [
    'keygen --dry-run',
    () => [
      'keygen',
      '--name',
      'S',
      '--email',
      's@example.com',
      '--passphrase-file',
      'passphrase',
      '--out',
      'keys2',
      '--dry-run',
    ],
  ],
  ['stage --json', () => ['stage', '-c', 'bundle.yaml', '--rootfs', 'rootfs', '--json']],
  ['stage --dry-run --json', () => ['stage', '-c', 'bundle.yaml', '--rootfs', 'rootfs', '--dry-run', '--json']],
  ['stage --tar', () => ['stage', '-c', 'bundle.yaml', '--rootfs', 'rootfs', '--tar', 'overlay.tar', '--json']],
  [
    'audit --policy --json',
    () => [
      'audit',
      '--store',
      'store',
      '--keys',
      'example-public-key.asc',
      '--policy',
      'kbs/default/security-policy/test',
      '--json',
    ],
  ],
  ['audit, the secret key as --keys', () => ['audit', '--store', 'store', '--keys', 'signer.sec.asc']],
  [
    'audit, the password as --policy',
    () => ['audit', '--store', 'store', '--keys', 'example-public-key.asc', '--policy', 'registry-password', '--json'],
  ],
  [
    'verify --mode both --json',
    () => ['verify', IMAGE, '--kbs', 'kbs', '--rootfs', 'rootfs', '--digest', DIGEST, '--mode', 'both', '--json'],
  ],
  [
    'verify --fetch from a registry that drops the connection',
    () => ['verify', `127.0.0.1:${dropPort}/demo/app:1.0`, '--kbs', 'kbs', '--fetch', '--insecure'],
  ],
  [
    'verify --fetch -c --json from a registry that drops the connection',
    () => [
      'verify',
      `127.0.0.1:${dropPort}/demo/app:1.0`,
      '--kbs',
      'kbs',
      '-c',
      'bundle.yaml',
      '--fetch',
      '--insecure',
      '--json',
    ],
  ],
  [
    'verify, the password as the manifest',
    () => ['verify', IMAGE, '--kbs', 'kbs', '--manifest', 'registry-password', '--json'],
  ],
  ['unstage --json', () => ['unstage', '--rootfs', 'rootfs', '--json']],
];

describe('secrets in output', () => {
  it(`${RUNS.length} runs that read secrets print none of them`, async () => {
    const auth = Buffer.from(`demo:${ws.secrets[0]}`).toString('base64');
    const secrets = [...ws.secrets, token, token.split('.')[2]!];
    const passphrase = (await fs.readFile(path.join(ws.dir, 'passphrase'), 'utf8')).trim();
    const results = await inPool(
      RUNS.map(([name, args, env]) => async () => {
        const withPass = env ? { KBS_BUNDLER_PASSPHRASE: passphrase } : undefined;
        const r = await runCli(args(), { cwd: ws.dir, ...(withPass ? { env: withPass } : {}) });
        return { name, r };
      }),
      // one at a time: several runs stage into and unstage from the same rootfs, which holds one run at once
      1,
    );
    const leaks = results.flatMap(({ name, r }) => leakedSecrets(r, secrets).map((s) => `${name}: ${s.slice(0, 8)}…`));
    expect(leaks).toEqual([]);
    // the runs did read the secrets: the successes succeeded, the failures failed
    const outcome = new Map(results.map(({ name, r }) => [name, r.code]));
    expect(outcome.get('build --json with every output')).toBe(0);
    expect(outcome.get('sign --passphrase-file --json')).toBe(0);
    expect(outcome.get('sign, passphrase from the environment')).toBe(0);
    expect(outcome.get('sign, wrong passphrase')).toBe(2);
    expect(outcome.get('stage --json')).toBe(0);
    expect(outcome.get('publish to a KBS that drops the connection')).not.toBe(0);
    // and what they wrote holds the secrets where they belong
    expect(await fs.readFile(path.join(ws.dir, 'out-2/default/credential/test'), 'utf8')).toContain(auth);
  }, 120_000);
});
