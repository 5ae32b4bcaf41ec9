/**
 * Bad inputs across every command: each gives its exit code (2: bad input) and ONE line on stderr naming
 * the file or option at fault, no stack trace, no internal error, no secret; stdout is nothing or the
 * --json error document; and no file of the workspace is written or changed.
 */
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  fileCases,
  optionCases,
  writeBadFiles,
  writeBundleVariants,
  writePolicyVariants,
  type BadCase,
} from './bad-input-cases.js';
import { seeded, themeRng } from './seed.js';
import {
  inPool,
  leakedSecrets,
  makeWorkspace,
  runCapped,
  snapshotDiff,
  snapshotTree,
  type CappedResult,
  type Workspace,
} from './workspace.js';

/** Commands at once: enough to keep two cores busy while each waits on node's start-up. */
const POOL = 3;

let ws: Workspace;
let baseline: Map<string, string>;
let contentCases: BadCase[];

beforeAll(async () => {
  ws = await makeWorkspace('kbsb-bad-');
  await writeBadFiles(ws.dir, themeRng('bad-inputs'));
  contentCases = [...(await writeBundleVariants(ws.dir)), ...(await writePolicyVariants(ws.dir))];
  baseline = await snapshotTree(ws.dir);
}, 60_000);

afterAll(async () => {
  await ws?.cleanup();
});

/** What is wrong with one case's result, or nothing. */
function problems(c: BadCase, r: CappedResult): string[] {
  const out: string[] = [];
  if (r.stopped)
    return [`stopped: ${r.stopped === 'timeout' ? 'still running after 20 s' : `memory over ${r.peakRssMiB} MiB`}`];
  const expected = c.code ?? 2;
  if (r.code !== expected) out.push(`exit ${r.code}, expected ${expected}`);
  if (/internal error/i.test(r.stderr + r.stdout)) out.push('an internal error');
  if (/^\s+at .+:\d+:\d+\)?$/m.test(r.stderr + r.stdout)) out.push('a stack trace');
  const leaked = leakedSecrets(r, ws.secrets);
  if (leaked.length > 0) out.push(`a secret printed (${leaked.length})`);
  if (c.denial) {
    if (!/^DENIED|"allowed": ?false/m.test(r.stdout)) out.push('no denial reported');
    return out;
  }
  const lines = r.stderr.split('\n').filter((l) => l !== '');
  if (lines.length !== 1) out.push(`${lines.length} lines on stderr`);
  const line = lines[0] ?? '';
  if (!line.startsWith('kbs-bundler: ')) out.push('the line does not start with "kbs-bundler: "');
  const abs = c.names.map((n) => path.resolve(ws.dir, n));
  if (![...c.names, ...abs].some((n) => line.includes(n))) out.push(`the line names none of ${c.names.join(', ')}`);
  if (r.stdout !== '') {
    try {
      const doc = JSON.parse(r.stdout) as { error?: { exitCode?: number; message?: string } };
      if (doc.error?.exitCode !== r.code || !line.includes(doc.error.message ?? '\0'))
        out.push('stdout is not the error document of the line');
    } catch {
      out.push('stdout holds something else than the --json error document');
    }
  }
  return out;
}

async function runCases(cases: BadCase[]): Promise<string[]> {
  const failures: string[] = [];
  await inPool(
    cases.map((c) => async () => {
      const r = await runCapped(c.args, { cwd: ws.dir });
      const found = problems(c, r);
      const after = await snapshotTree(ws.dir);
      const changed = snapshotDiff(baseline, after);
      if (changed.length > 0) {
        found.push(`the workspace changed (this case or one run beside it): ${changed.join(', ')}`);
        baseline = after;
      }
      if (found.length > 0 && process.env.HOSTILE_VERBOSE)
        console.log(`${c.name}: ${found.join('; ')} | ${r.stderr.slice(0, 300)}`);
      if (found.length > 0)
        failures.push(
          `${c.name}: ${found.join('; ')}\n    args: ${JSON.stringify(c.args).slice(0, 300)}\n    stderr: ${r.stderr.slice(0, 400)}`,
        );
    }),
    POOL,
  );
  return failures;
}

describe('bad inputs', () => {
  it('the run holds at least 400 bad inputs', () => {
    const total = fileCases(themeRng('file-cases')).length + contentCases.length + optionCases().length;
    expect(total).toBeGreaterThanOrEqual(400);
  });

  it('every input file option refuses every kind of bad file', async () => {
    const cases = fileCases(themeRng('file-cases'));
    expect(cases.length).toBeGreaterThan(300);
    const failures = await runCases(cases);
    expect(failures, seeded(`${failures.length} of ${cases.length} cases:\n${failures.join('\n')}`)).toEqual([]);
  }, 300_000);

  it('bundle.yaml and policy.json broken in each way are refused by every command that reads them', async () => {
    const failures = await runCases(contentCases);
    expect(failures, seeded(`${failures.length} of ${contentCases.length} cases:\n${failures.join('\n')}`)).toEqual([]);
  }, 300_000);

  it('every command refuses bad option values', async () => {
    const cases = optionCases();
    const failures = await runCases(cases);
    expect(failures, seeded(`${failures.length} of ${cases.length} cases:\n${failures.join('\n')}`)).toEqual([]);
  }, 300_000);
});
