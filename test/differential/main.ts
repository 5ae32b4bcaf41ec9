/**
 * `npm run differential -- --oracle PATH [--cases N] [--seed S] [--jobs J] [--guest-release V] [--keep DIR]`
 *
 * Generates N cases from seed S, judges each with kbs-bundler's guest verifier and with the image-rs
 * oracle (a build of image-rs's own signature code, given as PATH; `.ci/run` builds it), and prints every disagreement,
 * minimised, with the seed.
 * Exit 0 when every decided case agrees, 1 on any disagreement, 2 on bad usage or an oracle that
 * cannot run. Cases the oracle cannot decide (exit 2) are counted and left out.
 *
 * The oracle runs image-rs's signature code of guest-components v0.19.0 (its upstream commit, the
 * last before rPGP, changed nothing there since that tag), so the verifier is asked to follow that
 * release unless --guest-release says otherwise.
 */
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { formatGuestRelease, parseGuestRelease, type GuestRelease } from '../../src/releases/guest-components.js';
import { describeCase } from './describe.js';
import { generateCase, type Case } from './generate.js';
import { judgeOracle, judgeOurs, writeCase, type Verdict } from './judge.js';
import { makeRunKeys } from './keys.js';
import { caseRng } from './rng.js';
import { minimise } from './shrink.js';

interface Options {
  oracle: string;
  cases: number;
  seed: number;
  jobs: number;
  guestRelease: GuestRelease;
  keep?: string;
}

const USAGE =
  'usage: npm run differential -- --oracle PATH [--cases N] [--seed S] [--jobs J] [--guest-release V] [--keep DIR]';

function parseArgs(argv: string[]): Options {
  const opts: Partial<Options> = { cases: 1000, jobs: 2, guestRelease: parseGuestRelease('v0.19.0') };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = argv[i + 1];
    if (value === undefined) throw new Error(`${flag} needs a value`);
    i++;
    const int = () => {
      if (!/^\d+$/.test(value)) throw new Error(`${flag}: not a number: ${value}`);
      return Number(value);
    };
    if (flag === '--oracle') opts.oracle = value;
    else if (flag === '--cases') opts.cases = int();
    else if (flag === '--seed') opts.seed = int() >>> 0;
    else if (flag === '--jobs') opts.jobs = Math.max(1, int());
    else if (flag === '--guest-release') opts.guestRelease = parseGuestRelease(value);
    else if (flag === '--keep') opts.keep = value;
    else throw new Error(`unknown option ${flag}`);
  }
  if (!opts.oracle) throw new Error('--oracle PATH is required');
  opts.seed ??= Math.floor(Math.random() * 2 ** 32) >>> 0;
  return opts as Options;
}

interface Outcome {
  index: number;
  ours: Verdict;
  oracle?: Verdict;
  undecided?: string;
}

async function judgeBoth(o: Options, c: Case, dir: string): Promise<Outcome & { index: -1 }> {
  await writeCase(c, dir);
  const [ours, oracle] = await Promise.all([judgeOurs(c, dir, o.guestRelease), judgeOracle(o.oracle, c, dir)]);
  return {
    index: -1,
    ours,
    ...(oracle.verdict ? { oracle: oracle.verdict } : {}),
    ...(oracle.undecided ? { undecided: oracle.undecided } : {}),
  };
}

/** The oracle's deny text without the case's own names and numbers, to count the kinds of decisions. */
function reasonClass(text: string): string {
  return text
    .replace(/Reject reason: \[.*$/, 'Reject reason: […]')
    .replace(/"[^"]*"|\/[^ ,]*|sha256:[0-9a-f]+|\d+/g, '…')
    .slice(0, 110);
}

async function main(): Promise<number> {
  let o: Options;
  try {
    o = parseArgs(process.argv.slice(2));
    await fs.access(o.oracle);
  } catch (e) {
    console.error(`differential: ${(e as Error).message}\n${USAGE}`);
    return 2;
  }
  console.log(
    `differential: seed ${o.seed}, ${o.cases} cases, guest release ${formatGuestRelease(o.guestRelease)}, oracle ${o.oracle}`,
  );
  const work = await fs.mkdtemp(path.join(os.tmpdir(), 'kbsb-differential-'));
  const { keys, cleanup } = await makeRunKeys();
  const started = Date.now();
  try {
    const outcomes: Outcome[] = [];
    const cases = new Map<number, Case>();
    let next = 0;
    const worker = async (w: number) => {
      const dir = path.join(work, `job-${w}`);
      for (let index = next++; index < o.cases; index = next++) {
        const c = await generateCase(caseRng(o.seed, index), keys);
        const r = await judgeBoth(o, c, dir);
        if (r.oracle && r.oracle.allowed !== r.ours.allowed) cases.set(index, c);
        outcomes.push({ ...r, index });
      }
    };
    await Promise.all(Array.from({ length: o.jobs }, (_, w) => worker(w)));
    outcomes.sort((a, b) => a.index - b.index);

    const decided = outcomes.filter((r) => r.oracle);
    const disagreements = decided.filter((r) => r.oracle!.allowed !== r.ours.allowed);
    const undecided = outcomes.filter((r) => r.undecided);
    const allowed = decided.filter((r) => r.oracle!.allowed).length;
    console.log(
      `differential: seed ${o.seed}: ${decided.length - disagreements.length} of ${decided.length} decided cases agree ` +
        `(${allowed} allowed, ${decided.length - allowed} denied by the oracle); ${undecided.length} left out (oracle cannot decide); ` +
        `${((Date.now() - started) / 1000).toFixed(0)} s`,
    );
    const byReason = new Map<string, number>();
    for (const r of decided) {
      const reason = r.oracle!.allowed ? 'allow' : reasonClass(r.oracle!.text);
      byReason.set(reason, (byReason.get(reason) ?? 0) + 1);
    }
    for (const [reason, count] of [...byReason].sort((a, b) => b[1] - a[1])) console.log(`  ${count}\t${reason}`);
    for (const reason of new Set(undecided.map((u) => u.undecided!.replace(/:.*/, '')))) {
      console.log(`  left out: ${reason} (${undecided.filter((u) => u.undecided!.startsWith(reason)).length})`);
    }
    let n = 0;
    for (const d of disagreements) {
      const original = cases.get(d.index)!;
      const dir = path.join(work, `shrink-${d.index}`);
      const wantOracle = d.oracle!.allowed;
      const small = await minimise(original, async (candidate) => {
        const r = await judgeBoth(o, candidate, dir);
        return r.oracle !== undefined && r.oracle.allowed === wantOracle && r.ours.allowed !== wantOracle;
      });
      const final = await judgeBoth(o, small, dir);
      n++;
      console.log(`\n=== disagreement ${n} of ${disagreements.length}: seed ${o.seed}, case ${d.index} (minimised)`);
      console.log(describeCase(small));
      console.log(
        `oracle (image-rs):      ${final.oracle?.allowed ? 'ALLOW' : 'DENY'}  ${final.oracle?.text ?? final.undecided}`,
      );
      console.log(`kbs-bundler (image-rs): ${final.ours.allowed ? 'ALLOW' : 'DENY'}  ${final.ours.text}`);
      if (o.keep) {
        const kept = path.join(o.keep, `seed-${o.seed}-case-${d.index}`);
        await writeCase(small, kept);
        console.log(`case files: ${kept}`);
      }
      await fs.rm(dir, { recursive: true, force: true });
    }
    if (disagreements.length) console.log(`\ndifferential: ${disagreements.length} disagreement(s), seed ${o.seed}`);
    return disagreements.length ? 1 : 0;
  } finally {
    cleanup();
    await fs.rm(work, { recursive: true, force: true });
  }
}

process.exitCode = await main();
