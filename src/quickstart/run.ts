/**
 * `quickstart` as a library call: the whole flow on the bundled sample, offline and without root —
 * key, signature, bundle.yaml, KBS repository, staged directory rootfs, and the guest check of the
 * signed manifest (allowed) and of a tampered copy (denied). Reports each step through `onStep`.
 */
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { loadBundle } from '../bundle/load.js';
import type { Bundle } from '../bundle/types.js';
import { FindingsError } from '../errors.js';
import { buildRepository } from '../kbs/build.js';
import { parseReference, referenceString } from '../reference/index.js';
import { manifestDigest } from '../signature/digest.js';
import { stageRootfs } from '../stage/stage.js';
import { readFileIfExists, writeFileAtomic } from '../util/atomic.js';
import type { VerifyReport } from '../verify/types.js';
import { verifyImageFiles } from '../verify/verify-files.js';
import { renderQuickstartBundle } from './bundle-file.js';
import { ensureSigningKey } from './key.js';
import { MARKER, QUICKSTART_FILES, SAMPLE, SAMPLE_CA, SAMPLE_MANIFEST } from './layout.js';
import { nextSteps, shellQuote, type NextStep } from './next-steps.js';
import { ensureRootfsSkeleton } from './rootfs-skeleton.js';
import { tamperedManifest } from './sample.js';
import { ensureSampleSignature } from './signature.js';
import { checkTargetDir, type TargetState } from './target-dir.js';

export type QuickstartStepId =
  'directory' | 'key' | 'sign' | 'bundle' | 'build' | 'rootfs' | 'stage' | 'verify-signed' | 'verify-tampered';

export interface QuickstartStep {
  id: QuickstartStepId;
  /** One line saying what was done. */
  summary: string;
  /** Files and directories this step wrote or read, as paths under the quickstart directory. */
  paths: string[];
  /** Further facts (fingerprints, digests, staged paths, the verifier's reasons). */
  details: string[];
}

export interface QuickstartOptions {
  /** Default `./kbs-bundler-quickstart` (DEFAULT_QUICKSTART_DIR), resolved by the caller. */
  dir: string;
  force?: boolean;
  onStep?: (step: QuickstartStep) => void;
}

export interface QuickstartResult {
  dir: string;
  target: TargetState;
  image: string;
  digest: string;
  tamperedDigest: string;
  fingerprint: string;
  steps: QuickstartStep[];
  signed: VerifyReport;
  tampered: VerifyReport;
  /** The signed manifest was allowed and the tampered one denied, as the guest would. */
  storyHeld: boolean;
  nextSteps: NextStep[];
  /** The verify command a user can run to see the tampered copy denied on both sides. */
  verifyCommand: string;
}

/** The quickstart directory and the step log every step writes to. */
interface Run {
  dir: string;
  at: (name: string) => string;
  report: (step: QuickstartStep) => void;
}

export async function runQuickstart(options: QuickstartOptions): Promise<QuickstartResult> {
  const dir = options.dir;
  const target = await checkTargetDir(dir, Boolean(options.force));
  const steps: QuickstartStep[] = [];
  const run: Run = {
    dir,
    at: (name) => path.join(dir, name),
    report: (step) => {
      steps.push(step);
      options.onStep?.(step);
    },
  };

  await prepareDirectory(run, target);
  const signed = await keyAndSignature(run);
  const bundle = await writeBundle(run);
  const kbsDir = await buildKbs(run, bundle);
  const rootfsDir = await stageSkeletonRootfs(run, bundle);
  const checks = await guestChecks(run, kbsDir, rootfsDir, signed.digest);
  return {
    dir,
    target,
    image: SAMPLE.image,
    digest: signed.digest,
    tamperedDigest: checks.tampered.digest,
    fingerprint: signed.fingerprint,
    steps,
    signed: checks.signed,
    tampered: checks.tampered,
    storyHeld: checks.signed.allowed && !checks.tampered.allowed,
    nextSteps: nextSteps(dir),
    verifyCommand: verifyCommand(kbsDir, rootfsDir, run.at(QUICKSTART_FILES.tampered)),
  };
}

async function prepareDirectory(run: Run, target: TargetState): Promise<void> {
  await fs.mkdir(run.dir, { recursive: true, mode: 0o755 });
  await writeFileAtomic(run.at(QUICKSTART_FILES.marker), `${JSON.stringify(MARKER)}\n`);
  run.report({
    id: 'directory',
    summary:
      target === 'previous'
        ? `Re-using the earlier quickstart output in ${run.dir}`
        : target === 'forced'
          ? `Writing into the non-empty directory ${run.dir} (--force)`
          : `Writing the quickstart into ${run.dir}`,
    paths: [run.dir],
    details: [],
  });
}

/** The signing key, the sample manifest and its tampered copy, and the signature of the manifest. */
async function keyAndSignature(run: Run): Promise<{ digest: string; fingerprint: string }> {
  const key = await ensureSigningKey(run.dir);
  run.report({
    id: 'key',
    summary: key.generated
      ? 'Generated an RSA 3072 signing key (EXAMPLE ONLY: its secret key has no passphrase)'
      : 'Re-used the quickstart signing key from the earlier run',
    paths: [key.publicFile, key.secretFile],
    details: [
      `fingerprint ${key.fingerprint}`,
      `${QUICKSTART_FILES.secretKey}: mode 0600, no passphrase, for this rehearsal only`,
    ],
  });

  const manifest = new Uint8Array(await fs.readFile(SAMPLE_MANIFEST));
  const manifestFile = run.at(QUICKSTART_FILES.manifest);
  await writeFileAtomic(manifestFile, manifest);
  await writeFileAtomic(run.at(QUICKSTART_FILES.tampered), tamperedManifest(manifest, SAMPLE_MANIFEST));
  const digest = manifestDigest(manifest, { file: SAMPLE_MANIFEST });
  const ref = parseReference(SAMPLE.image);
  const identity = referenceString(ref);
  const signature = await ensureSampleSignature({
    storeDir: run.at(QUICKSTART_FILES.store),
    key: key.key,
    repositoryPath: ref.repository,
    identity,
    digest,
  });
  run.report({
    id: 'sign',
    summary: signature.reused
      ? `Kept the earlier signature of the sample manifest for ${identity} (it still verifies with the key)`
      : `Signed the sample manifest for ${identity} (simple signing, as skopeo copy --sign-by)`,
    paths: [manifestFile, signature.path],
    details: [`manifest digest ${digest}`],
  });
  return { digest, fingerprint: key.fingerprint };
}

/** bundle.yaml with its registry password (generated once, 0600) and CA, loaded as build will read it. */
async function writeBundle(run: Run): Promise<Bundle> {
  const passwordFile = run.at(QUICKSTART_FILES.password);
  if (!(await readFileIfExists(passwordFile)))
    await writeFileAtomic(passwordFile, `${randomBytes(18).toString('base64url')}\n`, 0o600);
  await fs.chmod(passwordFile, 0o600);
  await writeFileAtomic(run.at(QUICKSTART_FILES.ca), new Uint8Array(await fs.readFile(SAMPLE_CA)));
  const bundleFile = run.at(QUICKSTART_FILES.bundle);
  await writeFileAtomic(bundleFile, await renderQuickstartBundle());
  const bundle = await loadBundle(bundleFile);
  run.report({
    id: 'bundle',
    summary: `Wrote bundle.yaml: ${SAMPLE.registry} must be signedBy the quickstart key, signatures in ${SAMPLE.guestStore}`,
    paths: [bundleFile, passwordFile, run.at(QUICKSTART_FILES.ca)],
    details: [
      `registry user ${SAMPLE.username}, password in ${QUICKSTART_FILES.password} (mode 0600, generated)`,
      `guest /etc/hosts entry ${SAMPLE.address}`,
    ],
  });
  return bundle;
}

async function buildKbs(run: Run, bundle: Bundle): Promise<string> {
  const kbsDir = run.at(QUICKSTART_FILES.kbs);
  const built = await buildRepository({ bundle, outDir: kbsDir, layout: 'nested' });
  run.report({
    id: 'build',
    summary: `Built the KBS repository (nested layout, as trustee <= v0.18 and the openEuler guide use it)`,
    paths: [kbsDir],
    details: [
      ...built.resources.map((r) => `kbs:///${r.resource} (${r.size} bytes, mode ${r.mode})`),
      ...built.warnings.map((w) => `warning: ${w}`),
    ],
  });
  return kbsDir;
}

/** A minimal guest rootfs directory, and the bundle staged into it. */
async function stageSkeletonRootfs(run: Run, bundle: Bundle): Promise<string> {
  const rootfsDir = run.at(QUICKSTART_FILES.rootfs);
  const created = await ensureRootfsSkeleton(rootfsDir);
  run.report({
    id: 'rootfs',
    summary:
      created.length > 0
        ? 'Made a minimal guest rootfs directory (stands in for kata-containers.img)'
        : 'Re-used the guest rootfs directory',
    paths: [rootfsDir],
    details: created.map((p) => `created ${p}`),
  });

  const staged = await stageRootfs({ rootfs: rootfsDir, input: bundle, signatureStores: bundle.signatureSources });
  if (staged.blocked) {
    throw new FindingsError(
      'E_QUICKSTART_STAGE',
      `stage stopped by warnings: ${staged.plan.warnings.map((w) => w.reason).join('; ')}`,
    );
  }
  const c = staged.plan.counts;
  run.report({
    id: 'stage',
    summary: `Staged into the rootfs: ${c.create} created, ${c.append} appended to, ${c.replace} replaced, ${c.skip} unchanged`,
    paths: [rootfsDir],
    details: staged.plan.entries.filter((e) => e.what !== 'directory').map((e) => `${e.action} ${e.path} (${e.what})`),
  });
  return rootfsDir;
}

/** The guest's decision on the signed manifest and on the tampered copy. */
async function guestChecks(
  run: Run,
  kbsDir: string,
  rootfsDir: string,
  digest: string,
): Promise<{ signed: VerifyReport; tampered: VerifyReport }> {
  const guestCheck = (file: string) =>
    verifyImageFiles({ image: SAMPLE.image, mode: 'image-rs', manifest: { file }, kbs: kbsDir, rootfs: rootfsDir });
  const manifestFile = run.at(QUICKSTART_FILES.manifest);
  const signed = await guestCheck(manifestFile);
  run.report({
    id: 'verify-signed',
    summary: `Guest check of the signed manifest: ${signed.allowed ? 'ALLOWED' : 'DENIED'}`,
    paths: [manifestFile],
    details: reasons(signed),
  });
  const tamperedFile = run.at(QUICKSTART_FILES.tampered);
  const tampered = await guestCheck(tamperedFile);
  run.report({
    id: 'verify-tampered',
    summary: `Guest check of the tampered copy: ${tampered.allowed ? 'ALLOWED' : 'DENIED'}`,
    paths: [tamperedFile],
    details: [
      `the copy swaps the first layer for one the signer never saw, so its digest is not the signed ${digest}`,
      ...reasons(tampered),
    ],
  });
  return { signed, tampered };
}

/** The verify command a user can run to see the tampered copy denied on both sides. */
function verifyCommand(kbsDir: string, rootfsDir: string, tamperedFile: string): string {
  return ['kbs-bundler', 'verify', SAMPLE.image, '--kbs', kbsDir, '--rootfs', rootfsDir]
    .concat(['--manifest', tamperedFile, '--mode', 'both'])
    .map(shellQuote)
    .join(' ');
}

/** The guest's message and the chain behind it, or which signature it accepted. */
function reasons(r: VerifyReport): string[] {
  const d = r.decisions[0];
  if (!d) return [];
  const out = [`digest ${r.digest}`, ...(d.scope ? [`scope ${d.scope}`] : [])];
  if (d.allowed) {
    for (const o of d.outcomes)
      for (const s of o.signatures)
        if (s.accepted) out.push(`accepted ${s.source}${s.signer ? ` (signed by ${s.signer})` : ''}`);
  } else {
    out.push(`message: ${d.message}`, ...d.chain.slice(1).map((c) => `caused by: ${c}`));
  }
  return out;
}
