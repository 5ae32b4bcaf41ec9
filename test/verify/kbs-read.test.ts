/** Reading a KBS repository back in every form `build` writes and trustee stores. */
import { execFileSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openKbsRepository } from '../../src/kbs/read.js';
import { IMAGE_RS_RESOURCES, kbsTreeFromOfflineJson, tempDir } from './fixtures.js';

let work: string;
let nested: string;
let expected: Record<string, string>;

beforeAll(async () => {
  work = await tempDir('kbs-read');
  nested = await kbsTreeFromOfflineJson(IMAGE_RS_RESOURCES, path.join(work, 'nested'));
  expected = JSON.parse(await fs.readFile(IMAGE_RS_RESOURCES, 'utf8')) as Record<string, string>;
});
afterAll(async () => {
  await fs.rm(work, { recursive: true, force: true });
});

async function expectAllResources(source: string, form: string): Promise<void> {
  const repo = await openKbsRepository(source);
  expect(repo.form).toBe(form);
  expect(repo.list()).toEqual(Object.keys(expected).sort());
  for (const [id, b64] of Object.entries(expected)) {
    expect(Buffer.from((await repo.get(id)) ?? []).toString('base64')).toBe(b64);
  }
  expect(await repo.get({ repository: 'default', type: 'nothing', tag: 'test' })).toBeUndefined();
}

describe('openKbsRepository', () => {
  it('reads the nested layout <repo>/<type>/<tag>', async () => {
    await expectAllResources(nested, 'nested');
  });

  it('reads the flat layout repository/<repo>\\x2F<type>\\x2F<tag>', async () => {
    const flat = path.join(work, 'flat');
    await fs.mkdir(path.join(flat, 'repository'), { recursive: true });
    for (const [id, b64] of Object.entries(expected)) {
      await fs.writeFile(path.join(flat, 'repository', id.split('/').join('\\x2F')), Buffer.from(b64, 'base64'));
    }
    await expectAllResources(flat, 'flat');
  });

  it('reads a gzip tarball made by GNU tar, and a plain one', async () => {
    const tgz = path.join(work, 'repo.tar.gz');
    execFileSync('tar', ['-czf', tgz, '-C', nested, '.']);
    await expectAllResources(tgz, 'tarball');
    const tar = path.join(work, 'repo.tar');
    execFileSync('tar', ['-cf', tar, '-C', nested, 'default']);
    await expectAllResources(tar, 'tarball');
  });

  it('reads an offline-fs-kbc resources JSON', async () => {
    await expectAllResources(IMAGE_RS_RESOURCES, 'offline-fs-json');
  });

  it('refuses a resource larger than its format in a tarball, naming the entry; other resources read as keys', async () => {
    const tree = path.join(work, 'large');
    await fs.cp(nested, tree, { recursive: true });
    await fs.writeFile(path.join(tree, 'default/sigstore-config/test'), Buffer.alloc(4 * 1024 * 1024 + 1));
    const tgz = path.join(work, 'large.tar.gz');
    execFileSync('tar', ['-czf', tgz, '-C', tree, 'default']);
    await expect(openKbsRepository(tgz)).rejects.toMatchObject({
      code: 'E_TOO_LARGE',
      message: `${tgz}:default/sigstore-config/test: is larger than 4 MiB, more than a sigstore config can be`,
    });
    await fs.writeFile(path.join(tree, 'default/sigstore-config/test'), 'default-docker: {}\n');
    await fs.mkdir(path.join(tree, 'default/gpg-key'));
    await fs.writeFile(path.join(tree, 'default/gpg-key/signer'), Buffer.alloc(8 * 1024 * 1024 + 1));
    const repo = await openKbsRepository(tree);
    await expect(repo.get('default/gpg-key/signer')).rejects.toMatchObject({
      code: 'E_TOO_LARGE',
      message: `${path.join(tree, 'default/gpg-key/signer')}: is larger than 8 MiB, more than a keyring can be`,
    });
    expect(Buffer.from((await repo.get('default/sigstore-config/test')) ?? []).toString()).toBe('default-docker: {}\n');
  });

  it('refuses a missing path and a directory with no resource', async () => {
    await expect(openKbsRepository(path.join(work, 'missing'))).rejects.toMatchObject({ code: 'E_FILE_NOT_FOUND' });
    const empty = path.join(work, 'empty');
    await fs.mkdir(empty);
    await expect(openKbsRepository(empty)).rejects.toThrow(/holds no KBS resource/);
  });
});
