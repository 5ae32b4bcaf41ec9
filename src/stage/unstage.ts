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
import { beginLine, CA_BLOCK, endLine, HOSTS_BLOCK, splitBlock } from './blocks.js';
import { findLeftovers, removeTemporary, type Leftovers } from './leftovers.js';
import { readRecord } from './plan.js';
import { ancestorsOf } from './plan-signatures.js';
import {
  RECORD_DIR,
  RECORD_PATH,
  serializeRecord,
  sha256,
  type RecordedBlock,
  type RecordedFile,
  type StageRecord,
} from './record.js';
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
  const leftovers = await findLeftovers(view, exists ? record : undefined);
  if (!exists) {
    if (!leftovers.orphanRecordDir) throw new NothingStagedError(rootfs);
    return orphanRecordDirPlan(leftovers, record);
  }
  // A view that batches (debugfs: one process for many) lists the directories and reads the files up front.
  const dirs = [...record.files, ...record.blocks].map((f) => f.path.slice(0, f.path.lastIndexOf('/')) || '/');
  await view.prefetch?.(ancestorsOf([...dirs, ...record.directories]));
  await view.prefetchFiles?.(record.files.map((f) => f.path));
  const p = new UnstagePlanner(planner, record, leftovers);
  for (const f of record.files) await p.file(f);
  for (const b of record.blocks) await p.block(b);
  for (const t of leftovers.temporary) p.removeTemporary(t);
  await p.recordAndDirectories();
  return p.result();
}

/** A run killed before its intent left only the record's directory (and temporary files in it). */
function orphanRecordDirPlan(leftovers: Leftovers, record: StageRecord): UnstagePlan {
  const changes: Change[] = [...removeTemporary(leftovers), { op: 'rmdir', path: components(RECORD_DIR) }];
  const entries: PlanEntry[] = [
    {
      path: RECORD_DIR,
      realPath: RECORD_DIR,
      what: 'directory',
      action: 'remove',
      detail: 'left by a stage that was stopped before it wrote its record',
    },
  ];
  return { entries, changes, warnings: [], record, counts: countActions(entries) };
}

const components = (guestPath: string) => guestPath.split('/').filter((c) => c !== '');

/**
 * Plans the undoing of one record. What has changed since staging is left in place, and stays in
 * the record (rewritten to hold just that), so unstage can be run again once it has been looked at.
 */
class UnstagePlanner {
  private readonly entries: PlanEntry[] = [];
  private readonly changes: Change[] = [];
  private readonly warnings: StageWarning[] = [];
  private readonly removed = new Set<string>();
  private readonly keptFiles: RecordedFile[] = [];
  private readonly keptBlocks: RecordedBlock[] = [];

  constructor(
    private readonly planner: WritePlanner,
    private readonly record: StageRecord,
    private readonly leftovers: Leftovers,
  ) {}

  async file(f: RecordedFile): Promise<void> {
    const what = f.path.includes('@') ? 'signature' : 'keyring';
    const t = await this.planner.existing(f.path);
    if (!t?.node || t.node.type !== 'file' || guestString(t.path) !== f.path) {
      this.entries.push({ path: f.path, realPath: f.path, what, action: 'skip', detail: 'already gone' });
      return;
    }
    const bytes = (await this.planner.read(t.path)) ?? Buffer.alloc(0);
    const original = f.original ? Buffer.from(f.original.base64, 'base64') : undefined;
    if (original && bytes.equals(original) && t.node.mode === parseInt(f.original!.mode, 8)) {
      this.entries.push({ path: f.path, realPath: f.path, what, action: 'skip', detail: 'already the original' });
      return;
    }
    const partial = this.leftovers.partial.has(components(f.path).join('/'));
    if (sha256(bytes) !== f.sha256 && !partial) {
      this.changed(f.path, what, `${f.path} (${what}) changed since it was staged; it is left as it is`);
      this.keptFiles.push(f);
      return;
    }
    if (original) {
      this.changes.push({
        op: 'write',
        path: t.path,
        data: original,
        mode: parseInt(f.original!.mode, 8),
        replaces: true,
      });
      this.entries.push({ path: f.path, realPath: f.path, what, action: 'restore' });
    } else {
      this.remove(t.path, f.path, what, partial ? 'written in part by a stage that was stopped' : undefined);
    }
  }

  async block(b: RecordedBlock): Promise<void> {
    const what = b.block === 'ca' ? 'ca-bundle' : 'hosts';
    const kind = b.block === 'ca' ? CA_BLOCK : HOSTS_BLOCK;
    const t = await this.planner.existing(b.path);
    if (!t?.node || t.node.type !== 'file') {
      this.entries.push({ path: b.path, realPath: b.path, what, action: 'skip', detail: 'already gone' });
      return;
    }
    const current = ((await this.planner.read(t.path)) ?? Buffer.alloc(0)).toString('latin1');
    const split = splitBlock(current, kind, b.separator);
    const original = Buffer.from(split.original, 'latin1');
    if (!split.block) {
      // Not added yet (a stopped stage) or already taken out: nothing of kbs-bundler's is in the file.
      this.entries.push({ path: b.path, realPath: b.path, what, action: 'skip', detail: 'no kbs-bundler block' });
      return;
    }
    const intact =
      b.blockSha256 !== undefined
        ? sha256(Buffer.from(split.block, 'latin1')) === b.blockSha256
        : sha256(original) === b.originalSha256;
    if (!intact) {
      this.changed(
        b.path,
        what,
        `the kbs-bundler block in ${b.path} (from "${beginLine(kind)}" to "${endLine(kind)}") was edited since it was staged; it is left as it is and stays in the record`,
        `check that block in ${b.path}, take it out by hand (or restore it as staged), then run unstage again`,
      );
      this.keptBlocks.push(b);
      return;
    }
    if (b.created && original.length === 0) this.remove(t.path, b.path, what);
    else {
      this.changes.push({ op: 'write', path: t.path, data: original, mode: t.node.mode ?? 0o644, replaces: true });
      this.entries.push({
        path: b.path,
        realPath: b.path,
        what,
        action: 'restore',
        detail: 'kbs-bundler block removed',
      });
    }
  }

  removeTemporary(p: readonly string[]): void {
    this.changes.push({ op: 'remove', path: p });
    this.removed.add(guestString(p));
  }

  /** The record goes when everything was undone; otherwise it keeps what was left. Then the empty directories. */
  async recordAndDirectories(): Promise<void> {
    const recordTarget = await this.planner.existing(RECORD_PATH);
    const keep = this.keptFiles.length > 0 || this.keptBlocks.length > 0;
    // the record goes last, then its directory: a kill before that leaves the record to run unstage again with
    if (recordTarget?.node && !keep) this.remove(recordTarget.path, RECORD_PATH, 'record', undefined, true);
    // Directories stage created, deepest first, when nothing else is left in them.
    const left: string[] = [];
    for (const dir of [...new Set(this.record.directories)].sort(
      (a, b) => b.split('/').length - a.split('/').length || (a < b ? 1 : -1),
    )) {
      const t = await this.planner.existing(dir);
      if (!t?.node || t.node.type !== 'dir' || guestString(t.path) !== dir) continue;
      const names = (await this.planner.list(t.path)).filter((n) => !this.removed.has(`${dir}/${n}`));
      if (names.length > 0) {
        left.push(dir);
        continue;
      }
      // the record's directories go after it: compared by real path (a link above it, e.g. /var → /data)
      const recordReal = recordTarget ? guestString(recordTarget.path) : RECORD_PATH;
      this.changes.push({ op: 'rmdir', path: t.path, ...(recordReal.startsWith(`${dir}/`) ? { last: true } : {}) });
      this.removed.add(dir);
      this.entries.push({ path: dir, realPath: dir, what: 'directory', action: 'remove' });
    }
    if (recordTarget?.node && keep) {
      const rest: StageRecord = { ...this.record, files: this.keptFiles, blocks: this.keptBlocks, directories: left };
      delete rest.pending;
      this.changes.push({
        op: 'write',
        path: recordTarget.path,
        data: serializeRecord(rest),
        mode: 0o644,
        replaces: true,
        atomic: true,
        last: true,
      });
      this.entries.push({
        path: RECORD_PATH,
        realPath: guestString(recordTarget.path),
        what: 'record',
        action: 'replace',
        detail: 'keeps what was left in place',
      });
    }
  }

  result(): UnstagePlan {
    return {
      entries: this.entries,
      changes: this.changes,
      warnings: this.warnings,
      record: this.record,
      counts: countActions(this.entries),
    };
  }

  private remove(p: readonly string[], shown: string, what: PlanEntry['what'], detail?: string, last = false): void {
    this.changes.push({ op: 'remove', path: p, ...(last ? { last } : {}) });
    this.removed.add(guestString(p));
    this.entries.push({ path: shown, realPath: guestString(p), what, action: 'remove', ...(detail ? { detail } : {}) });
  }

  private changed(
    path: string,
    what: PlanEntry['what'],
    reason: string,
    fix = `inspect ${path} and remove or restore it by hand`,
  ): void {
    this.warnings.push({ code: 'W_CHANGED_SINCE_STAGED', path, reason, fix });
    this.entries.push({ path, realPath: path, what, action: 'skip', detail: 'changed since staging' });
  }
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
