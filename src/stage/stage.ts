/**
 * `stage`: put a bundle's signatures, keyrings, registry CAs and /etc/hosts entries into a guest
 * rootfs (directory, ext4 disk image, initrd) or into an overlay tarball. Plans first, read-only;
 * refuses on warnings unless forced; then applies all or nothing (see rootfs/target.ts for how
 * each kind of rootfs is kept intact when something fails).
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import * as path from 'node:path';
import { withSignalGuard } from '../rootfs/interrupt.js';
import { openRootfsTarget, type TargetKind } from '../rootfs/target.js';
import type { VerityResult } from '../rootfs/verity.js';
import { readSignatureStore, type StoredSignature } from '../store/read-store.js';
import { WritePlanner } from '../rootfs/planner.js';
import { withIntent } from './intent.js';
import { findLeftovers, withoutLeftovers } from './leftovers.js';
import { planStage, readRecord } from './plan.js';
import type { StageInput, StagePlan, StageWarning } from './types.js';

export interface StageOptions {
  rootfs: string;
  input: StageInput;
  /** Signature stores to copy from (lookaside dirs, signatures.tar, dir: layouts). */
  signatureStores: readonly string[];
  dryRun?: boolean;
  force?: boolean;
  tar?: string;
  noMount?: boolean;
  reverity?: boolean;
  /** Allow erofs images: extract, stage, make a new erofs. */
  rebuild?: boolean;
  onProgress?: (done: number, total: number) => void;
}

export interface StageResult {
  rootfs: string;
  kind: TargetKind;
  method: string;
  plan: StagePlan;
  dryRun: boolean;
  /** Whether the changes were made (false for dry runs, no-op runs and runs stopped by warnings). */
  applied: boolean;
  /** Warnings stopped the run (exit 1); nothing was changed. */
  blocked: boolean;
  verity?: VerityResult;
  fsck?: string;
  notes: string[];
}

export async function readSignatures(stores: readonly string[]): Promise<StoredSignature[]> {
  const out: StoredSignature[] = [];
  for (const s of stores) out.push(...(await readSignatureStore(s)));
  return out;
}

export async function stageRootfs(options: StageOptions): Promise<StageResult> {
  return withSignalGuard(async (guard) => {
    // Opening a disk image runs e2fsck and mounts it (child processes): that overlaps with reading
    // the stores. A store error still wins over a rootfs error, as when they ran one after the other.
    const opening = openRootfsTarget(options.rootfs, {
      ...(options.noMount ? { noMount: true } : {}),
      ...(options.reverity ? { reverity: true } : {}),
      ...(options.rebuild ? { rebuild: true } : {}),
      ...(options.tar !== undefined ? { tar: options.tar } : {}),
      ...(options.dryRun ? { dryRun: true } : {}),
    });
    opening.catch(() => undefined); // handled below; never an unhandled rejection meanwhile
    let signatures: StoredSignature[];
    try {
      signatures = await readSignatures(options.signatureStores);
    } catch (e) {
      const opened = await opening.catch(() => undefined);
      await opened?.close();
      throw e;
    }
    const target = await opening;
    try {
      const initrdOriginal = target.initrd
        ? { size: target.initrd.size, sha256: await fileSha256(target.layout.path) }
        : undefined;
      const existing = await readRecord(new WritePlanner(target.view));
      const leftovers = await findLeftovers(target.view, existing.exists ? existing.record : undefined);
      const plan = await planStage(withoutLeftovers(target.view, leftovers), options.input, signatures, {
        check: () => guard.check(),
        leftovers,
        ...(initrdOriginal ? { initrdOriginal } : {}),
        ...(options.onProgress ? { onProgress: options.onProgress } : {}),
      });
      const unstaged = zeroSignaturesWarning(options.signatureStores, signatures.length, plan);
      if (unstaged) plan.warnings.push(unstaged);
      // The plan holds what it needs (the bytes, the sources): the store's list can go before writing.
      signatures = [];
      const notes: string[] = [];
      if (target.kind === 'erofs-image' && !options.rebuild && options.tar === undefined && plan.changes.length > 0) {
        notes.push(
          'this is an erofs image: applying this plan needs --rebuild (the filesystem is extracted and made anew)',
        );
      }
      if (target.verity && !options.reverity && options.tar === undefined && plan.changes.length > 0) {
        notes.push(
          'this is a dm-verity measured image: applying this plan needs --reverity (the hash tree is re-made, kernel_verity_params and the TEE measurement change)',
        );
      }
      const result: StageResult = {
        rootfs: options.rootfs,
        kind: target.kind,
        method: target.method,
        plan,
        dryRun: Boolean(options.dryRun),
        applied: false,
        blocked: false,
        notes,
      };
      if (options.dryRun) return result;
      if (plan.warnings.length > 0 && !options.force) return { ...result, blocked: true };
      if (plan.changes.length === 0 && options.tar === undefined) return result;
      const changes = target.inPlace ? withIntent(plan.changes, plan.record) : plan.changes;
      const report = await target.apply(changes, {
        guard,
        ...(options.onProgress ? { onProgress: options.onProgress } : {}),
      });
      return {
        ...result,
        applied: true,
        ...(report.verity ? { verity: report.verity } : {}),
        ...(report.fsck ? { fsck: report.fsck } : {}),
      };
    } finally {
      await target.close();
    }
  });
}

/**
 * Stores were named but the guest would hold no signature from them: an empty store, an unrelated
 * directory, or one image's `repo@sha256=…` directory given as the store, which a lookaside store
 * never holds at its top.
 */
function zeroSignaturesWarning(stores: readonly string[], read: number, plan: StagePlan): StageWarning | undefined {
  if (stores.length === 0 || plan.entries.some((e) => e.what === 'signature')) return undefined;
  const perImage = stores.filter((s) => path.basename(s).includes('@sha256='));
  const found =
    read === 0
      ? 'no signature was found there'
      : `${read} signature(s) were found there, none of them would be copied (see "Not copied")`;
  return {
    code: 'W_NO_SIGNATURES',
    path: stores.join(', '),
    reason: `no signature would be staged from ${stores.join(', ')}: ${found}${perImage.length > 0 ? `; ${perImage.join(', ')} is one image's signature directory, not a store` : ''}`,
    fix: 'give the store itself (the directory that holds <repository>@sha256=<digest>/signature-N, a signatures.tar, or a dir: layout), or pass --force to stage without signatures',
  };
}

async function fileSha256(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}
