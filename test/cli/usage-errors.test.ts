/** A usage error is one line naming the problem and where the help is, exit 2 — not the whole help. */
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/run-cli.js';

describe('usage errors', () => {
  it.each([
    [
      ['verify', 'x', '--no-such-option'],
      "kbs-bundler: verify: unknown option '--no-such-option'; see 'kbs-bundler verify --help'",
    ],
    [
      ['audit', '--keys', 'k'],
      "kbs-bundler: audit: required option '--store <dir|tar>' not specified; see 'kbs-bundler audit --help'",
    ],
    [
      ['render', 'pod'],
      "kbs-bundler: render pod: required option '--image <ref>' not specified; see 'kbs-bundler render pod --help'",
    ],
    [['bogus'], "kbs-bundler: unknown command 'bogus'; see 'kbs-bundler --help'"],
  ])('%j prints one line and exits 2', async (args, line) => {
    const r = await runCli(args);
    expect(r.stderr).toBe(`${line}\n`);
    expect(r.stdout).toBe('');
    expect(r.code).toBe(2);
  });
});
