/**
 * The staging plan: every file stage would create, append to, replace or leave alone, computed
 * from the bundle, the signature stores and a read-only view of the rootfs. Nothing is written
 * here; `apply` in stage.ts hands the changes to the rootfs backend.
 */
import type { Change } from '../rootfs/changes.js';
import { guestString } from '../rootfs/guest-path.js';
import { WritePlanner } from '../rootfs/planner.js';
import type { GuestView } from '../rootfs/changes.js';
import type { StoredSignature } from '../store/read-store.js';
import { hasLeftovers, noLeftovers, removeTemporary, type Leftovers } from './leftovers.js';
import { planCaBundles, planHosts } from './plan-blocks.js';
import { FILE_MODE, planSignatures } from './plan-signatures.js';
import {
  emptyRecord,
  modeString8,
  parseRecord,
  RECORD_DIR,
  RECORD_PATH,
  serializeRecord,
  sha256,
  type StageRecord,
} from './record.js';
import { countActions, type PlanEntry, type StageInput, type StagePlan, type StageWarning } from './types.js';

export interface PlanOptions {
  /** For an initrd: the bytes before anything kbs-bundler appended (kept in the record). */
  initrdOriginal?: { size: number; sha256: string };
  /** What a killed earlier run left (the view given hides it): replaced or removed by this plan. */
  leftovers?: Leftovers;
  check?: () => void;
  onProgress?: (done: number, total: number) => void;
}

export async function readRecord(
  planner: WritePlanner,
): Promise<{ record: StageRecord; exists: boolean; bytes?: Buffer }> {
  const t = await planner.existing(RECORD_PATH);
  if (!t?.node) return { record: emptyRecord(), exists: false };
  const bytes = (await planner.read(t.path)) ?? Buffer.alloc(0);
  return { record: parseRecord(bytes, RECORD_PATH), exists: true, bytes };
}

export async function planStage(
  view: GuestView,
  input: StageInput,
  signatures: readonly StoredSignature[],
  options: PlanOptions = {},
): Promise<StagePlan> {
  const planner = new WritePlanner(view);
  const previous = await readRecord(planner);
  const record = previous.record;
  const entries: PlanEntry[] = [];
  const writes: Change[] = [];
  const warnings: StageWarning[] = [];

  const sigs = await planSignatures(
    planner,
    signatures,
    { policy: input.policy, sigstoreConfig: input.sigstoreConfig, keyrings: input.keyrings },
    options,
  );
  entries.push(...sigs.entries);
  writes.push(...sigs.writes);
  warnings.push(...sigs.warnings);

  /** Whole files this run writes, with what they replace (restored by unstage). */
  const owned = new Map<string, { original?: { base64: string; mode: string } }>();
  const nothingReplaced = {};
  for (const real of sigs.realPaths) owned.set(real, nothingReplaced);
  for (const key of [...input.guestKeyFiles].sort((a, b) => (a.guestPath < b.guestPath ? -1 : 1))) {
    options.check?.();
    const t = await planner.target(key.guestPath);
    const via = t.via.length > 0 ? { via: t.via } : {};
    const real = guestString(t.path);
    const current = t.node ? await planner.read(t.path) : undefined;
    if (current && current.equals(Buffer.from(key.bytes)) && t.node?.mode === FILE_MODE) {
      entries.push({
        path: key.guestPath,
        realPath: real,
        what: 'keyring',
        action: 'skip',
        ...via,
        detail: key.sourceFile,
      });
      continue;
    }
    writes.push({ op: 'write', path: t.path, data: key.bytes, mode: FILE_MODE, replaces: current !== undefined });
    entries.push({
      path: key.guestPath,
      realPath: real,
      what: 'keyring',
      action: current ? 'replace' : 'create',
      ...via,
      detail: key.sourceFile,
    });
    owned.set(
      real,
      current ? { original: { base64: current.toString('base64'), mode: modeString8(t.node?.mode ?? FILE_MODE) } } : {},
    );
  }

  const ca = await planCaBundles(planner, input.registries, record);
  const hosts = await planHosts(planner, input.registries, record);
  for (const b of [ca, hosts]) {
    entries.push(...b.entries);
    writes.push(...b.writes);
    warnings.push(...b.warnings);
  }

  // Anything that would land under /run is hidden at boot by the agent's tmpfs.
  const underRun = writes.filter((w) => w.path[0] === 'run');
  if (underRun.length > 0) {
    warnings.unshift({
      code: 'W_RUN',
      path: guestString(underRun[0]!.path),
      reason: `${underRun.length} file(s) would be staged under /run (e.g. ${guestString(underRun[0]!.path)}); the kata agent mounts a tmpfs on /run at boot, so the guest never sees them`,
      fix: 'use a path outside /run: a keyPath such as /etc/containers/keys/…, a sigstore base such as file:///var/lib/containers/sigstore, or embed keys as keyData',
      count: underRun.length,
    });
  }

  // The record: what this and earlier runs staged, rewritten only when something changes (or when
  // it is the intent of a run that was killed: then this run finishes it).
  const leftovers = options.leftovers ?? noLeftovers();
  const changes: Change[] = [];
  let plannedDirPaths: string[] | undefined;
  let next = record;
  if (writes.length > 0 || record.pending) {
    const recordTarget = await planner.target(RECORD_PATH);
    plannedDirPaths = planner.plannedDirPaths(); // after the record's directory
    // a record directory left by a run killed before its intent is this run's, as if it made it
    const madeDirs = leftovers.orphanRecordDir ? [...plannedDirPaths, RECORD_DIR] : plannedDirPaths;
    next = nextRecord(record, writes, sigs, owned, [ca, hosts], madeDirs, options.initrdOriginal);
    const bytes = serializeRecord(next);
    for (const d of planner.plannedDirs()) changes.push(d);
    for (const w of writes)
      changes.push(w.op === 'write' && leftovers.partial.has(w.path.join('/')) ? { ...w, replaces: true } : w);
    if (!previous.bytes || !previous.bytes.equals(bytes)) {
      changes.push({
        op: 'write',
        path: recordTarget.path,
        data: bytes,
        mode: FILE_MODE,
        replaces: previous.exists,
        atomic: true,
        last: true,
      });
      entries.push({
        path: RECORD_PATH,
        realPath: guestString(recordTarget.path),
        what: 'record',
        action: previous.exists ? 'replace' : 'create',
      });
    }
  } else if (leftovers.orphanRecordDir) {
    changes.push({ op: 'rmdir', path: RECORD_DIR.split('/').filter((c) => c !== '') });
  }
  if (hasLeftovers(leftovers)) {
    const written = new Set(changes.map((c) => c.path.join('/')));
    for (const p of leftovers.partial) if (!written.has(p)) changes.push({ op: 'remove', path: p.split('/') });
    changes.push(...removeTemporary(leftovers));
  }
  // The record's strings, not a second 10,000 of them.
  for (const d of plannedDirPaths ?? planner.plannedDirPaths())
    entries.push({ path: d, realPath: d, what: 'directory', action: 'create' });
  return {
    entries,
    changes,
    warnings,
    skippedSignatures: sigs.skipped.sort((a, b) => (a.source < b.source ? -1 : 1)),
    record: next,
    counts: countActions(entries),
  };
}

/** The record after this run: earlier runs' entries, this run's files, blocks and directories. */
function nextRecord(
  record: StageRecord,
  writes: readonly Change[],
  sigs: { realPaths: readonly string[]; hashes: readonly string[] },
  owned: ReadonlyMap<string, { original?: { base64: string; mode: string } }>,
  blockPlans: ReadonlyArray<{ blocks: StageRecord['blocks']; cleared: readonly string[] }>,
  plannedDirPaths: readonly string[],
  initrdOriginal: PlanOptions['initrdOriginal'],
): StageRecord {
  const files = new Map(record.files.map((f) => [f.path, f]));
  // writes begins with the signature writes, whose real paths and hashes planning already has
  for (let i = 0; i < writes.length; i++) {
    const w = writes[i] as Change;
    const real = i < sigs.realPaths.length ? (sigs.realPaths[i] as string) : guestString(w.path);
    const mine = owned.get(real);
    if (w.op !== 'write' || !mine) continue;
    // The first run that wrote a file knows what was there before (nothing, or an original);
    // later runs keep that answer, so unstage always goes back to before the first run.
    const earlier = files.get(real);
    const original = earlier ? earlier.original : mine.original;
    const hash = i < sigs.hashes.length ? (sigs.hashes[i] as string) : sha256(w.data);
    files.set(real, { path: real, sha256: hash, mode: modeString8(w.mode), ...(original ? { original } : {}) });
  }
  const blocks = new Map(record.blocks.map((b) => [`${b.block}:${b.path}`, b]));
  for (const b of blockPlans.flatMap((p) => p.blocks)) {
    const old = blocks.get(`${b.block}:${b.path}`);
    blocks.set(`${b.block}:${b.path}`, { ...b, created: old?.created ?? b.created });
  }
  for (const key of blockPlans.flatMap((p) => p.cleared)) blocks.delete(key);
  return {
    version: 1,
    files: [...files.values()],
    blocks: [...blocks.values()],
    directories: [...record.directories, ...plannedDirPaths],
    ...(record.initrd
      ? { initrd: record.initrd }
      : initrdOriginal
        ? { initrd: { originalSize: initrdOriginal.size, originalSha256: initrdOriginal.sha256 } }
        : {}),
  };
}
