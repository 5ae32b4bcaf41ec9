/** The KBS writers as a library: layouts, tarball determinism, k8s limits, output-target checks. */
import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadBundle } from '../../src/bundle/load.js';
import { InputError } from '../../src/errors.js';
import { buildRepository } from '../../src/index.js';
import { k8sManifests } from '../../src/kbs/k8s.js';
import { layoutPath } from '../../src/kbs/layout.js';
import { renderResources } from '../../src/kbs/render.js';
import { fixedMtime, tarballBytes } from '../../src/kbs/tarball.js';
import { copyExample, treeSnapshot } from '../build/tree.js';

const run = promisify(execFile);
let example: string;
let work: string;

beforeAll(async () => {
  example = await copyExample();
  work = path.dirname(example);
});
afterAll(async () => {
  await fs.rm(work, { recursive: true, force: true });
});

describe('layouts', () => {
  it('nests for trustee <= v0.18 and flattens with a literal \\x2F for trustee >= v0.19', () => {
    const id = { repository: 'default', type: 'security-policy', tag: 'test' };
    expect(layoutPath(id, 'nested')).toBe('default/security-policy/test');
    expect(layoutPath(id, 'flat')).toBe('repository/default\\x2Fsecurity-policy\\x2Ftest');
    expect(layoutPath(id, 'flat')).toHaveLength(
      'repository/default'.length + 4 + 'security-policy'.length + 4 + 'test'.length,
    );
  });
});

describe('tarball', () => {
  it('is byte-identical across renders and honours SOURCE_DATE_EPOCH', async () => {
    const bundle = await loadBundle(path.join(example, 'bundle.yaml'));
    const a = await tarballBytes(await renderResources(bundle), 'flat', fixedMtime({}));
    const b = await tarballBytes(await renderResources(bundle), 'flat', fixedMtime({}));
    expect(a.equals(b)).toBe(true);
    const dated = await tarballBytes(
      await renderResources(bundle),
      'flat',
      fixedMtime({ SOURCE_DATE_EPOCH: '1700000000' }),
    );
    await fs.writeFile(path.join(work, 'dated.tar'), dated);
    const listing = (
      await run('tar', ['--full-time', '--quoting-style=literal', '-tvf', path.join(work, 'dated.tar')], {
        env: { ...process.env, TZ: 'UTC' },
      })
    ).stdout;
    expect(listing).toContain('2023-11-14 22:13:20 repository/default\\x2Fsecurity-policy\\x2Ftest');
    expect(listing).not.toContain('1970');
    const x = path.join(work, 'flat-x');
    await fs.mkdir(x);
    await run('tar', ['-xpf', path.join(work, 'dated.tar'), '-C', x]);
    expect(Object.keys(await treeSnapshot(x))).toEqual([
      'repository',
      'repository/default\\x2Fcredential\\x2Ftest',
      'repository/default\\x2Fsecurity-policy\\x2Ftest',
      'repository/default\\x2Fsigstore-config\\x2Ftest',
    ]);
  });
});

describe('k8s', () => {
  it('refuses a repository other than default (trustee-operator serves kbs:///default/<secret>/<key>)', async () => {
    await fs.writeFile(path.join(example, 'other.yaml'), 'kbs: {repository: team}\npolicy: {}\n');
    const resources = await renderResources(await loadBundle(path.join(example, 'other.yaml')));
    expect(() => k8sManifests(resources)).toThrow(/use repository "default" for --k8s/);
  });

  it('uses the namespace given', async () => {
    const resources = await renderResources(await loadBundle(path.join(example, 'bundle.yaml')));
    expect(k8sManifests(resources, 'kbs-ns').text).toContain('namespace: kbs-ns');
  });
});

describe('buildRepository', () => {
  it('returns the summary and writes nothing when an output target cannot be written', async () => {
    const out = path.join(work, 'out');
    const first = await buildRepository({ bundle: path.join(example, 'bundle.yaml'), outDir: out });
    expect(first.resources.map((r) => [r.resource, r.mode])).toEqual([
      ['default/credential/test', '0600'],
      ['default/security-policy/test', '0644'],
      ['default/sigstore-config/test', '0644'],
    ]);
    const before = await treeSnapshot(out);
    await fs.writeFile(path.join(work, 'plainfile'), 'x');
    const failing = buildRepository({
      bundle: path.join(example, 'bundle.yaml'),
      outDir: out,
      tarFile: path.join(work, 'plainfile/repo.tar'),
    });
    await expect(failing).rejects.toBeInstanceOf(InputError);
    await expect(failing).rejects.toThrow(/plainfile is not a directory/);
    expect(await treeSnapshot(out)).toEqual(before);
  });

  it('refuses one file for two outputs', async () => {
    const same = path.join(work, 'same.out');
    await expect(
      buildRepository({ bundle: path.join(example, 'bundle.yaml'), tarFile: same, k8sFile: same }),
    ).rejects.toThrow(/same\.out is also the --tar output/);
    await expect(fs.stat(same)).rejects.toThrow();
  });

  it('refuses an output file inside the directory it replaces', async () => {
    const out = path.join(work, 'out2');
    await expect(
      buildRepository({ bundle: path.join(example, 'bundle.yaml'), outDir: out, tarFile: path.join(out, 'x.tar') }),
    ).rejects.toThrow(/inside the -o directory/);
    await expect(fs.stat(out)).rejects.toThrow();
  });
});
