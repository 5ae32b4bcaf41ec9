/**
 * `kbs-bundler render …`: the pieces that make a kata pod check signatures — the pod YAML, initdata, kernel
 * parameters, and snippets for hand edits — each rendered from a file under templates/render/.
 */
import type { Command } from 'commander';
import { promises as fs } from 'node:fs';
import { loadBundle } from '../../bundle/index.js';
import { FileNotFoundError, InputError } from '../../errors.js';
import { encodeInitdata, initdataAnnotationValue, KBS_URL_PLACEHOLDER, renderInitdata } from '../../render/initdata.js';
import { renderKernelParams } from '../../render/kernel-params.js';
import { renderPod } from '../../render/pod.js';
import { SNIPPETS, renderSnippet, type SnippetName } from '../../render/snippets.js';
import { kbsUrl as validKbsUrl } from '../../render/validate.js';
import { assertK8sNamespace } from '../../kbs/k8s.js';
import { writeFileAtomic } from '../../util/atomic.js';
import { printJson, printLine, style, warnLine } from '../output.js';

interface OutputFlags {
  output?: string;
  dryRun?: boolean;
}

async function readUserFile(file: string, what: string): Promise<Buffer> {
  try {
    return await fs.readFile(file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new FileNotFoundError(file, what, { cause: e });
    throw new InputError('E_FILE_READ', { file }, `cannot read ${what}: ${(e as Error).message}`, { cause: e });
  }
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
      .option('--kbs-url <url>', 'with -c: the KBS address'),
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
        initdata = initdataAnnotationValue(await readUserFile(flags.initdata, 'initdata file'), {
          file: flags.initdata,
        });
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
      .description("initdata TOML whose cdh.toml points the guest at the bundle's KBS resources and registry CAs")
      .requiredOption('-c, --config <file>', 'bundle.yaml')
      .option(
        '--kbs-url <url>',
        'KBS address, e.g. http://kbs.example.com:8080 (default: ${KBS_ADDRESS} left to fill in)',
      )
      .option('--kbs-cert <file>', 'PEM certificate of an https KBS (kbs_cert), when it is not publicly trusted')
      .option('--encode', 'print the gzip+base64 annotation value (io.katacontainers.config.hypervisor.cc_init_data)')
      .option('--json', 'machine-readable: {toml, annotation, notes}'),
  ).action(
    async (
      flags: { config: string; kbsUrl?: string; kbsCert?: string; encode?: boolean; json?: boolean } & OutputFlags,
    ) => {
      const url = flags.kbsUrl !== undefined ? validKbsUrl(flags.kbsUrl, { field: '--kbs-url' }) : undefined;
      if ((flags.encode || flags.json) && url === undefined) {
        throw new InputError(
          'E_USAGE',
          { field: '--kbs-url' },
          'required with --encode/--json: an encoded initdata (and machine-readable output) carries no placeholder to fill in',
        );
      }
      let kbsCertPem: string | undefined;
      if (flags.kbsCert !== undefined) {
        kbsCertPem = (await readUserFile(flags.kbsCert, 'KBS certificate')).toString('utf8');
        if (!kbsCertPem.includes('-----BEGIN CERTIFICATE-----'))
          throw new InputError('E_PEM', { file: flags.kbsCert }, 'is not a PEM certificate');
      }
      const bundle = await loadBundle(flags.config);
      const rendered = await renderInitdata(bundle, { kbsUrl: url, kbsCertPem });
      notes(rendered.notes);
      if (flags.json) {
        printJson({ toml: rendered.toml, annotation: encodeInitdata(rendered.toml), notes: rendered.notes });
        return;
      }
      await emit(flags.encode ? encodeInitdata(rendered.toml) : rendered.toml, flags);
    },
  );

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
