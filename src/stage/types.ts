/** What stage and unstage plan, report and warn about. */
import type { GuestKeyFile, KeyringEntry, RegistrySettings } from '../bundle/types.js';
import type { Policy } from '../policy/schema.js';
import type { Change } from '../rootfs/changes.js';
import type { SigstoreConfig } from '../lookaside/schema.js';
import type { StageRecord } from './record.js';

/** The parts of a loaded bundle staging uses (see bundle/types.ts). */
export interface StageInput {
  policy: Policy;
  sigstoreConfig: SigstoreConfig;
  registries: readonly RegistrySettings[];
  guestKeyFiles: readonly GuestKeyFile[];
  keyrings: readonly KeyringEntry[];
}

export type PlanAction = 'create' | 'append' | 'replace' | 'skip' | 'remove' | 'restore';
export type PlanWhat = 'signature' | 'keyring' | 'ca-bundle' | 'hosts' | 'record' | 'directory' | 'initrd';

export interface PlanEntry {
  /** The guest path as asked for (e.g. a bundle path that is a symlink in this rootfs). */
  path: string;
  /** Where it lands in the rootfs. */
  realPath: string;
  what: PlanWhat;
  action: PlanAction;
  /** Symlinks followed on the way. */
  via?: string[];
  detail?: string;
}

export interface StageWarning {
  code:
    | 'W_RUN'
    | 'W_CA_AS_SERVER'
    | 'W_NO_CA_BUNDLE'
    | 'W_CA_BUNDLE_MISSING'
    | 'W_UNTRUSTED_KEY'
    | 'W_CHANGED_SINCE_STAGED'
    | 'W_NO_SIGNATURES';
  path?: string;
  reason: string;
  fix: string;
  /** How many items share this warning (aggregated signatures). */
  count?: number;
}

/** A signature that was not copied, and why. */
export interface SkippedSignature {
  source: string;
  image?: string;
  code: string;
  reason: string;
}

export interface StagePlan {
  entries: PlanEntry[];
  changes: Change[];
  warnings: StageWarning[];
  skippedSignatures: SkippedSignature[];
  record: StageRecord;
  counts: Record<PlanAction, number>;
}

export function countActions(entries: readonly PlanEntry[]): Record<PlanAction, number> {
  const counts: Record<PlanAction, number> = { create: 0, append: 0, replace: 0, skip: 0, remove: 0, restore: 0 };
  for (const e of entries) if (e.what !== 'directory') counts[e.action]++;
  return counts;
}
