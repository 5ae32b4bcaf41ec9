/**
 * `unstage`: remove exactly what the record says stage put into the rootfs, give appended files
 * their original bytes back, remove the directories stage created when they are empty again, and
 * finally the record. A file changed since staging is left alone and reported. An initrd is cut
 * back to the bytes it had before the first appended archive.
 */
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { InputError } from '../errors.js';
import type { Change, GuestView } from '../rootfs/changes.js';
import { guestString } from '../rootfs/guest-path.js';
import { withSignalGuard } from '../rootfs/interrupt.js';
import { WritePlanner } from '../rootfs/planner.js';
import { openRootfsTarget, type TargetKind } from '../rootfs/target.js';
import type { VerityResult } from '../rootfs/verity.js';
import { writeFileAtomic } from '../util/atomic.js';
import { CA_BLOCK, HOSTS_BLOCK, splitBlock } from './blocks.js';
import { readRecord } from './plan.js';
import { RECORD_PATH, sha256, type StageRecord } from './record.js';
import { countActions, type PlanAction, type PlanEntry, type StageWarning } from './types.js';

export interface UnstagePlan {
  entries: PlanEntry[];
  changes: Change[];
  warnings: StageWarning[];
  record: StageRecord;
  counts: Record<PlanAction, number>;
}

export interface UnstageResult {
  rootfs: string;
  kind: TargetKind;
  method: string;
  plan: UnstagePlan;
  dryRun: boolean;
  applied: boolean;
  verity?: VerityResult;
}

export class NothingStagedError extends InputError {
  constructor(rootfs: string) {
    super(
      'E_NOT_STAGED',
      { file: rootfs },
      `has no ${RECORD_PATH}: nothing was staged here by kbs-bundler (or it was unstaged already)`,
    );
    this.name = 'NothingStagedError';
  }
}

export async function planUnstage(view: GuestView, rootfs: string): Promise<UnstagePlan> {
  const planner = new WritePlanner(view);
  const { record, exists } = await readRecord(planner);
  if (!exists) throw new NothingStagedError(rootfs);
  const entries: PlanEntry[] = [];
  const changes: Change[] = [];
  const warnings: StageWarning[] = [];
  const removed = new Set<string>();
  const changed = (path: string, what: string) =>
    warnings.push({
      code: 'W_CHANGED_SINCE_STAGED',
      path,
      reason: `${path} (${what}) changed since it was staged; it is left as it is`,
      fix: `inspect ${path} and remove or restore it by hand`,
    });

  for (const f of record.files) {
    const t = await planner.existing(f.path);
    if (!t?.node || t.node.type !== 'file' || guestString(t.path) !== f.path) {
      entries.push({ path: f.path, realPath: f.path, what: 'signature', action: 'skip', detail: 'already gone' });
      continue;
    }
    const bytes = (await planner.read(t.path)) ?? Buffer.alloc(0);
    const what = f.path.includes('@') ? 'signature' : 'keyring';
    if (sha256(bytes) !== f.sha256) {
      changed(f.path, what);
      entries.push({ path: f.path, realPath: f.path, what, action: 'skip', detail: 'changed since staging' });
      continue;
    }
    if (f.original) {
      changes.push({
        op: 'write',
        path: t.path,
        data: Buffer.from(f.original.base64, 'base64'),
        mode: parseInt(f.original.mode, 8),
        replaces: true,
      });
      entries.push({ path: f.path, realPath: f.path, what, action: 'restore' });
    } else {
      changes.push({ op: 'remove', path: t.path });
      removed.add(f.path);
      entries.push({ path: f.path, realPath: f.path, what, action: 'remove' });
    }
  }

  for (const b of record.blocks) {
    const what = b.block === 'ca' ? 'ca-bundle' : 'hosts';
    const t = await planner.existing(b.path);
    if (!t?.node || t.node.type !== 'file') {
      entries.push({ path: b.path, realPath: b.path, what, action: 'skip', detail: 'already gone' });
      continue;
    }
    const current = ((await planner.read(t.path)) ?? Buffer.alloc(0)).toString('latin1');
    const split = splitBlock(current, b.block === 'ca' ? CA_BLOCK : HOSTS_BLOCK, b.separator);
    const original = Buffer.from(split.original, 'latin1');
    if (!split.block || sha256(original) !== b.originalSha256) {
      changed(b.path, `${what}: ${split.block ? 'the rest of the file' : 'the kbs-bundler block is missing'}`);
      entries.push({ path: b.path, realPath: b.path, what, action: 'skip', detail: 'changed since staging' });
      continue;
    }
    if (b.created && original.length === 0) {
      changes.push({ op: 'remove', path: t.path });
      removed.add(b.path);
      entries.push({ path: b.path, realPath: b.path, what, action: 'remove' });
    } else {
      changes.push({ op: 'write', path: t.path, data: original, mode: t.node.mode ?? 0o644, replaces: true });
      entries.push({ path: b.path, realPath: b.path, what, action: 'restore', detail: 'kbs-bundler block removed' });
    }
  }

  const recordTarget = await planner.existing(RECORD_PATH);
  if (recordTarget?.node) {
    changes.push({ op: 'remove', path: recordTarget.path });
    removed.add(guestString(recordTarget.path));
    entries.push({ path: RECORD_PATH, realPath: guestString(recordTarget.path), what: 'record', action: 'remove' });
  }

  // Directories stage created, deepest first, when nothing else is left in them.
  for (const dir of [...new Set(record.directories)].sort(
    (a, b) => b.split('/').length - a.split('/').length || (a < b ? 1 : -1),
  )) {
    const t = await planner.existing(dir);
    if (!t?.node || t.node.type !== 'dir' || guestString(t.path) !== dir) continue;
    const left = (await planner.list(t.path)).filter((n) => !removed.has(`${dir}/${n}`));
    if (left.length > 0) continue;
    changes.push({ op: 'rmdir', path: t.path });
    removed.add(dir);
    entries.push({ path: dir, realPath: dir, what: 'directory', action: 'remove' });
  }
  return { entries, changes, warnings, record, counts: countActions(entries) };
}

export async function unstageRootfs(options: {
  rootfs: string;
  dryRun?: boolean;
  noMount?: boolean;
  reverity?: boolean;
  rebuild?: boolean;
}): Promise<UnstageResult> {
  return withSignalGuard(async (guard) => {
    const target = await openRootfsTarget(options.rootfs, {
      ...(options.noMount ? { noMount: true } : {}),
      ...(options.reverity ? { reverity: true } : {}),
      ...(options.rebuild ? { rebuild: true } : {}),
      ...(options.dryRun ? { dryRun: true } : {}),
    });
    try {
      const plan = await planUnstage(target.view, options.rootfs);
      const base = {
        rootfs: options.rootfs,
        kind: target.kind,
        method: target.method,
        plan,
        dryRun: Boolean(options.dryRun),
        applied: false,
      };
      if (target.kind === 'initrd') {
        const initrd = plan.record.initrd;
        if (!initrd)
          throw new InputError(
            'E_STAGE_RECORD',
            { file: options.rootfs },
            `${RECORD_PATH} has no initrd section; cannot tell where the original initrd ends`,
          );
        const bytes = await fs.readFile(target.layout.path);
        const prefix = bytes.subarray(0, initrd.originalSize);
        if (createHash('sha256').update(prefix).digest('hex') !== initrd.originalSha256) {
          throw new InputError(
            'E_ROOTFS_CHANGED',
            { file: options.rootfs },
            `the first ${initrd.originalSize} bytes are not the initrd kbs-bundler staged into; refusing to cut it`,
          );
        }
        const entries: PlanEntry[] = [
          {
            path: options.rootfs,
            realPath: options.rootfs,
            what: 'initrd',
            action: 'restore',
            detail: `cut back to its original ${initrd.originalSize} bytes (${bytes.length - initrd.originalSize} appended bytes removed)`,
          },
        ];
        const initrdPlan = { ...plan, entries, changes: [], counts: countActions(entries) };
        if (options.dryRun) return { ...base, plan: initrdPlan };
        guard.check();
        const st = await fs.stat(target.layout.path);
        await writeFileAtomic(target.layout.path, prefix, st.mode & 0o7777);
        return { ...base, plan: initrdPlan, applied: true };
      }
      if (options.dryRun || plan.changes.length === 0) return base;
      const report = await target.apply(plan.changes, { guard });
      return { ...base, applied: true, ...(report.verity ? { verity: report.verity } : {}) };
    } finally {
      await target.close();
    }
  });
}
