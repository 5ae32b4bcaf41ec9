/**
 * A file holding a secret given where another input was meant (the registry password as the policy, the
 * manifest, the CA…): every command refuses it without quoting it, in text and in --json.
 */
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/run-cli.js';
import { IMAGE_RS_RESOURCES, SIGNED_DIGEST, kbsTreeFromOfflineJson } from '../verify/fixtures.js';

const SECRET = 'S3cr3t-PassW0rd';
const IMAGE = 'quay.io/kata-containers/confidential-containers:signed';
let work: string;
let pw: string;
let kbs: string;
/** Broken JSON around the secret: node's JSON.parse message would quote it. */
let brokenJson: string;

beforeAll(async () => {
  work = await fs.mkdtemp(path.join(os.tmpdir(), 'kbs-secrets-'));
  pw = path.join(work, 'registry-password');
  await fs.writeFile(pw, `${SECRET}\n`);
  brokenJson = path.join(work, 'auth.json');
  await fs.writeFile(brokenJson, `{"auths": ${SECRET}}\n`);
  kbs = await kbsTreeFromOfflineJson(IMAGE_RS_RESOURCES, path.join(work, 'kbs'));
  await fs.mkdir(path.join(work, 'rootfs/etc'), { recursive: true });
});
afterAll(async () => {
  await fs.rm(work, { recursive: true, force: true });
});

const CASES: Array<[string, () => string[], boolean]> = [
  ['verify --policy', () => ['verify', IMAGE, '--policy', pw, '--digest', SIGNED_DIGEST], true],
  ['verify --manifest', () => ['verify', IMAGE, '--kbs', kbs, '--manifest', pw], true],
  ['verify --kbs', () => ['verify', IMAGE, '--kbs', pw, '--digest', SIGNED_DIGEST], true],
  ['verify --kbs (broken JSON)', () => ['verify', IMAGE, '--kbs', brokenJson, '--digest', SIGNED_DIGEST], true],
  ['verify --policy (broken JSON)', () => ['verify', IMAGE, '--policy', brokenJson, '--digest', SIGNED_DIGEST], true],
  ['audit --policy (broken JSON)', () => ['audit', '--store', work, '--policy', brokenJson], true],
  [
    'sign --manifest (broken JSON)',
    () => ['sign', '--key', pw, '--reference', 'a.io/b:c', '--store', work, '--manifest', brokenJson],
    true,
  ],
  ['verify --ca-file', () => ['verify', IMAGE, '--kbs', kbs, '--fetch', '--ca-file', pw], true],
  [
    'verify --sigstore-config',
    () => ['verify', IMAGE, '--kbs', kbs, '--sigstore-config', pw, '--digest', SIGNED_DIGEST],
    true,
  ],
  ['lint --kbs', () => ['lint', '--kbs', pw], true],
  ['sign --manifest', () => ['sign', '--key', pw, '--reference', 'a.io/b:c', '--store', work, '--manifest', pw], true],
  [
    'sign --key',
    () => ['sign', '--key', pw, '--reference', 'a.io/b:c', '--store', work, '--digest', SIGNED_DIGEST],
    true,
  ],
  ['audit --policy', () => ['audit', '--store', work, '--policy', pw], true],
  ['audit --store', () => ['audit', '--store', pw, '--keys', pw], true],
  [
    'render initdata --kbs-cert',
    () => ['render', 'initdata', '--kbs-url', 'https://kbs.example:8080', '--kbs-cert', pw],
    true,
  ],
  ['build -c', () => ['build', '-c', pw, '--dry-run'], true],
  ['build -c (broken JSON)', () => ['build', '-c', brokenJson, '--dry-run'], true],
  ['lint -c', () => ['lint', '-c', pw], true],
  ['render initdata -c', () => ['render', 'initdata', '-c', pw], false],
  ['stage -c', () => ['stage', '-c', pw, '--rootfs', path.join(work, 'rootfs'), '--dry-run'], true],
  ['render pod --initdata', () => ['render', 'pod', '--image', IMAGE, '--initdata', pw], false],
  ['stage --signatures', () => ['stage', '--rootfs', path.join(work, 'rootfs'), '--signatures', pw, '--dry-run'], true],
  ['unstage --rootfs', () => ['unstage', '--rootfs', pw, '--dry-run'], true],
];

describe('a secret file as the wrong input is never quoted', () => {
  it.each(CASES)('%s', async (_, args, hasJson) => {
    for (const json of hasJson ? [[], ['--json']] : [[]]) {
      const r = await runCli([...args(), ...json], { cwd: work });
      expect(r.code, r.stderr).not.toBe(0);
      expect(r.stdout + r.stderr).not.toContain(SECRET.slice(0, 6));
      expect(r.stdout + r.stderr).not.toContain(SECRET.slice(-6));
    }
  });
});

/**
 * A secret in files that are (or start like) JSON, given as the policy: each side's parse error names the
 * position or the member, never a character or value of the file. The secret's characters occur nowhere
 * else in the messages, so a quoted character of it (Go's `invalid character 'Q'`) or a quoted value
 * (serde's `invalid type: string "…"`, c/image's `JSON object expected, got "…"`) is caught.
 */
describe('a secret in a policy-shaped file is never quoted by either side', () => {
  const SHORT = 'Q7#Z~';
  const FILES: Record<string, string> = {
    'bare password': `${SHORT}\n`,
    'JSON string': `"${SHORT}"\n`,
    'password starting like a literal': `t${SHORT}\n`,
    'credential object as the default list': `{"default": {"auth": "${SHORT}"}, "transports": {}}\n`,
    'secret as a requirement type': `{"default": [{"type": "${SHORT}"}], "transports": {}}\n`,
    'secret as keyData': `{"default": [{"type": "signedBy", "keyType": "GPGKeys", "keyData": "${SHORT}A="}], "transports": {}}\n`,
  };
  /** Any character of the secret next to a quote, any two of its characters in a row, a symbol's code. */
  const leaks = (out: string): string[] => {
    const found: string[] = [];
    for (const c of SHORT)
      for (const q of [`'${c}`, `"${c}`, `\`${c}`, `${c}'`, `${c}"`]) if (out.includes(q)) found.push(q);
    for (let i = 0; i + 2 <= SHORT.length; i++)
      if (out.includes(SHORT.slice(i, i + 2))) found.push(SHORT.slice(i, i + 2));
    for (const c of SHORT) if (out.includes(`symbol ${c.charCodeAt(0)}`)) found.push(`symbol ${c.charCodeAt(0)}`);
    return found;
  };
  const files: Record<string, string> = {};
  const kbsDirs: Record<string, string> = {};
  beforeAll(async () => {
    for (const [i, [name, text]] of Object.entries(FILES).entries()) {
      files[name] = path.join(work, `policy-${i}.json`);
      await fs.writeFile(files[name], text);
      kbsDirs[name] = path.join(work, `kbs-${i}`);
      await fs.mkdir(path.join(kbsDirs[name], 'default/security-policy'), { recursive: true });
      await fs.writeFile(path.join(kbsDirs[name], 'default/security-policy/test'), text);
    }
  });

  const verifyBoth = (...source: string[]) => [
    'verify',
    IMAGE,
    ...source,
    '--digest',
    SIGNED_DIGEST,
    '--mode',
    'both',
    '--rootfs',
    path.join(work, 'rootfs'),
  ];
  const COMMANDS: Array<[string, (name: string) => string[]]> = [
    ['verify --policy --mode both', (n) => verifyBoth('--policy', files[n]!)],
    ['verify --kbs DIR --mode both', (n) => verifyBoth('--kbs', kbsDirs[n]!)],
    ['lint --kbs DIR', (n) => ['lint', '--kbs', kbsDirs[n]!]],
    ['audit --policy', (n) => ['audit', '--store', work, '--policy', files[n]!]],
  ];
  const CASES = COMMANDS.flatMap(([command, args]) => Object.keys(FILES).map((name) => [command, name, args] as const));

  it.each(CASES)('%s: %s', async (_, name, args) => {
    for (const json of [[], ['--json']]) {
      const r = await runCli([...args(name), ...json], { cwd: work });
      expect(r.code, r.stderr).not.toBe(0);
      expect(leaks(r.stdout + r.stderr), r.stdout + r.stderr).toEqual([]);
    }
  });
});
