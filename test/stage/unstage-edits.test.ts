/**
 * What the user did between stage and unstage (edited the guest's /etc/hosts), and stores that
 * hold no signature for the guest: through the CLI, on directory rootfs.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/run-cli.js';
import { makeGuestTree, tempDir } from '../rootfs/images.js';
import { makeKey, makeStore, REGISTRY } from './fixtures.js';
import { snapshot } from './snapshot.js';

let work: string;
let cfg: string;
let imageDir: string;
const RECORD = 'var/lib/kbs-bundler/staged.json';
const BEGIN = '# BEGIN kbs-bundler registry addresses';

beforeAll(async () => {
  work = await tempDir('kbs-unstage-edits-');
  const key = await makeKey('signer');
  await fs.mkdir(path.join(work, 'keys'));
  await fs.writeFile(path.join(work, 'keys/signer.gpg'), key.publicBytes);
  const [digest] = await makeStore(path.join(work, 'store'), key, [
    { reference: `${REGISTRY}/team/app:v1`, repo: 'team/app' },
  ]);
  imageDir = path.join(work, 'store', `team/app@sha256=${digest!.slice(7)}`);
  cfg = path.join(work, 'bundle.yaml');
  await fs.writeFile(
    cfg,
    [
      'policy:',
      '  default: [{type: reject}]',
      '  scopes:',
      `    "${REGISTRY}":`,
      '      - type: signedBy',
      '        keys: [keys/signer.gpg]',
      'signatures: [store]',
      'registries:',
      `  "${REGISTRY}":`,
      '    address: 192.0.2.10',
      '',
    ].join('\n'),
  );
}, 60_000);

afterAll(async () => {
  await fs.rm(work, { recursive: true, force: true });
});

async function staged(name: string): Promise<{ root: string; original: Record<string, string> }> {
  const root = path.join(work, name);
  await makeGuestTree(root);
  const original = await snapshot(root);
  const r = await runCli(['stage', '-c', cfg, '--rootfs', root]);
  expect(r.code, r.stderr).toBe(0);
  expect(await fs.readFile(path.join(root, 'etc/hosts'), 'utf8')).toContain(BEGIN);
  return { root, original };
}

describe('unstage after the guest /etc/hosts was edited', () => {
  it('a line added outside the intact block: the block is removed, the line kept, the record gone', async () => {
    const { root } = await staged('edited-outside');
    const hosts = path.join(root, 'etc/hosts');
    await fs.appendFile(hosts, '10.0.0.5 added-by-hand\n');
    const r = await runCli(['unstage', '--rootfs', root]);
    expect(r.code, r.stderr).toBe(0);
    expect(await fs.readFile(hosts, 'utf8')).toBe('127.0.0.1 localhost\n10.0.0.5 added-by-hand\n');
    await expect(fs.access(path.join(root, RECORD))).rejects.toThrow();
  });

  it('a line edited inside the block: exit 1 naming the block, the file left, the record kept; unstage again once the block is taken out', async () => {
    const { root, original } = await staged('edited-inside');
    const hosts = path.join(root, 'etc/hosts');
    const edited = (await fs.readFile(hosts, 'utf8')).replace('192.0.2.10 ', '192.0.2.99 ');
    await fs.writeFile(hosts, edited);
    const r = await runCli(['unstage', '--rootfs', root]);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toContain(`the kbs-bundler block in /etc/hosts (from "${BEGIN} (managed by`);
    expect(r.stderr).toContain('was edited since it was staged; it is left as it is and stays in the record');
    expect(await fs.readFile(hosts, 'utf8')).toBe(edited);
    const record = JSON.parse(await fs.readFile(path.join(root, RECORD), 'utf8')) as {
      files: unknown[];
      blocks: Array<{ path: string }>;
    };
    expect(record.files).toEqual([]); // the signature was removed
    expect(record.blocks.map((b) => b.path)).toEqual(['/etc/hosts']);

    await fs.writeFile(hosts, '127.0.0.1 localhost\n'); // the user takes the block out
    const again = await runCli(['unstage', '--rootfs', root]);
    expect(again.code, again.stderr).toBe(0);
    expect(await snapshot(root)).toEqual(original);
  });
});

describe('staging zero signatures', () => {
  it.each([
    ['an empty store', async () => fs.mkdir(path.join(work, 'empty'), { recursive: true }).then(() => 'empty')],
    [
      'an unrelated directory',
      async () => {
        await fs.mkdir(path.join(work, 'unrelated/docs'), { recursive: true });
        await fs.writeFile(path.join(work, 'unrelated/docs/README'), 'not signatures\n');
        return 'unrelated';
      },
    ],
    ["one image's @sha256= directory", () => Promise.resolve(path.relative(work, imageDir))],
  ])('from %s: a warning that stops the stage (exit 1, nothing changed) unless --force', async (name, make) => {
    const store = path.join(work, await make());
    const root = path.join(work, `zero-${name.replace(/\W+/g, '-')}`);
    await makeGuestTree(root);
    const before = await snapshot(root);
    const r = await runCli(['stage', '-c', cfg, '--rootfs', root, '--signatures', store]);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toContain(`warning [W_NO_SIGNATURES] ${store}: no signature would be staged from ${store}`);
    if (name.includes('@sha256='))
      expect(r.stderr).toContain(`${store} is one image's signature directory, not a store`);
    expect(r.stderr).toContain('stage stopped by 1 warning(s); nothing was changed');
    expect(await snapshot(root)).toEqual(before);
    const forced = await runCli(['stage', '-c', cfg, '--rootfs', root, '--signatures', store, '--force']);
    expect(forced.code, forced.stderr).toBe(0);
    expect(await fs.readFile(path.join(root, 'etc/hosts'), 'utf8')).toContain(BEGIN);
  });
});
