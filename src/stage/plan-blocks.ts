/**
 * Planning the marked blocks: registry CA certificates appended to the guest bundles that exist,
 * and registry addresses in /etc/hosts. Each file has at most one block; staging again replaces
 * it (or leaves the file alone when nothing changed). Files are handled as latin1 so every byte
 * outside the block survives unchanged.
 */
import type { RegistrySettings } from '../bundle/types.js';
import { hostWithoutPort } from '../reference/index.js';
import type { Change } from '../rootfs/changes.js';
import { guestString } from '../rootfs/guest-path.js';
import type { PlannedTarget, WritePlanner } from '../rootfs/planner.js';
import { CA_BLOCK, HOSTS_BLOCK, splitBlock, withBlock, type BlockKind } from './blocks.js';
import { bundleHas, CA_BUNDLE_FAMILIES, pemBodies, readCaCertificates, type CaCertificate } from './ca.js';
import { FILE_MODE } from './plan-signatures.js';
import { sha256, type RecordedBlock, type StageRecord } from './record.js';
import type { PlanEntry, StageWarning } from './types.js';

export interface BlockPlan {
  entries: PlanEntry[];
  writes: Change[];
  warnings: StageWarning[];
  blocks: RecordedBlock[];
  /** `block:path` keys whose block is gone after this plan. */
  cleared: string[];
}

export async function planCaBundles(
  planner: WritePlanner,
  registries: readonly RegistrySettings[],
  record: StageRecord,
): Promise<BlockPlan> {
  const plan: BlockPlan = { entries: [], writes: [], warnings: [], blocks: [], cleared: [] };
  const certs: CaCertificate[] = [];
  for (const r of [...registries].sort((a, b) => (a.registry < b.registry ? -1 : 1))) {
    if (!r.caPem) continue;
    for (const cert of readCaCertificates(r.registry, r.caPem)) {
      if (cert.isCa && cert.namesRegistry) {
        plan.warnings.push({
          code: 'W_CA_AS_SERVER',
          path: r.caFile,
          reason: `the CA file for ${r.registry} holds a certificate for ${r.registry} itself (${cert.subject}) that has CA:TRUE; used as the registry's server certificate, the guest's rustls refuses it (CaUsedAsEndEntity)`,
          fix: 'issue the registry a server certificate without CA:TRUE (basicConstraints=CA:FALSE) signed by a CA, and give that CA as caFile',
        });
      }
      const same = certs.find((c) => c.der.equals(cert.der));
      if (same) same.registry = `${same.registry}, ${cert.registry}`;
      else certs.push(cert);
    }
  }
  const candidates = CA_BUNDLE_FAMILIES.flatMap((f) => f.paths.map((p) => ({ family: f.family, path: p })));
  const found = new Map<string, { target: PlannedTarget; family: string }>();
  const missing: Array<{ family: string; path: string }> = [];
  for (const c of candidates) {
    const t = await planner.existing(c.path);
    if (t?.node?.type === 'file') {
      if (!found.has(guestString(t.path))) found.set(guestString(t.path), { target: t, family: c.family });
    } else missing.push(c);
  }
  if (certs.length > 0) {
    const presentFamilies = new Set([...found.values()].map((f) => f.family));
    if (presentFamilies.size === 0) {
      plan.warnings.push({
        code: 'W_NO_CA_BUNDLE',
        reason: `none of the known CA bundles exists in this rootfs (${candidates.map((c) => c.path).join(', ')}), so the registry CA certificates were not staged: which distro is this?`,
        fix: "create the guest's CA bundle when building the rootfs, or give the CA to the guest through CDH's extra_root_certificates",
      });
    }
    for (const m of missing.filter((m) => presentFamilies.has(m.family))) {
      plan.warnings.push({
        code: 'W_CA_BUNDLE_MISSING',
        path: m.path,
        reason: `${m.path} does not exist, although other ${m.family} bundles do; the registry CA is not in it`,
        fix: `check the guest's ${m.family} trust store (update-ca-trust extract) when building the rootfs`,
      });
    }
  }
  const lines: (existing: string) => string[] = (existing) => {
    const ders = pemBodies(existing);
    return certs.filter((c) => !bundleHas(ders, c.der)).flatMap((c) => [`# ${c.registry}: ${c.subject}`, c.pem]);
  };
  for (const [real, { target }] of [...found.entries()].sort()) {
    await planBlock(planner, plan, target, 'ca', CA_BLOCK, lines, record, real);
  }
  return plan;
}

export async function planHosts(
  planner: WritePlanner,
  registries: readonly RegistrySettings[],
  record: StageRecord,
): Promise<BlockPlan> {
  const plan: BlockPlan = { entries: [], writes: [], warnings: [], blocks: [], cleared: [] };
  const entries = new Set<string>();
  for (const r of registries) {
    if (!r.address) continue;
    const host = hostWithoutPort(r.registry);
    if (host.startsWith('[') || /^[0-9.]+$/.test(host)) continue; // an IP address needs no name
    entries.add(`${r.address} ${host}`);
  }
  const wanted = [...entries].sort();
  const hadBlock = record.blocks.some((b) => b.block === 'hosts');
  if (wanted.length === 0 && !hadBlock) {
    const t = await planner.existing('/etc/hosts');
    if (!t?.node || !splitBlock((await planner.read(t.path))?.toString('latin1') ?? '', HOSTS_BLOCK).block) return plan;
  }
  const t = wanted.length > 0 ? await planner.target('/etc/hosts') : await planner.existing('/etc/hosts');
  if (!t) return plan;
  await planBlock(planner, plan, t, 'hosts', HOSTS_BLOCK, () => wanted, record, guestString(t.path));
  return plan;
}

async function planBlock(
  planner: WritePlanner,
  plan: BlockPlan,
  target: PlannedTarget,
  block: 'ca' | 'hosts',
  kind: BlockKind,
  lines: (original: string) => string[],
  record: StageRecord,
  real: string,
): Promise<void> {
  const previous = record.blocks.find((b) => b.path === real && b.block === block);
  const current = target.node ? ((await planner.read(target.path))?.toString('latin1') ?? '') : undefined;
  const split = splitBlock(current ?? '', kind, previous?.separator ?? false);
  const next = withBlock(split.original, kind, lines(split.original));
  const what = block === 'ca' ? 'ca-bundle' : 'hosts';
  const via = target.via.length > 0 ? { via: target.via } : {};
  const created = previous?.created ?? current === undefined;
  if (next.content === split.original) plan.cleared.push(`${block}:${real}`);
  else {
    plan.blocks.push({
      path: real,
      block,
      originalSha256: sha256(Buffer.from(split.original, 'latin1')),
      originalSize: Buffer.byteLength(split.original, 'latin1'),
      separator: next.separator,
      created,
      blockSha256: sha256(Buffer.from(splitBlock(next.content, kind, next.separator).block, 'latin1')),
    });
  }
  if (current !== undefined && next.content === current) {
    plan.entries.push({
      path: target.guestPath,
      realPath: real,
      what,
      action: 'skip',
      ...via,
      detail: split.block ? 'block up to date' : 'nothing to add',
    });
    return;
  }
  if (current === undefined && next.content === '') return;
  const mode = target.node?.mode ?? FILE_MODE;
  if (created && next.content === '') {
    plan.writes.push({ op: 'remove', path: target.path });
    plan.entries.push({
      path: target.guestPath,
      realPath: real,
      what,
      action: 'remove',
      ...via,
      detail: 'block removed; the file did not exist before',
    });
    return;
  }
  plan.writes.push({
    op: 'write',
    path: target.path,
    data: Buffer.from(next.content, 'latin1'),
    mode,
    replaces: current !== undefined,
  });
  const action = current === undefined ? 'create' : split.block ? 'replace' : 'append';
  plan.entries.push({
    path: target.guestPath,
    realPath: real,
    what,
    action,
    ...via,
    detail: describe(block, lines(split.original)),
  });
}

function describe(block: 'ca' | 'hosts', lines: readonly string[]): string {
  if (block === 'hosts') return `${lines.length} address line(s) in a marked block`;
  const n = lines.filter((l) => l.startsWith('-----BEGIN')).length;
  return n === 0 ? 'marked block removed' : `${n} certificate(s) in a marked block`;
}
