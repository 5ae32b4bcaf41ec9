/** `kbs-bundler sign`: a simple signature for an image, written into a lookaside store at the first free signature-N. */
import { promises as fs } from 'node:fs';
import type { Command } from 'commander';
import { InputError } from '../../errors.js';
import { readPassphrase, readSecretKey } from '../../keys/index.js';
import { digestProblem, parseReference, referenceString } from '../../reference/index.js';
import { assertImageManifest, manifestDigest, signImage } from '../../signature/index.js';
import { findOwnSignature, lookasideDir, writeSignature } from '../../store/index.js';
import { INPUT_LIMITS, readInputFile } from '../../util/read-input.js';
import { assertDirectoryOrAbsent } from '../path-options.js';
import { printJson, printLine } from '../output.js';

interface SignFlags {
  key: string;
  signBy?: string;
  passphraseFile?: string;
  reference: string;
  signIdentity?: string;
  manifest?: string;
  digest?: string;
  store: string;
  creator?: string;
  force?: boolean;
  dryRun?: boolean;
  json?: boolean;
}

export function register(program: Command): void {
  program
    .command('sign')
    .description('Sign an image (simple signing, as skopeo copy --sign-by does) into a lookaside signature store')
    .requiredOption('--key <file>', 'secret key (gpg --export-secret-keys, armored or binary)')
    .option('--sign-by <fingerprint>', 'which secret key, when the file holds several')
    .option('--passphrase-file <file>', 'passphrase of the secret key (first line); or set KBS_BUNDLER_PASSPHRASE')
    .requiredOption('--reference <ref>', 'image reference, expanded fully (busybox → docker.io/library/busybox:latest)')
    .option('--sign-identity <string>', 'sign this identity verbatim instead of the expanded reference')
    .option('--manifest <file>', 'manifest file whose digest is signed')
    .option('--digest <digest>', 'manifest digest to sign (sha256:…)')
    .requiredOption('--store <dir>', 'lookaside store: <dir>/<repository>@sha256=<hex>/signature-N')
    .option('--creator <string>', 'optional.creator in the payload (default: kbs-bundler <version>)')
    .option('--force', 'sign again although this key already signed this identity and digest in the store')
    .option('--dry-run', 'check the inputs and sign, but write nothing')
    .option('--json', 'machine-readable output')
    .action(async (flags: SignFlags) => {
      if ((flags.manifest === undefined) === (flags.digest === undefined)) {
        throw new InputError('E_USAGE', {}, 'give exactly one of --manifest FILE or --digest sha256:…');
      }
      const ref = parseReference(flags.reference);
      await assertDirectoryOrAbsent(flags.store, '--store');
      let digest: string;
      if (flags.manifest !== undefined) {
        const bytes = await readInputFile(flags.manifest, { what: 'manifest', maxBytes: INPUT_LIMITS.manifest });
        assertImageManifest(bytes, { file: flags.manifest });
        digest = manifestDigest(bytes, { file: flags.manifest });
      } else {
        digest = flags.digest!;
        const problem = digestProblem(digest);
        if (problem !== undefined)
          throw new InputError('E_BAD_DIGEST', { field: '--digest' }, `${JSON.stringify(digest)}: ${problem}`);
        if (!digest.startsWith('sha256:'))
          throw new InputError('E_BAD_DIGEST', { field: '--digest' }, 'containers/image only matches sha256 digests');
      }
      if (flags.signIdentity !== undefined && flags.signIdentity === '')
        throw new InputError('E_USAGE', { field: '--sign-identity' }, 'must not be empty');
      const identity = flags.signIdentity ?? referenceString(ref);
      const keyBytes = await readInputFile(flags.key, { what: 'secret key', maxBytes: INPUT_LIMITS.secretKey });
      const passphrase = await readPassphrase({ file: flags.passphraseFile });
      const key = await readSecretKey(
        keyBytes,
        passphrase,
        { file: flags.key },
        flags.signBy ? { fingerprint: flags.signBy } : {},
      );
      const signer = key.getFingerprint().toUpperCase();
      if (!flags.force) {
        const existing = await findOwnSignature({
          store: flags.store,
          repositoryPath: ref.repository,
          digest,
          identity,
          key,
        });
        if (existing !== undefined) {
          if (flags.json) printJson({ alreadySigned: true, identity, digest, signer, path: existing });
          else printLine(`${identity} (${digest}) is already signed by ${signer}: ${existing} (--force signs again)`);
          return;
        }
      }
      const creator = flags.creator ?? `kbs-bundler ${await version()}`;
      const blob = await signImage({ key, dockerReference: identity, manifestDigest: digest, creator });
      const dir = lookasideDir(flags.store, ref.repository, digest);
      const written = flags.dryRun ? undefined : await writeSignature(flags.store, ref.repository, digest, blob);
      const summary = {
        dryRun: Boolean(flags.dryRun),
        identity,
        digest,
        signer,
        directory: dir,
        ...(written ? { path: written.path, index: written.index } : {}),
      };
      if (flags.json) printJson(summary);
      else {
        printLine(`${written ? 'Signed' : 'Would sign'} ${identity} (${digest}) with ${summary.signer}`);
        printLine(written ? `wrote ${written.path}` : `into ${dir}/signature-N`);
      }
    });
}

async function version(): Promise<string> {
  const pkg = JSON.parse(await fs.readFile(new URL('../../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}
