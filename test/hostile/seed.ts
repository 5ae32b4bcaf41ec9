/**
 * The seed of a hostile-input run: HOSTILE_SEED when set (to replay a failure), else a fresh one. Every
 * failure message of the run carries it, so a failing case can be made again exactly.
 */
import { Rng } from '../differential/rng.js';

export const SEED = process.env.HOSTILE_SEED ? Number(process.env.HOSTILE_SEED) >>> 0 : (Date.now() * 2654435761) >>> 0;

/** A generator for one theme of the run, independent of the others' draws. */
export function themeRng(theme: string): Rng {
  let h = SEED;
  for (const c of theme) h = Math.imul(h ^ c.charCodeAt(0), 16777619) >>> 0;
  return new Rng(h);
}

/** `msg` with the seed that replays it. */
export function seeded(msg: string): string {
  return `${msg} (replay with HOSTILE_SEED=${SEED})`;
}
