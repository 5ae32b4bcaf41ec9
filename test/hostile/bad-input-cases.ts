/**
 * The bad inputs of the hostile run, generated from tables: every file-taking option of every command
 * given each kind of bad file, every rootfs and store option given what is no rootfs or store, bundle.yaml
 * and policy.json broken in each way a user or an attacker might, and bad option values. Each case names
 * what its one error line must mention (the file or the option at fault).
 */
import { gzipSync } from 'node:zlib';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import type { Rng } from '../differential/rng.js';
import { DIGEST, IMAGE } from './workspace.js';

export interface BadCase {
  name: string;
  args: string[];
  /** The exit code (default 2). */
  code?: number;
  /** The error line must mention one of these. */
  names: string[];
  /**
   * verify decides as the guest: a policy or sigstore config the guest cannot load makes the pull fail,
   * a denial (exit 1) reported on stdout, not an input error.
   */
  denial?: boolean;
}

const LONG = `bad/${'n'.repeat(300)}`;

/** Bad files every input option must refuse: kind → path (relative to the workspace). */
const FILE_KINDS: Record<string, string> = {
  missing: 'bad/missing.file',
  'in a missing directory': 'bad/no-such-dir/file',
  empty: 'bad/empty',
  'random bytes': 'bad/random.bin',
  'NUL bytes': 'bad/nul.bin',
  text: 'bad/text.txt',
  'BOM and text': 'bad/bom.txt',
  'truncated gzip': 'bad/truncated.gz',
  'a directory': 'bad/dir',
  'a path through a file': 'bad/text.txt/inner',
  'a dangling symlink': 'bad/dangling',
  'a symlink loop': 'bad/loop-a',
  'a very long name': LONG,
  'oversized (sparse 100 MiB)': 'bad/huge',
  '/dev/zero': '/dev/zero',
  'the registry password': 'registry-password',
};

/** What is no rootfs: every kind above but the directory, plus a FIFO. */
const ROOTFS_KINDS: Record<string, string> = {
  ...Object.fromEntries(Object.entries(FILE_KINDS).filter(([k]) => k !== 'a directory')),
  'a FIFO': 'bad/fifo',
  '/dev/null': '/dev/null',
};

export async function writeBadFiles(dir: string, rng: Rng): Promise<void> {
  const bad = path.join(dir, 'bad');
  await fs.mkdir(path.join(bad, 'dir'), { recursive: true });
  await fs.writeFile(path.join(bad, 'empty'), '');
  await fs.writeFile(path.join(bad, 'random.bin'), Buffer.from(Array.from({ length: 3000 }, () => rng.int(256))));
  await fs.writeFile(path.join(bad, 'nul.bin'), Buffer.alloc(1000));
  await fs.writeFile(path.join(bad, 'text.txt'), 'this is not what was asked for\n');
  await fs.writeFile(path.join(bad, 'bom.txt'), '\ufeffnot it either\n');
  await fs.writeFile(path.join(bad, 'truncated.gz'), gzipSync(Buffer.alloc(100_000, 'a')).subarray(0, 60));
  await fs.symlink('nowhere', path.join(bad, 'dangling'));
  await fs.symlink('loop-b', path.join(bad, 'loop-a'));
  await fs.symlink('loop-a', path.join(bad, 'loop-b'));
  const huge = await fs.open(path.join(bad, 'huge'), 'w');
  await huge.truncate(100 * 1024 * 1024);
  await huge.close();
  execFileSync('mkfifo', [path.join(bad, 'fifo')]);
  // a well-formed admin token, so that publish gets as far as the input under test
  const part = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
  await fs.writeFile(path.join(dir, 'admin-token'), `${part({ alg: 'EdDSA' })}.${part({ role: 'admin' })}.c2ln\n`);
}

/** Each slot: a command with one input file option; `except` lists kinds that are valid there. */
interface Slot {
  name: string;
  args: (file: string) => string[];
  kinds?: Record<string, string>;
  except?: string[];
  /** Other names the line may give instead of the file (the key a wrong passphrase does not open). */
  alsoNames?: string[];
  /** Kinds that are a denial here (see BadCase.denial). */
  denied?: string[];
}

/** The kinds that are files with the wrong content (rather than no readable file at all). */
const CONTENT_KINDS = [
  'empty',
  'random bytes',
  'NUL bytes',
  'text',
  'BOM and text',
  'truncated gzip',
  'the registry password',
];
/** An empty file and 100 MiB of zeros are both an empty tar archive: a store with no signature. */
const EMPTY_TARS = ['empty', 'oversized (sparse 100 MiB)'];

const V = ['verify', IMAGE, '--kbs', 'kbs', '--digest', DIGEST];

const SLOTS: Slot[] = [
  { name: 'build -c', args: (f) => ['build', '-c', f, '-o', 'never-out'] },
  { name: 'lint -c', args: (f) => ['lint', '-c', f] },
  { name: 'lint --kbs', args: (f) => ['lint', '--kbs', f, '--json'] },
  { name: 'lint --initdata', args: (f) => ['lint', '--initdata', f] },
  { name: 'lint --rootfs', args: (f) => ['lint', '-c', 'bundle.yaml', '--rootfs', f], kinds: ROOTFS_KINDS },
  { name: 'verify --kbs', args: (f) => ['verify', IMAGE, '--kbs', f, '--digest', DIGEST] },
  { name: 'verify --policy', args: (f) => [...V, '--policy', f, '--json'], denied: CONTENT_KINDS },
  { name: 'verify --sigstore-config', args: (f) => [...V, '--sigstore-config', f], denied: CONTENT_KINDS },
  { name: 'verify --manifest', args: (f) => ['verify', IMAGE, '--kbs', 'kbs', '--manifest', f] },
  { name: 'verify --initdata', args: (f) => ['verify', IMAGE, '--initdata', f, '--digest', DIGEST] },
  { name: 'verify --rootfs', args: (f) => [...V, '--rootfs', f, '--json'], kinds: ROOTFS_KINDS },
  {
    name: 'verify --fetch --ca-file',
    args: (f) => ['verify', IMAGE, '--kbs', 'kbs', '--fetch', '--ca-file', f],
  },
  {
    name: 'sign --key',
    args: (f) => ['sign', '--key', f, '--reference', IMAGE, '--digest', DIGEST, '--store', 'never-store'],
  },
  {
    name: 'sign --manifest',
    args: (f) =>
      ['sign', '--key', 'EXAMPLE-ONLY-secret-key.asc', '--reference', IMAGE].concat([
        '--manifest',
        f,
        '--store',
        'never-store',
        '--json',
      ]),
  },
  {
    name: 'sign --passphrase-file',
    args: (f) =>
      ['sign', '--key', 'signer.sec.asc', '--passphrase-file', f, '--reference', IMAGE].concat([
        '--digest',
        DIGEST,
        '--store',
        'never-store',
      ]),
    alsoNames: ['signer.sec.asc'],
  },
  {
    name: 'keygen --passphrase-file',
    args: (f) =>
      ['keygen', '--name', 'X', '--email', 'x@example.com', '--algorithm', 'ed25519'].concat([
        '--passphrase-file',
        f,
        '--out',
        'never-keys',
      ]),
    // any text is a passphrase; an empty one is refused
    except: ['text', 'BOM and text', 'the registry password', 'random bytes', 'NUL bytes', 'truncated gzip'],
  },
  { name: 'stage -c', args: (f) => ['stage', '-c', f, '--rootfs', 'rootfs', '--json'] },
  {
    name: 'stage --signatures',
    args: (f) => ['stage', '-c', 'bundle.yaml', '--rootfs', 'rootfs', '--signatures', f],
    kinds: ROOTFS_KINDS,
    except: EMPTY_TARS,
  },
  { name: 'stage --rootfs', args: (f) => ['stage', '-c', 'bundle.yaml', '--rootfs', f], kinds: ROOTFS_KINDS },
  { name: 'unstage --rootfs', args: (f) => ['unstage', '--rootfs', f, '--json'], kinds: ROOTFS_KINDS },
  {
    name: 'audit --store',
    args: (f) => ['audit', '--store', f, '--keys', 'example-public-key.asc'],
    kinds: ROOTFS_KINDS,
    except: EMPTY_TARS,
  },
  { name: 'audit --keys', args: (f) => ['audit', '--store', 'store', '--keys', f, '--json'] },
  {
    name: 'audit --policy',
    args: (f) => ['audit', '--store', 'store', '--keys', 'example-public-key.asc', '--policy', f],
  },
  { name: 'render initdata -c', args: (f) => ['render', 'initdata', '-c', f, '--kbs-url', 'http://kbs.example:8080'] },
  {
    name: 'render initdata --kbs-cert',
    args: (f) => ['render', 'initdata', '-c', 'bundle.yaml', '--kbs-url', 'https://kbs.example:8080', '--kbs-cert', f],
  },
  { name: 'render pod --initdata', args: (f) => ['render', 'pod', '--image', IMAGE, '--initdata', f] },
  { name: 'render initdata-digest', args: (f) => ['render', 'initdata-digest', f, '--json'] },
  { name: 'render kernel-params -c', args: (f) => ['render', 'kernel-params', '-c', f] },
  { name: 'render snippet kbsconfig -c', args: (f) => ['render', 'snippet', 'kbsconfig', '-c', f] },
  {
    name: 'publish -c',
    args: (f) => [
      'publish',
      '-c',
      f,
      '--kbs-url',
      'http://127.0.0.1:9',
      '--admin-token-file',
      'admin-token',
      '--dry-run',
    ],
  },
  {
    name: 'publish --admin-key',
    args: (f) => ['publish', '-c', 'bundle.yaml', '--kbs-url', 'http://127.0.0.1:9', '--admin-key', f, '--dry-run'],
  },
  {
    name: 'publish --cert-file',
    args: (f) =>
      ['publish', '-c', 'bundle.yaml', '--kbs-url', 'https://127.0.0.1:9', '--admin-token-file', 'admin-token'].concat([
        '--cert-file',
        f,
        '--dry-run',
      ]),
  },
];

/**
 * Kinds that all end in the same few system errors of opening a path (no file, not a directory, a loop):
 * each slot gets all the other kinds and PATH_KINDS_PER_SLOT of these, drawn by the run's seed, so that
 * runs together try every pair while one run stays short.
 */
const PATH_KINDS = [
  'missing',
  'in a missing directory',
  'a path through a file',
  'a dangling symlink',
  'a symlink loop',
];
const PATH_KINDS_PER_SLOT = 1;

export function fileCases(rng: Rng): BadCase[] {
  const out: BadCase[] = [];
  for (const slot of SLOTS) {
    const pool = [...PATH_KINDS];
    const drawn = Array.from({ length: PATH_KINDS_PER_SLOT }, () => pool.splice(rng.int(pool.length), 1)[0]!);
    for (const [kind, file] of Object.entries(slot.kinds ?? FILE_KINDS)) {
      if (slot.except?.includes(kind)) continue;
      if (PATH_KINDS.includes(kind) && !drawn.includes(kind)) continue;
      const denial = slot.denied?.includes(kind) ?? false;
      out.push({
        name: `${slot.name} ${kind}`,
        args: slot.args(file),
        names: [file.length > 150 ? file.slice(0, 150) : file, ...(slot.alsoNames ?? [])],
        ...(denial ? { code: 1, denial } : {}),
      });
    }
  }
  return out;
}

const BAD_REFERENCES = [
  'UPPER/Case:1',
  'a b/c',
  `r.example/${'x'.repeat(300)}`,
  'r.example:5000:1/x',
  'x@sha256:zz',
  ':tag',
];
const BAD_DIGESTS = ['sha256:zz', 'md5:d41d8cd98f00b204e9800998ecf8427e', `sha256:${'a'.repeat(63)}`, 'sha256'];
const SIGN = ['sign', '--key', 'EXAMPLE-ONLY-secret-key.asc', '--store', 'never-store'];

/** [option, value, args]: bad option values, each of which the line must name (option or value). */
const OPTION_CASES: Array<[string, string, string[], string[]?]> = [
  ['--layout', 'bogus', ['build', '-c', 'bundle.yaml', '-o', 'never-out', '--layout', 'bogus']],
  [
    '--trustee-version',
    '9.x',
    ['build', '-c', 'bundle.yaml', '-o', 'never-out', '--kbs-client-script', 'never.sh', '--trustee-version', '9.x'],
  ],
  [
    '--k8s-namespace',
    'Bad_NS',
    ['build', '-c', 'bundle.yaml', '-o', 'never-out', '--k8s', 'never.yaml', '--k8s-namespace', 'Bad_NS'],
  ],
  [
    '--k8s-namespace',
    `${'n'.repeat(70)}`,
    ['build', '-c', 'bundle.yaml', '-o', 'never-out', '--k8s', 'never.yaml', '--k8s-namespace', 'n'.repeat(70)],
  ],
  ['--output', 'bad/text.txt/out', ['build', '-c', 'bundle.yaml', '-o', 'bad/text.txt/out']],
  [
    '--host-config',
    'bad/text.txt/host',
    ['build', '-c', 'bundle.yaml', '-o', 'never-out', '--host-config', 'bad/text.txt/host'],
  ],
  ['--tar', 'bad/dir', ['build', '-c', 'bundle.yaml', '-o', 'never-out', '--tar', 'bad/dir']],
  ['--guest-release', 'v9000', ['lint', '-c', 'bundle.yaml', '--guest-release', 'v9000']],
  ['--guest-release', 'banana', ['verify', IMAGE, '--kbs', 'kbs', '--digest', DIGEST, '--guest-release', 'banana']],
  ['--host-release', 'x.y', ['verify', IMAGE, '--kbs', 'kbs', '--digest', DIGEST, '--host-release', 'x.y']],
  ['--mode', 'both-ways', ['verify', IMAGE, '--kbs', 'kbs', '--digest', DIGEST, '--mode', 'both-ways']],
  ['--platform', 'linux', ['verify', IMAGE, '--kbs', 'kbs', '--fetch', '--platform', 'linux']],
  ['--kbs-tag', '../../etc', ['verify', IMAGE, '--kbs', 'kbs', '--digest', DIGEST, '--kbs-tag', '../../etc']],
  ['--kbs-repository', 'a/b', ['lint', '--kbs', 'kbs', '--kbs-repository', 'a/b']],
  ['--kbs-tag', '', ['lint', '--kbs', 'kbs', '--kbs-tag', '']],
  ...BAD_DIGESTS.map((d): [string, string, string[]] => [
    '--digest',
    d,
    ['verify', IMAGE, '--kbs', 'kbs', '--digest', d],
  ]),
  ...BAD_DIGESTS.map((d): [string, string, string[]] => [
    '--digest',
    d,
    [...SIGN, '--reference', IMAGE, '--digest', d],
  ]),
  ...BAD_REFERENCES.map((ref): [string, string, string[]] => [
    '--reference',
    ref,
    [...SIGN, '--reference', ref, '--digest', DIGEST],
  ]),
  ...BAD_REFERENCES.map((ref): [string, string, string[]] => ['--image', ref, ['render', 'pod', '--image', ref]]),
  [
    '--store',
    'bad/text.txt',
    [
      'sign',
      '--key',
      'EXAMPLE-ONLY-secret-key.asc',
      '--reference',
      IMAGE,
      '--digest',
      DIGEST,
      '--store',
      'bad/text.txt',
    ],
  ],
  ['--sign-by', 'ZZZZ', [...SIGN, '--reference', IMAGE, '--digest', DIGEST, '--sign-by', 'ZZZZ']],
  ['--email', 'p@x', ['keygen', '--name', 'A', '--email', 'p@x', '--out', 'never-keys']],
  ['--email', 'no at sign', ['keygen', '--name', 'A', '--email', 'no at sign', '--out', 'never-keys']],
  ['--name', '', ['keygen', '--name', '', '--email', 'a@example.com', '--out', 'never-keys']],
  ['--name', 'a<b>', ['keygen', '--name', 'a<b>', '--email', 'a@example.com', '--out', 'never-keys']],
  [
    '--algorithm',
    'dsa1024',
    ['keygen', '--name', 'A', '--email', 'a@example.com', '--algorithm', 'dsa1024', '--out', 'never-keys'],
  ],
  [
    '--basename',
    '../escape',
    ['keygen', '--name', 'A', '--email', 'a@example.com', '--basename', '../escape', '--out', 'never-keys'],
  ],
  [
    '--out',
    'bad/text.txt',
    ['keygen', '--name', 'A', '--email', 'a@example.com', '--algorithm', 'ed25519', '--out', 'bad/text.txt'],
  ],
  ...['0', '-1', '1e9', '100000', 'abc', '1.5', ''].map((j): [string, string, string[]] => [
    '--jobs',
    j,
    ['audit', '--store', 'store', '--keys', 'example-public-key.asc', '--jobs', j],
  ]),
  ['--kbs-url', 'not a url', ['render', 'kernel-params', '-c', 'bundle.yaml', '--kbs-url', 'not a url']],
  ['--kbs-url', 'ftp://kbs.example', ['render', 'initdata', '-c', 'bundle.yaml', '--kbs-url', 'ftp://kbs.example']],
  [
    '--kbs-url',
    'http://',
    ['publish', '-c', 'bundle.yaml', '--kbs-url', 'http://', '--admin-token-file', 'admin-token', '--dry-run'],
  ],
  ['--algorithm', 'md5', ['render', 'initdata', '-c', 'bundle.yaml', '--algorithm', 'md5']],
  ['--digest', 'sgx', ['render', 'initdata', '-c', 'bundle.yaml', '--digest', 'sgx']],
  ['--guest-release', 'vx', ['render', 'initdata', '-c', 'bundle.yaml', '--guest-release', 'vx']],
  ['--name', 'Bad_Name', ['render', 'pod', '--image', IMAGE, '--name', 'Bad_Name']],
  ['--runtime-class', 'Bad Class', ['render', 'pod', '--image', IMAGE, '--runtime-class', 'Bad Class']],
  ['--tee', 'sgx', ['render', 'initdata-digest', '--tee', 'sgx', 'bundle.yaml']],
  ['name', 'bogus', ['render', 'snippet', 'bogus']],
  ['--image-request-timeout', 'abc', ['render', 'snippet', 'kata-config', '--image-request-timeout', 'abc']],
  ['--image-request-timeout', '-5', ['render', 'snippet', 'kata-config', '--image-request-timeout', '-5']],
  ['--namespace', 'Bad_NS', ['render', 'snippet', 'kbsconfig', '--namespace', 'Bad_NS']],
  [
    '--admin-key',
    '--admin-token-file',
    [
      'publish',
      '-c',
      'bundle.yaml',
      '--kbs-url',
      'http://127.0.0.1:9',
      '--admin-token-file',
      'admin-token',
      '--admin-key',
      'admin-token',
      '--dry-run',
    ],
  ],
  ['--admin-token-file', 'none', ['publish', '-c', 'bundle.yaml', '--kbs-url', 'http://127.0.0.1:9', '--dry-run']],
  ['--output', 'bundle.yaml', ['init', '-o', 'bundle.yaml']],
  ['--output', 'bad/dir', ['init', '-o', 'bad/dir']],
  ['--output', 'bad/text.txt/x', ['init', '-o', 'bad/text.txt/x'], ['bad/text.txt']],
  ['--kbs-tag', '../../etc', ['lint', '--kbs', 'kbs', '--kbs-tag', '../../etc']],
  ['--dir', 'bad/text.txt', ['quickstart', '--dir', 'bad/text.txt']],
  ['--dir', 'bad/text.txt/x', ['quickstart', '--dir', 'bad/text.txt/x']],
  ['--dir', 'store', ['quickstart', '--dir', 'store']],
  ['--tar', 'bad/dir', ['stage', '-c', 'bundle.yaml', '--rootfs', 'rootfs', '--tar', 'bad/dir']],
];

/** Each command with valid arguments, and an option of it that takes a value. */
const COMMANDS: Array<[string, string[], string]> = [
  ['build', ['-c', 'bundle.yaml', '-o', 'never-out'], '--layout'],
  ['lint', ['-c', 'bundle.yaml'], '--guest-release'],
  ['verify', [IMAGE, '--kbs', 'kbs', '--digest', DIGEST], '--mode'],
  [
    'sign',
    ['--key', 'EXAMPLE-ONLY-secret-key.asc', '--reference', IMAGE, '--digest', DIGEST, '--store', 'never-store'],
    '--creator',
  ],
  ['keygen', ['--name', 'A', '--email', 'a@example.com', '--out', 'never-keys'], '--algorithm'],
  ['stage', ['-c', 'bundle.yaml', '--rootfs', 'rootfs'], '--signatures'],
  ['unstage', ['--rootfs', 'rootfs'], '--rootfs'],
  ['audit', ['--store', 'store', '--keys', 'example-public-key.asc'], '--jobs'],
  ['render initdata', ['-c', 'bundle.yaml'], '--kbs-url'],
  [
    'publish',
    ['-c', 'bundle.yaml', '--kbs-url', 'http://127.0.0.1:9', '--admin-token-file', 'admin-token', '--dry-run'],
    '--cert-file',
  ],
  ['init', ['-o', 'never.yaml'], '--output'],
  ['quickstart', ['--dir', 'never-quickstart'], '--dir'],
];

export function optionCases(): BadCase[] {
  const out: BadCase[] = OPTION_CASES.map(([option, value, args, more]) => ({
    name: `${args[0]} ${option} ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`,
    args,
    names: [option, ...(value.length >= 3 ? [value.slice(0, 150)] : []), ...(more ?? [])],
  }));
  for (const ref of BAD_REFERENCES)
    out.push({
      name: `verify image ${JSON.stringify(ref.slice(0, 40))}`,
      args: ['verify', ref, '--kbs', 'kbs', '--digest', DIGEST],
      names: [],
      code: 1,
      // the guest cannot parse the reference: its pull fails
      denial: true,
    });
  for (const [command, args, option] of COMMANDS) {
    const words = command.split(' ');
    out.push({
      name: `${command} unknown option`,
      args: [...words, ...args, '--no-such-flag'],
      names: ['--no-such-flag'],
    });
    out.push({ name: `${command} ${option} without its value`, args: [...words, ...args, option], names: [option] });
  }
  return out;
}

const alias = (levels: number) => {
  const lines = ['a0: &a0 [x, x, x, x, x, x, x, x, x, x]'];
  for (let i = 1; i < levels; i++)
    lines.push(`a${i}: &a${i} [${Array.from({ length: 10 }, () => `*a${i - 1}`).join(', ')}]`);
  return lines.join('\n');
};

/** bundle.yaml broken in one way each: [what, how the example text becomes it, other names the line may give]. */
const BUNDLE_VARIANTS: Array<[string, (text: string) => string, string[]?]> = [
  ['an alias bomb', (t) => `${alias(9)}\n${t}`],
  ['3000-deep flow nesting', (t) => `${t}\nextra: ${'['.repeat(3000)}${']'.repeat(3000)}\n`],
  [
    '3000-deep block nesting',
    (t) => `${t}\nextra:\n${Array.from({ length: 3000 }, (_x, i) => `${' '.repeat(i + 1)}k:`).join('\n')} 1\n`,
  ],
  ['a %YAML 2.0 directive', (t) => `%YAML 2.0\n---\n${t}`],
  ['an unknown tag', (t) => t.replace('type: reject', 'type: !foo reject')],
  ['a duplicate key', (t) => `${t}\npolicy:\n  default: [{type: reject}]\n`],
  ['policy of the wrong type', (t) => t.replace(/^policy:$/m, 'policy: 5\nunused:')],
  ['registries as a list', (t) => t.replace(/^registries:$/m, 'registries: [a, b]\nunused:')],
  ['an unknown top-level field', (t) => `${t}\npolcy: {}\n`],
  ['keyz instead of keys', (t) => t.replace('keys:', 'keyz:')],
  [
    'a 5000-character scope',
    (t) => t.replaceAll('"registry.example.com:5000":', `"registry.example.com:5000/${'n'.repeat(5000)}":`),
  ],
  ['a scope with spaces', (t) => t.replace('"registry.example.com:5000":', '"Bad Scope!":')],
  ['a missing key file', (t) => t.replace('example-public-key.asc', 'bad/nope.asc'), ['bad/nope.asc']],
  [
    'a secret key as the key',
    (t) => t.replace('example-public-key.asc', 'EXAMPLE-ONLY-secret-key.asc'),
    ['EXAMPLE-ONLY-secret-key.asc'],
  ],
  ['a key with a bad CRC', (t) => t.replace('example-public-key.asc', 'bad/bad-crc.asc'), ['bad/bad-crc.asc']],
  ['a directory as the key', (t) => t.replace('example-public-key.asc', 'bad/dir'), ['bad/dir']],
  ['/dev/zero as the key', (t) => t.replace('example-public-key.asc', '/dev/zero'), ['/dev/zero']],
  ['a private key as the caFile', (t) => t.replace('registry-ca.crt', 'bad/private.pem'), ['bad/private.pem']],
  ['garbage as the caFile', (t) => t.replace('registry-ca.crt', 'bad/random.bin'), ['bad/random.bin']],
  [
    'a missing passwordFile',
    (t) => t.replace('passwordFile: registry-password', 'passwordFile: bad/nope'),
    ['bad/nope'],
  ],
  [
    'a directory as the passwordFile',
    (t) => t.replace('passwordFile: registry-password', 'passwordFile: bad/dir'),
    ['bad/dir'],
  ],
  [
    '/dev/zero as the passwordFile',
    (t) => t.replace('passwordFile: registry-password', 'passwordFile: /dev/zero'),
    ['/dev/zero'],
  ],
  ['tabs for indentation', (t) => t.replace('\n  default:', '\n\tdefault:')],
  ['a list document', () => '- policy\n- registries\n'],
  ['a scalar document', () => 'hello\n'],
  ['two documents', (t) => `${t}\n---\nkbs: {tag: other}\n`],
  ['a tag climbing with ..', (t) => t.replace('tag: test', 'tag: ../../x')],
  ['an address that is no IP', (t) => t.replace('address: 192.0.2.10', 'address: not-an-ip')],
  ['a NUL byte', (t) => t.replace('kbs:', 'kbs\0:')],
  [
    'a string where a boolean goes',
    (t) => t.replace('- type: signedBy', '- type: signedBy\n        allowExpired: "yes"'),
  ],
  ['a relative keyPath', (t) => t.replace('keys:', 'keyPath: relative/key.gpg\n        keys:')],
  ['an unknown requirement type', (t) => t.replace('type: reject', 'type: rejectAll')],
];

const BUNDLE_COMMANDS: Array<[string, (f: string) => string[]]> = [
  ['build', (f) => ['build', '-c', f, '-o', 'never-out']],
  ['lint', (f) => ['lint', '-c', f, '--json']],
  ['stage', (f) => ['stage', '-c', f, '--rootfs', 'rootfs']],
  ['render initdata', (f) => ['render', 'initdata', '-c', f]],
];

export async function writeBundleVariants(dir: string): Promise<BadCase[]> {
  const text = await fs.readFile(path.join(dir, 'bundle.yaml'), 'utf8');
  const armored = await fs.readFile(path.join(dir, 'example-public-key.asc'), 'utf8');
  await fs.writeFile(
    path.join(dir, 'bad/bad-crc.asc'),
    armored.replace(/^=(....)$/m, (_m, crc: string) => `=${crc === 'AAAA' ? 'BBBB' : 'AAAA'}`),
  );
  execFileSync('openssl', ['genpkey', '-algorithm', 'ed25519', '-out', path.join(dir, 'bad/private.pem')]);
  const out: BadCase[] = [];
  for (const [i, [what, make, more]] of BUNDLE_VARIANTS.entries()) {
    const file = `bundle-${i}.yaml`;
    await fs.writeFile(path.join(dir, file), make(text));
    for (const [command, args] of BUNDLE_COMMANDS)
      out.push({ name: `${command} -c: ${what}`, args: args(file), names: [file, ...(more ?? [])] });
  }
  return out;
}

/** policy.json broken in one way each (audit --policy refuses it; verify --policy denies as the guest would). */
const POLICY_VARIANTS: Array<[string, string]> = [
  ['a UTF-8 BOM', '\ufeff{"default":[{"type":"insecureAcceptAnything"}]}'],
  ['3000-deep nesting', `{"default":[{"type":"reject"}],"x":${'['.repeat(3000)}${']'.repeat(3000)}}`],
  ['default of the wrong type', '{"default":5}'],
  ['an array', '[{"type":"reject"}]'],
  ['no default', '{"transports":{}}'],
  ['an unknown requirement type', '{"default":[{"type":"rejectAll"}]}'],
  ['keyData that is not base64', '{"default":[{"type":"signedBy","keyType":"GPGKeys","keyData":"not base64!"}]}'],
  ['truncated', '{"default":[{"type":"reject"}'],
  ['a trailing comma', '{"default":[{"type":"reject"}],}'],
  ['a lone surrogate in a scope', '{"default":[{"type":"reject"}],"transports":{"docker":{"a\\udc00b":[]}}}'],
];

export async function writePolicyVariants(dir: string): Promise<BadCase[]> {
  const out: BadCase[] = [];
  for (const [i, [what, text]] of POLICY_VARIANTS.entries()) {
    const file = `policy-${i}.json`;
    await fs.writeFile(path.join(dir, file), text);
    // Go's encoding/json reads a lone surrogate (as U+FFFD): only the guest refuses that policy
    if (what !== 'a lone surrogate in a scope')
      out.push({
        name: `audit --policy: ${what}`,
        args: ['audit', '--store', 'store', '--keys', 'example-public-key.asc', '--policy', file],
        names: [file],
      });
    out.push({
      name: `verify --policy: ${what}`,
      args: ['verify', IMAGE, '--kbs', 'kbs', '--digest', DIGEST, '--mode', 'both', '--policy', file, '--json'],
      names: [file],
      code: 1,
      denial: true,
    });
  }
  return out;
}
