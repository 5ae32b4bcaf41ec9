/**
 * buildRepository: the `build` job as a library call. Everything is loaded, validated and rendered
 * first; only then is anything written, each output atomically (a tree built beside its target and
 * renamed into place, files written aside and renamed). Bad input therefore changes nothing.
 */
import { bundleWarnings } from '../bundle/warnings.js';
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { loadBundle } from '../bundle/load.js';
import type { Bundle } from '../bundle/types.js';
import { InputError } from '../errors.js';
import type { AdminAuthForm } from './trustee-version.js';
import { replaceDirAtomic, writeFileAtomic } from '../util/atomic.js';
import { hostConfigFiles, isHostConfigPath, type HostFile } from './host-config.js';
import { DEFAULT_K8S_NAMESPACE, k8sManifests } from './k8s.js';
import { kbsClientScript, SCRIPT_MODE } from './kbs-client-script.js';
import {
  assertReplaceable,
  assertReplaceableRepository,
  layoutPath,
  treeContentDigest,
  writeTree,
  type Layout,
} from './layout.js';
import { renderResources, SECRET_MODE, type KbsResource } from './render.js';
import { resourcePath } from '../resource-id/resource-id.js';
import { fixedMtime, tarballStream } from './tarball.js';

export interface BuildOptions {
  /** A bundle.yaml path, or a bundle already loaded with loadBundle. */
  bundle: string | Bundle;
  outDir?: string;
  layout?: Layout;
  tarFile?: string;
  k8sFile?: string;
  k8sNamespace?: string;
  kbsClientScript?: string;
  /** How the kbs-client script authenticates (default: trustee v0.21's admin token). */
  adminAuth?: AdminAuthForm;
  hostConfigDir?: string;
  dryRun?: boolean;
  env?: NodeJS.ProcessEnv;
  onProgress?: (done: number, total: number) => void;
}

export interface BuiltResource {
  /** `<repo>/<type>/<tag>`. */
  resource: string;
  /** Path inside the output directory for the chosen layout. */
  path: string;
  size: number;
  mode: string;
  sha256: string;
}

export interface BuiltKey {
  scope: string;
  fingerprint: string;
  userIds: string[];
  algorithm: string;
  expires: string | null;
  file: string;
}

export interface BuildResult {
  bundle: Bundle;
  layout: Layout;
  resources: BuiltResource[];
  keys: BuiltKey[];
  kbsSecretResources?: string[];
  hostConfig?: Array<{ path: string; size: number }>;
  /** Things the guest will trip over that are not errors (e.g. files under /run). */
  warnings: string[];
  /** What was (or, with dryRun, would be) written. */
  outputs: Array<{ kind: 'repository' | 'tar' | 'k8s' | 'kbs-client-script' | 'host-config'; path: string }>;
  dryRun: boolean;
}

export async function buildRepository(options: BuildOptions): Promise<BuildResult> {
  const env = options.env ?? process.env;
  const layout = options.layout ?? 'nested';
  const bundle = typeof options.bundle === 'string' ? await loadBundle(options.bundle, { env }) : options.bundle;
  const resources = await renderResources(bundle, { env });
  const sha256s = resources.map((r) => sha256(r.bytes));

  const outputs: BuildResult['outputs'] = [];
  const writes: Array<() => Promise<void>> = [];
  const fileTargets: Array<[string, string]> = [];
  const dirTargets: Array<[string, string]> = [];

  if (options.outDir !== undefined) {
    const dir = options.outDir;
    await assertReplaceableRepository(dir);
    dirTargets.push(['-o', dir]);
    outputs.push({ kind: 'repository', path: dir });
    const contentDigest = treeContentDigest(resources, sha256s, layout);
    writes.push(() => replaceDirAtomic(dir, (staging) => writeTree(staging, resources, layout), { contentDigest }));
  }
  if (options.tarFile !== undefined) {
    const file = options.tarFile;
    const mtime = fixedMtime(env);
    fileTargets.push(['--tar', file]);
    outputs.push({ kind: 'tar', path: file });
    writes.push(() =>
      writeFileAtomic(file, tarballStream(resources, layout, mtime), hasSecret(resources) ? SECRET_MODE : 0o644),
    );
  }
  let kbsSecretResources: string[] | undefined;
  if (options.k8sFile !== undefined) {
    const file = options.k8sFile;
    const manifests = k8sManifests(resources, options.k8sNamespace ?? DEFAULT_K8S_NAMESPACE);
    kbsSecretResources = manifests.kbsSecretResources;
    fileTargets.push(['--k8s', file]);
    outputs.push({ kind: 'k8s', path: file });
    writes.push(() => writeFileAtomic(file, manifests.text, hasSecret(resources) ? SECRET_MODE : 0o644));
  }
  if (options.kbsClientScript !== undefined) {
    const file = options.kbsClientScript;
    const text = kbsClientScript(resources, options.adminAuth);
    fileTargets.push(['--kbs-client-script', file]);
    outputs.push({ kind: 'kbs-client-script', path: file });
    writes.push(() => writeFileAtomic(file, text, SCRIPT_MODE));
  }
  let hostFiles: HostFile[] | undefined;
  if (options.hostConfigDir !== undefined) {
    const dir = options.hostConfigDir;
    await assertReplaceable(dir, '--host-config', isHostConfigPath, 'host configuration files');
    const own = (r: KbsResource) => r.id.repository === bundle.repository && r.id.tag === bundle.tag;
    const files = hostConfigFiles(bundle, resources.find((r) => own(r) && r.id.type === 'credential')?.bytes);
    hostFiles = files;
    dirTargets.push(['--host-config', dir]);
    outputs.push({ kind: 'host-config', path: dir });
    writes.push(() => replaceDirAtomic(dir, (staging) => writeHostFiles(staging, files)));
  }
  await assertTargetsApart(fileTargets, dirTargets);

  if (!options.dryRun) {
    for (const [i, write] of writes.entries()) {
      await write();
      options.onProgress?.(i + 1, writes.length);
    }
  }
  return {
    bundle,
    layout,
    resources: resources.map((r, i) => ({
      resource: resourcePath(r.id),
      path: layoutPath(r.id, layout),
      size: r.bytes.length,
      mode: r.mode.toString(8).padStart(4, '0'),
      sha256: sha256s[i]!,
    })),
    keys: bundle.keyrings.flatMap((k) =>
      k.keyring.descriptions.map((d) => ({
        scope: k.scope,
        fingerprint: d.fingerprint,
        userIds: d.userIds,
        algorithm: d.algorithm,
        expires: d.expires,
        file: k.sourceFile,
      })),
    ),
    ...(kbsSecretResources ? { kbsSecretResources } : {}),
    ...(hostFiles ? { hostConfig: hostFiles.map((f) => ({ path: f.path, size: f.bytes.length })) } : {}),
    warnings: [...guestWarnings(bundle), ...bundleWarnings(bundle)],
    outputs,
    dryRun: options.dryRun === true,
  };
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

const RUN_REASON =
  'the kata agent mounts a tmpfs on /run at boot, so files staged there are hidden at run time; use a path such as /etc/containers/...';

function guestWarnings(bundle: Bundle): string[] {
  const underRun = (p: string) => p === '/run' || p.startsWith('/run/');
  const out = bundle.guestKeyFiles
    .filter((f) => underRun(f.guestPath))
    .map((f) => `keyPath ${f.guestPath} is under /run: ${RUN_REASON}`);
  const stores = [
    bundle.sigstoreConfig['default-docker']?.sigstore,
    ...Object.values(bundle.sigstoreConfig.docker ?? {}).map((e) => e.sigstore),
  ];
  for (const url of new Set(stores)) {
    if (url?.startsWith('file:///run/') || url === 'file:///run')
      out.push(`signature store ${url} is under /run: ${RUN_REASON}`);
  }
  return out;
}

function hasSecret(resources: readonly KbsResource[]): boolean {
  return resources.some((r) => r.mode === SECRET_MODE);
}

async function writeHostFiles(dir: string, files: readonly HostFile[]): Promise<void> {
  for (const f of files) {
    const file = path.join(dir, f.path);
    await fs.mkdir(path.dirname(file), { recursive: true });
    for (let d = path.dirname(file); d.length >= dir.length; d = path.dirname(d)) await fs.chmod(d, 0o755);
    await fs.writeFile(file, f.bytes, { mode: f.mode, flag: 'wx' });
    await fs.chmod(file, f.mode);
  }
}

/** Output files must not sit inside an output directory that build replaces, nor be directories. */
async function assertTargetsApart(files: Array<[string, string]>, dirs: Array<[string, string]>): Promise<void> {
  for (const [option, target] of [...files, ...dirs]) await assertParentUsable(option, target);
  const seen = new Map<string, string>();
  for (const [option, file] of files) {
    const other = seen.get(path.resolve(file));
    if (other !== undefined) throw new InputError('E_OUTPUT', { field: option }, `${file} is also the ${other} output`);
    seen.set(path.resolve(file), option);
  }
  for (const [option, file] of files) {
    const stat = await fs.stat(file).catch(() => undefined);
    if (stat?.isDirectory())
      throw new InputError('E_OUTPUT', { field: option }, `${file} is a directory; give a file name`);
    for (const [dirOption, dir] of dirs) {
      const rel = path.relative(path.resolve(dir), path.resolve(file));
      if (!rel.startsWith('..') && !path.isAbsolute(rel)) {
        throw new InputError(
          'E_OUTPUT',
          { field: option },
          `${file} is inside the ${dirOption} directory ${dir}, which build replaces as a whole`,
        );
      }
    }
  }
  const all = [...dirs];
  for (let i = 0; i < all.length; i++) {
    for (let j = i + 1; j < all.length; j++) {
      const [oa, a] = all[i]!;
      const [ob, b] = all[j]!;
      const rel = path.relative(path.resolve(a), path.resolve(b));
      const rel2 = path.relative(path.resolve(b), path.resolve(a));
      if (!rel.startsWith('..') || !rel2.startsWith('..')) {
        throw new InputError('E_OUTPUT', { field: ob }, `${b} overlaps the ${oa} directory ${a}`);
      }
    }
  }
}

/** The nearest existing ancestor of `target` must be a directory, or the write would fail half-way. */
async function assertParentUsable(option: string, target: string): Promise<void> {
  for (let p = path.dirname(path.resolve(target)); ; p = path.dirname(p)) {
    const stat = await fs.stat(p).catch(() => undefined);
    if (stat) {
      if (!stat.isDirectory())
        throw new InputError('E_OUTPUT', { field: option }, `cannot write ${target}: ${p} is not a directory`);
      return;
    }
    if (p === path.dirname(p)) return;
  }
}
