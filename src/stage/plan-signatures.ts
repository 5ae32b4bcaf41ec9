/**
 * Planning the signature files: decide each stored signature (signatures.ts), group them by
 * guest directory, and give each new blob the first free `signature-N` there (a blob already in
 * the directory, under any name, is skipped), as `podman image sign` appends.
 */
import type { Change } from '../rootfs/changes.js';
import { guestString } from '../rootfs/guest-path.js';
import type { WritePlanner } from '../rootfs/planner.js';
import type { StoredSignature } from '../store/read-store.js';
import { decideSignature, trustedKeys, type SignatureContext } from './signatures.js';
import type { PlanEntry, SkippedSignature, StageWarning } from './types.js';
import { sha256 } from './record.js';

export const FILE_MODE = 0o644;
const PARALLEL = 16;

export interface SignaturePlan {
  entries: PlanEntry[];
  writes: Change[];
  /** For writes[i]: its real guest path and the sha256 of its bytes (the record needs both). */
  realPaths: string[];
  hashes: string[];
  skipped: SkippedSignature[];
  warnings: StageWarning[];
}

export async function planSignatures(
  planner: WritePlanner,
  signatures: readonly StoredSignature[],
  ctx: SignatureContext,
  options: { check?: () => void; onProgress?: (done: number, total: number) => void } = {},
): Promise<SignaturePlan> {
  const skipped: SkippedSignature[] = [];
  const untrusted = new Map<string, { count: number; example: string }>();
  /** Guest directory → the store indexes of the signatures that go there (one, nearly always). */
  const byDir = new Map<string, number | number[]>();
  let decided = 0;
  const keys = await trustedKeys(ctx.keyrings);
  for (let i = 0; i < signatures.length; i++) {
    if (decided % 256 === 0) {
      await new Promise<void>((resolve) => setImmediate(resolve));
      options.check?.();
    }
    const sig = signatures[i] as StoredSignature;
    const d = decideSignature(sig, ctx, keys);
    if (!d.stage)
      skipped.push({ source: sig.source, ...(d.image ? { image: d.image } : {}), code: d.code, reason: d.reason });
    else {
      const had = byDir.get(d.guestDir);
      if (had === undefined) byDir.set(d.guestDir, i);
      else if (typeof had === 'number') byDir.set(d.guestDir, [had, i]);
      else had.push(i);
      if (d.untrusted) {
        const u = untrusted.get(d.untrusted) ?? { count: 0, example: d.image };
        u.count++;
        untrusted.set(d.untrusted, u);
      }
    }
    ++decided;
    if (decided % 256 === 0 || decided === signatures.length) options.onProgress?.(decided, signatures.length * 2);
  }

  const dirs = [...byDir.keys()].sort();
  await planner.view.prefetch?.(ancestorsOf(dirs));
  const entries: PlanEntry[] = [];
  const writes: Change[] = [];
  const realPaths: string[] = [];
  const hashes: string[] = [];
  let placed = 0;
  const place = (
    guestDir: string,
    dir: readonly string[],
    names: Set<string>,
    present: ReadonlyMap<string, string>,
  ) => {
    const at = byDir.get(guestDir) as number | number[];
    const realDir = dir.length === 0 ? '' : guestString(dir); // guestString([]) is '/'
    let next = 1;
    for (const [hash, sig] of uniqueBlobs(signatures, at)) {
      const existing = present.get(hash);
      if (existing !== undefined) {
        entries.push({
          path: `${guestDir}/${existing}`,
          realPath: `${realDir}/${existing}`,
          what: 'signature',
          action: 'skip',
          detail: `already there (${sig.source})`,
        });
        continue;
      }
      while (names.has(signatureName(next))) next++;
      const name = signatureName(next);
      names.add(name);
      const path = `${guestDir}/${name}`;
      // the same string when nothing in the rootfs redirects the directory (the usual case)
      const real = realDir === guestDir ? path : `${realDir}/${name}`;
      writes.push({ op: 'write', path: [...dir, name], data: sig.bytes, mode: FILE_MODE, replaces: false });
      realPaths.push(real);
      hashes.push(hash);
      entries.push({ path, realPath: real, what: 'signature', action: 'create', detail: sig.source });
    }
    placed += typeof at === 'number' ? 1 : at.length;
    options.onProgress?.(signatures.length + placed, signatures.length * 2);
  };
  const nothing = new Map<string, string>();
  // Parents first, so that siblings planned in new directories need no promise each.
  await planner.prepareParents(dirs);
  await pool(dirs, (guestDir) => {
    options.check?.();
    // A directory this run creates is empty: nothing to list, nothing to compare with, no promise.
    const planned = planner.plannedDirectorySync(guestDir);
    if (planned) return place(guestDir, planned, new Set(), nothing);
    return (async () => {
      const dir = await planner.directory(guestDir);
      const names = new Set(await planner.list(dir));
      const present = new Map<string, string>();
      for (const name of names) {
        const bytes = await planner.read([...dir, name]);
        if (bytes) present.set(sha256(bytes), name);
      }
      place(guestDir, dir, names, present);
    })();
  });
  entries.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));

  const warnings: StageWarning[] = [...untrusted.entries()].map(([reason, u]) => ({
    code: 'W_UNTRUSTED_KEY',
    reason: `${u.count} signature${u.count === 1 ? '' : 's'} (e.g. for ${u.example}): ${reason}; the guest will reject ${u.count === 1 ? 'it' : 'them'}`,
    fix: 'sign with a key the policy lists for that scope (or add the key to the signedBy rule in bundle.yaml)',
    count: u.count,
  }));
  return { entries, writes, realPaths, hashes, skipped, warnings };
}

/**
 * The distinct blobs of one guest directory with their sha256, ordered by file name: of equal
 * blobs the one read last is kept, in the place the first one took (as a Map keyed by hash keeps
 * it), then a stable sort by name.
 */
function uniqueBlobs(signatures: readonly StoredSignature[], at: number | number[]): Array<[string, StoredSignature]> {
  if (typeof at === 'number') {
    const sig = signatures[at] as StoredSignature;
    return [[sha256(sig.bytes), sig]];
  }
  const blobs = new Map<string, StoredSignature>();
  for (const i of at) {
    const sig = signatures[i] as StoredSignature;
    blobs.set(sha256(sig.bytes), sig);
  }
  return [...blobs.entries()].sort((a, b) => compareNames(a[1].name, b[1].name));
}

const signatureNames: string[] = [];
/** `signature-N`, one string per N however many directories use it. */
function signatureName(n: number): string {
  return (signatureNames[n] ??= `signature-${n}`);
}

/** signature-2 before signature-10. */
function compareNames(a: string, b: string): number {
  return a.localeCompare(b, 'en', { numeric: true });
}

/** Every literal ancestor directory of the given guest paths (for batched lookups). */
export function ancestorsOf(guestDirs: readonly string[]): string[] {
  const out = new Set<string>(['/']);
  for (const d of guestDirs) {
    const parts = d.split('/').filter((p) => p !== '');
    for (let i = 1; i <= parts.length; i++) out.add(`/${parts.slice(0, i).join('/')}`);
  }
  return [...out];
}

/** Runs `fn` over `items`, `parallel` at a time; an item done without a promise costs no await. */
export async function pool<T>(
  items: readonly T[],
  fn: (item: T) => Promise<void> | void,
  parallel = PARALLEL,
): Promise<void> {
  let next = 0;
  let failure: unknown;
  const worker = async () => {
    while (failure === undefined && next < items.length) {
      const item = items[next++] as T;
      try {
        const pending = fn(item);
        if (pending) await pending;
      } catch (e) {
        failure ??= e;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(parallel, items.length) }, worker));
  // Rethrown as caught, Error or not (the check above narrowed its type to `{}`).
  if (failure !== undefined) throw failure as unknown;
}
