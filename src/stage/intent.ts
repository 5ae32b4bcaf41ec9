/**
 * Stage's intent: before its first change to a rootfs changed in place (a directory, a loop mount
 * of the image), stage writes the record it will end with, marked `pending`, so that a run killed
 * at any instant leaves a rootfs whose record lists everything that may have been changed. unstage
 * then undoes what was made, and stage run again finishes the job (leftovers.ts); the record
 * without the mark is written last.
 */
import type { Change } from '../rootfs/changes.js';
import { serializeRecord, type StageRecord } from './record.js';

/** `changes` with the intent written first; unchanged when the plan writes no record. */
export function withIntent(changes: readonly Change[], record: StageRecord): Change[] {
  const final = changes.find((c) => c.op === 'write' && c.last);
  if (final?.op !== 'write') return [...changes];
  const intent: Change = {
    ...final,
    data: serializeRecord({ ...record, pending: true }),
    atomic: true,
    first: true,
    last: false,
  };
  return [intent, ...changes.map((c) => (c === final ? { ...final, replaces: true } : c))];
}
