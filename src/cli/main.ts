#!/usr/bin/env node
/**
 * Entry point. Only the module of the command being run is loaded (a `verify` from a cold start
 * must not pay for staging or building); `--help` at the top level lists every command.
 */
import { Command } from 'commander';
import { reportError } from './report-error.js';

interface CommandModule {
  register(program: Command): void;
}

/** name → [module, one-line description]. Each module exports `register(program)`. */
const COMMANDS: Record<string, [() => Promise<CommandModule>, string]> = {
  init: [() => import('./commands/init.js'), 'Write a commented starter bundle.yaml'],
  build: [
    () => import('./commands/build.js'),
    'Write the KBS repository (policy, sigstore config, credential) from bundle.yaml',
  ],
  publish: [
    () => import('./commands/publish.js'),
    'Set the KBS resources on a running trustee KBS through its admin API (v0.21, or v0.17-v0.20 with --admin-key)',
  ],
  render: [
    () => import('./commands/render.js'),
    'Render the pod YAML, initdata, kernel parameters and host config snippets for signed-image pods',
  ],
  verify: [
    () => import('./commands/verify.js'),
    'Decide as the guest (image-rs) and the host (containers/image) would whether an image may be pulled',
  ],
  lint: [
    () => import('./commands/lint.js'),
    'Find configuration the guest will fail on or treat differently from the host',
  ],
  keygen: [
    () => import('./commands/keygen.js'),
    'Generate an OpenPGP key pair for simple signing (RSA 3072 by default)',
  ],
  sign: [
    () => import('./commands/sign.js'),
    'Sign an image (simple signing, as skopeo copy --sign-by) into a lookaside signature store',
  ],
  audit: [
    () => import('./commands/audit.js'),
    'Verify every signature in a store and say whether the guest and the host accept each',
  ],
  stage: [
    () => import('./commands/stage.js'),
    'Stage signatures, keyrings, registry CAs and /etc/hosts entries into a kata guest rootfs, disk image or initrd',
  ],
  unstage: [
    () => import('./commands/unstage.js'),
    'Remove what stage put into a rootfs and restore the files it appended to',
  ],
  quickstart: [
    () => import('./commands/quickstart.js'),
    'Rehearse the whole flow offline on a sample image: key, signature, KBS repository, staged rootfs, guest check',
  ],
};

async function main(argv: string[]): Promise<number> {
  const program = new Command('kbs-bundler')
    .description(
      'Build KBS repositories, sign and stage image signatures into kata guests, and verify images as the CoCo guest would.',
    )
    .version(await version(), '-V, --version')
    .exitOverride();
  program.configureOutput({ writeErr: (s) => process.stderr.write(s) });

  const name = argv.slice(2).find((a) => !a.startsWith('-'));
  const chosen = name !== undefined ? COMMANDS[name] : undefined;
  if (chosen) {
    (await chosen[0]()).register(program);
  } else {
    for (const [cmd, [, description]] of Object.entries(COMMANDS)) program.command(cmd).description(description);
  }
  oneLineUsageErrors(program, []);
  try {
    await program.parseAsync(argv);
    return process.exitCode === undefined ? 0 : Number(process.exitCode);
  } catch (e) {
    return reportError(e, { json: argv.includes('--json') });
  }
}

/**
 * A usage error (unknown option, missing argument) is one line naming the problem and where the
 * help is, not the whole help: the help pushed the problem off a small terminal.
 */
function oneLineUsageErrors(command: Command, path: string[]): void {
  const help = ['kbs-bundler', ...path, '--help'].join(' ');
  command.configureOutput({
    outputError: (message, write) => {
      const problem = message.trim().replace(/^error: /, '');
      write(`kbs-bundler: ${path.length ? `${path.join(' ')}: ` : ''}${problem}; see '${help}'\n`);
    },
  });
  for (const sub of command.commands) oneLineUsageErrors(sub, [...path, sub.name()]);
}

async function version(): Promise<string> {
  const { readFile } = await import('node:fs/promises');
  const pkg = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

// `kbs-bundler … | head` closes the pipe early: that is not an error worth a stack trace.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(process.exitCode === undefined ? 0 : Number(process.exitCode));
    throw e;
  });
}

void main(process.argv).then((code) => {
  process.exitCode = code;
});
