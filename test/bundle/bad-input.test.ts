/**
 * Every kind of bad input bundle.yaml can hold: one line naming the file, the field path and the
 * problem; exit code 2; the previous output (tree and tarball) left exactly as it was.
 */
import { generateKeyPairSync } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import * as openpgp from 'openpgp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { IMAGE_RS_FIXTURES } from '../helpers/paths.js';
import { runCli } from '../helpers/run-cli.js';
import { copyExample, treeSnapshot } from '../build/tree.js';

const REG = 'registry.example.com:5000';
let example: string;
let work: string;
let good: Record<string, unknown>;

beforeAll(async () => {
  example = await copyExample();
  work = path.dirname(example);
  good = parse(await fs.readFile(path.join(example, 'bundle.yaml'), 'utf8')) as Record<string, unknown>;
  const r = await runCli(['build', '-c', 'example/bundle.yaml', '-o', 'out', '--tar', 'out.tar'], { cwd: work });
  expect(r.code).toBe(0);
  await fs.writeFile(path.join(example, 'aaa.asc'), 'aaa\n');
  await fs.copyFile(
    path.join(IMAGE_RS_FIXTURES, 'simple-signing-scheme/pubkey.gpg'),
    path.join(example, 'expired.asc'),
  );
  const { privateKey } = await openpgp.generateKey({
    userIDs: [{ name: 'Revoked Signer', email: 'revoked@example.com' }],
    format: 'object',
  });
  const revoked = await openpgp.revokeKey({ key: privateKey, format: 'armored' });
  await fs.writeFile(path.join(example, 'revoked.asc'), revoked.publicKey);
  const cosign = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  await fs.writeFile(path.join(example, 'cosign.key'), cosign.privateKey.export({ type: 'pkcs8', format: 'pem' }));
});

afterAll(async () => {
  await fs.rm(work, { recursive: true, force: true });
});

/** The example bundle as parsed YAML: the parts the cases edit, each open to fields the schema lacks. */
type Fields = Record<string, unknown>;
interface BundleDoc {
  [field: string]: unknown;
  policy: { default: Fields[]; scopes: Record<string, Fields[]> };
  registries: Record<string, Fields>;
  signatureStores: { default?: string; scopes: Record<string, string> };
  kbs: Fields;
}
type Edit = (b: BundleDoc) => void;

function variant(edit: Edit): string {
  const b = structuredClone(good) as BundleDoc;
  edit(b);
  return stringify(b);
}
const rule = (b: BundleDoc) => b.policy.scopes[REG]![0]!;
const registry = (b: BundleDoc) => b.registries[REG]!;

/** Writes the case bundle, runs build onto the existing output, returns the result after checking nothing changed. */
async function failingBuild(bundleText: string, env: NodeJS.ProcessEnv = {}) {
  await fs.writeFile(path.join(example, 'case.yaml'), bundleText);
  const before = {
    tree: await treeSnapshot(path.join(work, 'out')),
    tar: await fs.readFile(path.join(work, 'out.tar')),
    // `out` is a link to the content-named tree beside it; nothing else may appear there.
    hidden: (await fs.readdir(work)).filter((n) => n.startsWith('.')),
  };
  const r = await runCli(['build', '-c', 'example/case.yaml', '-o', 'out', '--tar', 'out.tar'], { cwd: work, env });
  expect(await treeSnapshot(path.join(work, 'out'))).toEqual(before.tree);
  expect(await fs.readFile(path.join(work, 'out.tar'))).toEqual(before.tar);
  expect((await fs.readdir(work)).filter((n) => n.startsWith('.'))).toEqual(before.hidden);
  expect(before.hidden).toEqual([path.basename(await fs.readlink(path.join(work, 'out')))]);
  expect(r.code).toBe(2);
  expect(r.stdout).toBe('');
  expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
  expect(r.stderr).not.toContain('example-password');
  return r.stderr.trimEnd();
}

const cases: Array<[string, () => string, RegExp | string, NodeJS.ProcessEnv?]> = [
  [
    'malformed YAML',
    () => 'policy:\n  default: [\n    {type: reject\n',
    /^kbs-bundler: example\/case\.yaml: line \d+, column \d+: malformed YAML: /,
  ],
  [
    'a duplicate scope (the same key quoted and plain)',
    () =>
      'policy:\n  default:\n    - type: reject\n  scopes:\n    "quay.io/a":\n      - type: reject\n    quay.io/a:\n      - type: insecureAcceptAnything\n',
    'example/case.yaml: line 7, column 5: malformed YAML: duplicated mapping key',
  ],
  [
    'a duplicate key in a flow mapping',
    () => 'policy: {default: [{type: reject, type: reject}]}\n',
    'example/case.yaml: line 1, column 35: malformed YAML: duplicated mapping key',
  ],
  ['an empty file', () => '# nothing yet\n', 'example/case.yaml: is empty; a bundle needs at least a policy: section'],
  [
    'an unknown field',
    () => variant((b) => (rule(b).keyz = ['x'])),
    `example/case.yaml: policy.scopes["${REG}"][0].keyz: unknown field`,
  ],
  [
    'scopes written as a list',
    () => 'policy:\n  scopes: [registry.example.com]\n',
    'example/case.yaml: policy.scopes: expected a mapping, got a list',
  ],
  [
    'a yes/no flag written as a string',
    () => variant((b) => (rule(b).allowExpired = 'yes')),
    `policy.scopes["${REG}"][0].allowExpired: expected true or false, got a string`,
  ],
  [
    'a typo of the required keys of a signedBy rule',
    () =>
      variant((b) => {
        rule(b).keyz = rule(b).keys;
        delete rule(b).keys;
      }),
    `example/case.yaml: policy.scopes["${REG}"][0].keyz: unknown field`,
  ],
  [
    'a typo of the required key of a sigstoreSigned rule',
    () => variant((b) => (b.policy.scopes[REG] = [{ type: 'sigstoreSigned', kye: 'cosign.pub' }])),
    `example/case.yaml: policy.scopes["${REG}"][0].kye: unknown field`,
  ],
  [
    'a typo of the required field of a signedIdentity',
    () => variant((b) => (rule(b).signedIdentity = { type: 'exactReference', dockerRefrence: 'a.io/b:c' })),
    `example/case.yaml: policy.scopes["${REG}"][0].signedIdentity.dockerRefrence: unknown field`,
  ],
  ['an unknown top-level field', () => variant((b) => (b.polcy = {})), 'example/case.yaml: polcy: unknown field'],
  [
    'an unknown rule type',
    () => variant((b) => (rule(b).type = 'signBy')),
    `policy.scopes["${REG}"][0].type: must be one of reject, insecureAcceptAnything, signedBy, sigstoreSigned`,
  ],
  [
    'a key file holding "aaa"',
    () => variant((b) => (rule(b).keys = ['aaa.asc'])),
    `policy.scopes["${REG}"][0].keys[0]: aaa.asc: not an OpenPGP key`,
  ],
  [
    'a secret key given as the public key',
    () => variant((b) => (rule(b).keys = ['EXAMPLE-ONLY-secret-key.asc'])),
    'EXAMPLE-ONLY-secret-key.asc: is a secret key; give the public key (gpg --export)',
  ],
  [
    'an expired key, with its expiry date',
    () => variant((b) => (rule(b).keys = ['expired.asc'])),
    /keys\[0\]: expired\.asc: key 67B24AACC459679E0283D7EE58F6ED07EEA6B429 .*expired on 2022-09-2\d/,
  ],
  [
    'a revoked key',
    () => variant((b) => (rule(b).keys = ['revoked.asc'])),
    /keys\[0\]: revoked\.asc: key [0-9A-F]{40} \(Revoked Signer <revoked@example\.com>\) is revoked/,
  ],
  [
    'a missing key file',
    () => variant((b) => (rule(b).keys = ['missing.asc'])),
    `policy.scopes["${REG}"][0].keys[0]: missing.asc: file not found`,
  ],
  [
    'a missing password file',
    () => variant((b) => (registry(b).passwordFile = 'nope')),
    `registries["${REG}"].passwordFile: nope: file not found`,
  ],
  [
    'a missing CA file',
    () => variant((b) => (registry(b).caFile = 'nope.crt')),
    `registries["${REG}"].caFile: nope.crt: file not found`,
  ],
  [
    'a missing signature store',
    () => variant((b) => (b.signatures = ['no-such-store'])),
    'signatures[0]: no-such-store: not found',
  ],
  [
    'an uppercase scope',
    () => variant((b) => (b.policy.scopes['Registry.example.com'] = [{ type: 'reject' }])),
    'example/case.yaml: policy.scopes["Registry.example.com"]: repository must be lowercase',
  ],
  [
    'an uppercase repository',
    () => variant((b) => (b.policy.scopes[`${REG}/Demo/app`] = [{ type: 'reject' }])),
    `policy.scopes["${REG}/Demo/app"]: repository must be lowercase`,
  ],
  [
    'a bad port',
    () => variant((b) => (b.policy.scopes['registry.example.com:99999'] = [{ type: 'reject' }])),
    'policy.scopes["registry.example.com:99999"]: bad port "99999"',
  ],
  [
    'a non-numeric port',
    () => variant((b) => (b.policy.scopes['registry.example.com:http'] = [{ type: 'reject' }])),
    'bad port "http"',
  ],
  [
    'a garbage scope',
    () => variant((b) => (b.policy.scopes['!!!'] = [{ type: 'reject' }])),
    'policy.scopes["!!!"]: not a valid scope',
  ],
  [
    'a short-name scope',
    () => variant((b) => (b.policy.scopes['busybox'] = [{ type: 'reject' }])),
    'policy.scopes["busybox"]: not a valid scope: "busybox" is not a registry host',
  ],
  [
    'a scope that is not fully expanded',
    () => variant((b) => (b.policy.scopes['docker.io/busybox'] = [{ type: 'reject' }])),
    'write the fully expanded name "docker.io/library/busybox"',
  ],
  [
    'an invalid store scope',
    () => variant((b) => (b.signatureStores.scopes['REG.example.com'] = 'file:///x')),
    'signatureStores.scopes["REG.example.com"]: repository must be lowercase',
  ],
  [
    'an illegal resource tag',
    () => variant((b) => (b.kbs.tag = 'te/st')),
    'example/case.yaml: kbs.tag: "te/st" is not a valid KBS resource name',
  ],
  [
    'an illegal resource repository',
    () => variant((b) => (b.kbs.repository = '.hidden')),
    'kbs.repository: ".hidden" is not a valid KBS resource name',
  ],
  [
    'an illegal keyPath resource',
    () => variant((b) => (rule(b).keyPath = 'kbs:///default/gpg key/test')),
    `policy.scopes["${REG}"][0].keyPath: "kbs:///default/gpg key/test" is not a KBS resource URI`,
  ],
  [
    'a relative guest keyPath',
    () => variant((b) => (rule(b).keyPath = 'keys/signer.gpg')),
    'is neither a kbs:/// resource URI nor an absolute guest file path',
  ],
  [
    'credentials without a password source',
    () => variant((b) => delete registry(b).passwordFile),
    `registries["${REG}"]: credentials without a password source`,
  ],
  [
    'an inline password',
    () => variant((b) => (registry(b).password = 'example-password')),
    `registries["${REG}"].password: inline passwords are not allowed`,
  ],
  [
    'a password variable that is not set',
    () =>
      variant((b) => {
        delete registry(b).passwordFile;
        registry(b).passwordEnv = 'KBSB_TEST_UNSET';
      }),
    `registries["${REG}"].passwordEnv: environment variable KBSB_TEST_UNSET is not set`,
  ],
  [
    'an https signature store',
    () => variant((b) => (b.signatureStores.scopes[REG] = 'https://sigs.example.com/store')),
    /signatureStores\.scopes\["registry\.example\.com:5000"\]: https:\/\/sigs\.example\.com\/store is an https store: the guest cannot read it .*HTTP support for signature stores is not implemented/,
  ],
  [
    'an http default store',
    () => variant((b) => (b.signatureStores.default = 'http://sigs.example.com')),
    'signatureStores.default: http://sigs.example.com is an http store: the guest cannot read it',
  ],
  ['an empty rule list', () => variant((b) => (b.policy.scopes[REG] = [])), `policy.scopes["${REG}"]: empty rule list`],
  ['an empty default list', () => variant((b) => (b.policy.default = [])), 'policy.default: empty rule list'],
  [
    'a cosign private key',
    () => variant((b) => (b.policy.scopes['quay.io/example/app'] = [{ type: 'sigstoreSigned', key: 'cosign.key' }])),
    'policy.scopes["quay.io/example/app"][0].key: cosign.key: is a private key; give the public key (cosign.pub)',
  ],
  [
    'a cosign key that is a GPG key',
    () =>
      variant(
        (b) => (b.policy.scopes['quay.io/example/app'] = [{ type: 'sigstoreSigned', key: 'example-public-key.asc' }]),
      ),
    'not a PEM public key',
  ],
  [
    'an unusable sigstoreSigned identity',
    () =>
      variant(
        (b) =>
          (b.policy.scopes['quay.io/example/app'] = [
            { type: 'sigstoreSigned', key: 'registry-ca.crt', signedIdentity: { type: 'matchExact' } },
          ]),
      ),
    'supports only matchRepository or exactRepository',
  ],
  [
    'an invalid registry address',
    () => variant((b) => (registry(b).address = 'registry.local')),
    `registries["${REG}"].address: "registry.local" is not an IPv4 or IPv6 address`,
  ],
  [
    'a CA file without a certificate',
    () => variant((b) => (registry(b).caFile = 'example-public-key.asc')),
    'caFile: example-public-key.asc: no PEM certificate',
  ],
];

describe('bad input: one line, exit 2, output unchanged', () => {
  it.each(cases)('%s', async (_name, text, expected, env) => {
    const stderr = await failingBuild(text(), env);
    if (typeof expected === 'string') expect(stderr).toContain(expected);
    else expect(stderr).toMatch(expected);
    expect(stderr).toMatch(/^kbs-bundler: example\/case\.yaml: /);
  });

  it('a missing bundle file', async () => {
    const r = await runCli(['build', '-c', 'example/absent.yaml', '-o', 'out'], { cwd: work });
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe('kbs-bundler: example/absent.yaml: file not found');
  });

  it('an output directory holding other files is not replaced', async () => {
    const foreign = path.join(work, 'home');
    await fs.mkdir(foreign);
    await fs.writeFile(path.join(foreign, 'notes.txt'), 'mine');
    const r = await runCli(['build', '-c', 'example/bundle.yaml', '-o', 'home'], { cwd: work });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('holds notes.txt, which is not one of the KBS resources build writes');
    expect(await fs.readFile(path.join(foreign, 'notes.txt'), 'utf8')).toBe('mine');
  });
});
