/**
 * `kbs-bundler render …`: the pieces that make a kata pod check signatures — the pod YAML, initdata, kernel
 * parameters, and snippets for hand edits — each rendered from a file under templates/render/.
 */
import type { Command } from 'commander';
import { loadBundle } from '../../bundle/index.js';
import { InputError } from '../../errors.js';
import { encodeInitdata, initdataAnnotationValue, KBS_URL_PLACEHOLDER, renderInitdata } from '../../render/initdata.js';
import { renderKernelParams } from '../../render/kernel-params.js';
import { renderPod } from '../../render/pod.js';
import { SNIPPETS, renderSnippet, type SnippetName } from '../../render/snippets.js';
import { kbsUrl as validKbsUrl } from '../../render/validate.js';
import {
  INITDATA_ALGORITHMS,
  initdataDigests,
  readInitdataOrPod,
  TEES,
  type InitdataAlgorithm,
  type InitdataDigests,
  type Tee,
} from '../../initdata/index.js';
import { parseGuestRelease } from '../../releases/guest-components.js';
import { assertK8sNamespace } from '../../kbs/k8s.js';
import { writeFileAtomic } from '../../util/atomic.js';
import { INPUT_LIMITS, readInputFile } from '../../util/read-input.js';
import { printJson, printLine, style, warnLine } from '../output.js';

interface OutputFlags {
  output?: string;
  dryRun?: boolean;
}

/** stdout, or `-o FILE` written atomically; `--dry-run` says what would be written. */
async function emit(text: string, flags: OutputFlags): Promise<void> {
  const body = text.endsWith('\n') ? text : `${text}\n`;
  if (!flags.output) {
    process.stdout.write(body);
    return;
  }
  if (flags.dryRun) {
    printLine(`${style.dim('(dry run)')} would write ${flags.output} (${Buffer.byteLength(body)} bytes)`);
    return;
  }
  await writeFileAtomic(flags.output, body);
  process.stderr.write(`wrote ${flags.output}\n`);
}

const GENPOLICY_ORDER = `
With kata's genpolicy: genpolicy writes the initdata annotation itself (the --initdata-path file plus its
policy.rego), replacing one already on the pod. So give the initdata to genpolicy, not to render pod:
  kbs-bundler render initdata -c bundle.yaml --kbs-url URL -o initdata.toml
  kbs-bundler render pod --image IMAGE -o pod.yaml     (no --initdata; or your own pod YAML)
  genpolicy -y pod.yaml --initdata-path=initdata.toml
The TEE measures genpolicy's re-serialized TOML: take the digest from the pod genpolicy wrote with
\`kbs-bundler render initdata-digest pod.yaml\`, not from initdata.toml. --initdata is for pods without genpolicy.`;

const DIGEST_CHOICES = [...TEES, 'all'] as const;

function digestTees(text: string, option = '--digest'): readonly Tee[] {
  if (text === 'all') return TEES;
  if ((TEES as readonly string[]).includes(text)) return [text as Tee];
  throw new InputError('E_USAGE', { field: option }, `must be one of ${DIGEST_CHOICES.join(', ')}`);
}

/** One hex value for one TEE; `<tee> <hex>` lines for several. */
function digestLines(digests: InitdataDigests, tees: readonly Tee[]): string {
  const picked = digests.tees.filter((d) => tees.includes(d.tee));
  return picked.map((d) => (tees.length === 1 ? d.hex : `${d.tee} ${d.hex}`)).join('\n');
}

function notes(lines: string[]): void {
  for (const l of lines) warnLine(`note: ${l}`);
}

const withOutput = (c: Command) =>
  c
    .option('-o, --output <file>', 'write to this file (atomically) instead of stdout')
    .option('--dry-run', 'with -o: say what would be written, write nothing');

export function register(program: Command): void {
  const render = program
    .command('render')
    .description(
      'Render the pod YAML, initdata, kernel parameters and host config snippets that make a kata pod check signatures',
    );

  withOutput(
    render
      .command('pod')
      .description(
        "The openEuler guide's pod YAML (sign-test.yaml), with the initdata annotation when --initdata is given",
      )
      .requiredOption('--image <ref>', 'image reference, e.g. registry.example.com:5000/busybox_sign:latest')
      .option('--name <name>', 'pod name', 'sign-test')
      .option('--runtime-class <name>', 'RuntimeClass of the kata runtime', 'kata')
      .option('--container-name <name>', 'container name', 'box')
      .option('--initdata <file>', 'initdata TOML (from `render initdata`) or its gzip+base64 value (`--encode`)')
      .option('-c, --config <file>', 'bundle.yaml: render the initdata from it (with --kbs-url) and annotate the pod')
      .option('--kbs-url <url>', 'with -c: the KBS address')
      .addHelpText('after', GENPOLICY_ORDER),
  ).action(
    async (
      flags: {
        image: string;
        name: string;
        runtimeClass: string;
        containerName: string;
        initdata?: string;
        config?: string;
        kbsUrl?: string;
      } & OutputFlags,
    ) => {
      if (flags.initdata !== undefined && flags.config !== undefined) {
        throw new InputError(
          'E_USAGE',
          { field: '--initdata' },
          'give either --initdata FILE or -c bundle.yaml --kbs-url URL, not both',
        );
      }
      if ((flags.config === undefined) !== (flags.kbsUrl === undefined)) {
        throw new InputError(
          'E_USAGE',
          { field: flags.config === undefined ? '--kbs-url' : '--config' },
          '-c and --kbs-url go together (the initdata needs both)',
        );
      }
      let initdata: string | undefined;
      if (flags.initdata !== undefined) {
        initdata = initdataAnnotationValue(
          await readInputFile(flags.initdata, { what: 'initdata', maxBytes: INPUT_LIMITS.initdata }),
          {
            file: flags.initdata,
          },
        );
      } else if (flags.config !== undefined && flags.kbsUrl !== undefined) {
        const url = validKbsUrl(flags.kbsUrl, { field: '--kbs-url' });
        const rendered = await renderInitdata(await loadBundle(flags.config), { kbsUrl: url });
        notes(rendered.notes);
        initdata = encodeInitdata(rendered.toml);
      }
      await emit(await renderPod({ ...flags, initdata }), flags);
    },
  );

  withOutput(
    render
      .command('initdata')
      .description(
        "initdata TOML whose cdh.toml gives the guest the bundle's policy and sigstore config (KBS URIs or inline), credential URI and registry CAs",
      )
      .requiredOption('-c, --config <file>', 'bundle.yaml')
      .option(
        '--kbs-url <url>',
        'KBS address, e.g. http://kbs.example.com:8080 (default: ${KBS_ADDRESS} left to fill in)',
      )
      .option('--kbs-cert <file>', 'PEM certificate of an https KBS (kbs_cert), when it is not publicly trusted')
      .option('--encode', 'print the gzip+base64 annotation value (io.katacontainers.config.hypervisor.cc_init_data)')
      .option(
        '--inline',
        'policy and sigstore config inline in cdh.toml (measured with the initdata) instead of KBS URIs (default: bundle.yaml initdata.inline)',
      )
      .option(
        '--guest-release <release>',
        "the guest's guest-components release; older than v0.17.0 gets the KBS URIs (default: bundle.yaml initdata.guestRelease, else the current release)",
      )
      .option('--algorithm <hash>', `the initdata's algorithm: ${INITDATA_ALGORITHMS.join(' | ')}`, 'sha256')
      .option('--digest <tee>', `print the initdata digest the TEE reports, in hex: ${DIGEST_CHOICES.join(' | ')}`)
      .option('--json', 'machine-readable: {toml, annotation, digests, notes}'),
  ).action(
    async (
      flags: {
        config: string;
        kbsUrl?: string;
        kbsCert?: string;
        encode?: boolean;
        inline?: boolean;
        guestRelease?: string;
        algorithm: string;
        digest?: string;
        json?: boolean;
      } & OutputFlags,
    ) => {
      const url = flags.kbsUrl !== undefined ? validKbsUrl(flags.kbsUrl, { field: '--kbs-url' }) : undefined;
      const tees = flags.digest !== undefined ? digestTees(flags.digest) : undefined;
      if (!(INITDATA_ALGORITHMS as readonly string[]).includes(flags.algorithm)) {
        throw new InputError(
          'E_USAGE',
          { field: '--algorithm' },
          `must be one of ${INITDATA_ALGORITHMS.join(', ')} (kata refuses other spellings such as sha-256)`,
        );
      }
      if (flags.encode && tees)
        throw new InputError('E_USAGE', { field: '--digest' }, 'give --encode or --digest, not both');
      const guestRelease =
        flags.guestRelease !== undefined ? parseGuestRelease(flags.guestRelease, '--guest-release') : undefined;
      if ((flags.encode || flags.json) && url === undefined) {
        throw new InputError(
          'E_USAGE',
          { field: '--kbs-url' },
          'required with --encode/--json: an encoded initdata (and machine-readable output) carries no placeholder to fill in',
        );
      }
      if (tees && url === undefined) {
        throw new InputError(
          'E_USAGE',
          { field: '--kbs-url' },
          'required with --digest: the digest covers the KBS address',
        );
      }
      let kbsCertPem: string | undefined;
      if (flags.kbsCert !== undefined) {
        kbsCertPem = (
          await readInputFile(flags.kbsCert, { what: 'KBS certificate', maxBytes: INPUT_LIMITS.certificate })
        ).toString('utf8');
        if (!kbsCertPem.includes('-----BEGIN CERTIFICATE-----'))
          throw new InputError('E_PEM', { file: flags.kbsCert }, 'is not a PEM certificate');
      }
      const bundle = await loadBundle(flags.config);
      const rendered = await renderInitdata(bundle, {
        kbsUrl: url,
        kbsCertPem,
        algorithm: flags.algorithm as InitdataAlgorithm,
        ...(flags.inline ? { inline: true } : {}),
        ...(guestRelease ? { guestRelease } : {}),
      });
      notes(rendered.notes);
      const digests = initdataDigests(rendered.toml);
      if (flags.json) {
        printJson({
          toml: rendered.toml,
          annotation: encodeInitdata(rendered.toml),
          digests,
          notes: rendered.notes,
        });
        return;
      }
      if (tees) {
        await emit(digestLines(digests, tees), flags);
        return;
      }
      await emit(flags.encode ? encodeInitdata(rendered.toml) : rendered.toml, flags);
    },
  );

  render
    .command('initdata-digest')
    .description(
      'The digest a TEE reports for an initdata: a TOML file, its annotation value, or the pod YAML genpolicy wrote',
    )
    .argument('<file>', 'initdata TOML, its gzip+base64 annotation value, or a pod YAML carrying the annotation')
    .option('--tee <tee>', DIGEST_CHOICES.join(' | '), 'all')
    .option('--json', 'machine-readable: {algorithm, hash, tees: [{tee, bytes, hex, base64}]}')
    .action(async (file: string, flags: { tee: string; json?: boolean }) => {
      const tees = digestTees(flags.tee, '--tee');
      const { toml } = readInitdataOrPod(
        await readInputFile(file, { what: 'initdata', maxBytes: INPUT_LIMITS.initdata }),
        { file },
      );
      const digests = initdataDigests(toml, { file });
      if (flags.json) printJson(digests);
      else printLine(digestLines(digests, tees));
    });

  render
    .command('kernel-params')
    .description('agent.* kernel parameters for the guest (the pre-initdata flow; no sigstore config, see the note)')
    .requiredOption('-c, --config <file>', 'bundle.yaml')
    .option(
      '--kbs-url <url>',
      'KBS address, e.g. http://kbs.example.com:8080 (default: ${KBS_ADDRESS} left to fill in)',
    )
    .option('--json', 'machine-readable: {params, notes}')
    .action(async (flags: { config: string; kbsUrl?: string; json?: boolean }) => {
      if (flags.json && flags.kbsUrl === undefined) {
        throw new InputError(
          'E_USAGE',
          { field: '--kbs-url' },
          'required with --json: machine-readable output carries no placeholder to fill in',
        );
      }
      const url = flags.kbsUrl !== undefined ? validKbsUrl(flags.kbsUrl, { field: '--kbs-url' }) : KBS_URL_PLACEHOLDER;
      const bundle = await loadBundle(flags.config);
      const rendered = await renderKernelParams(bundle, url);
      if (flags.json) {
        printJson({ params: rendered.line, notes: rendered.notes });
        return;
      }
      printLine(rendered.line);
      notes(rendered.notes);
    });

  withOutput(
    render
      .command('snippet')
      .description(
        'Config to merge by hand: kata-config (configuration.toml), containerd (config.toml), kbsconfig (trustee-operator)',
      )
      .argument('<name>', SNIPPETS.join(' | '))
      .option('-c, --config <file>', "kbsconfig: list the Secrets of this bundle's resources")
      .option('--runtime-class <name>', "containerd: the kata runtime's name", 'kata')
      .option('--image-request-timeout <seconds>', 'kata-config: image pull timeout', '600')
      .option('--namespace <ns>', 'kbsconfig: namespace', 'trustee-operator-system')
      .option('--kbsconfig-name <name>', 'kbsconfig: metadata.name', 'kbsconfig'),
  ).action(
    async (
      name: string,
      flags: {
        config?: string;
        runtimeClass: string;
        imageRequestTimeout: string;
        namespace: string;
        kbsconfigName: string;
      } & OutputFlags,
    ) => {
      if (!(SNIPPETS as readonly string[]).includes(name)) {
        throw new InputError(
          'E_USAGE',
          { field: 'snippet' },
          `unknown snippet ${JSON.stringify(name)}; one of ${SNIPPETS.join(', ')}`,
        );
      }
      if (!/^[0-9]+$/.test(flags.imageRequestTimeout)) {
        throw new InputError(
          'E_USAGE',
          { field: '--image-request-timeout' },
          'must be a positive whole number of seconds',
        );
      }
      if (name === 'kbsconfig') assertK8sNamespace(flags.namespace, '--namespace');
      const bundle = flags.config !== undefined ? await loadBundle(flags.config) : undefined;
      const text = await renderSnippet(name as SnippetName, {
        imageRequestTimeout: Number(flags.imageRequestTimeout),
        runtimeClass: flags.runtimeClass,
        namespace: flags.namespace,
        kbsConfigName: flags.kbsconfigName,
        bundle,
      });
      await emit(text, flags);
    },
  );
}
