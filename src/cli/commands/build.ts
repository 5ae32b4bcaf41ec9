/** `kbs-bundler build`: bundle.yaml → the KBS repository (and its tarball, k8s, kbs-client and host forms). */
import type { Command } from 'commander';
import { InputError } from '../../errors.js';
import { buildRepository, type BuildResult } from '../../kbs/build.js';
import { LAYOUTS, type Layout } from '../../kbs/layout.js';
import { adminAuthForm, parseTrusteeVersion } from '../../kbs/trustee-version.js';
import { assertK8sNamespace } from '../../kbs/k8s.js';
import { printJson, printLine, progressReporter, style, warnLine } from '../output.js';

interface BuildFlags {
  config: string;
  output?: string;
  layout: string;
  tar?: string;
  k8s?: string;
  k8sNamespace?: string;
  kbsClientScript?: string;
  trusteeVersion?: string;
  hostConfig?: string;
  dryRun?: boolean;
  json?: boolean;
}

export function register(program: Command): void {
  program
    .command('build')
    .description(
      'Write the KBS repository (security-policy, sigstore-config, credential, key resources) from bundle.yaml',
    )
    .requiredOption('-c, --config <file>', 'bundle.yaml')
    .option('-o, --output <dir>', 'repository directory to write (replaced as a whole)')
    .option(
      '--layout <layout>',
      'nested (trustee <= v0.18, openEuler guide) or flat (trustee >= v0.19 LocalFs)',
      'nested',
    )
    .option('--tar <file>', 'also write the tree as a deterministic tarball')
    .option('--k8s <file>', 'also write Kubernetes Secrets for trustee-operator')
    .option('--k8s-namespace <ns>', 'namespace of the Secrets', 'trustee-operator-system')
    .option('--kbs-client-script <file>', 'also write a shell script that uploads the resources with kbs-client')
    .option(
      '--trustee-version <version>',
      'with --kbs-client-script: the KBS release; 0.21 authenticates with --admin-token-file, 0.17-0.20 with --auth-private-key',
      '0.21',
    )
    .option('--host-config <dir>', 'also write host-side policy.json, registries.d/ and certs.d/ for podman/CRI-O')
    .option('--dry-run', 'validate and show what would be written, write nothing')
    .option('--json', 'machine-readable summary')
    .action(async (flags: BuildFlags) => {
      if (!(LAYOUTS as readonly string[]).includes(flags.layout)) {
        throw new InputError('E_USAGE', { field: '--layout' }, `must be one of ${LAYOUTS.join(', ')}`);
      }
      if (flags.k8sNamespace !== undefined) assertK8sNamespace(flags.k8sNamespace, '--k8s-namespace');
      if (
        !flags.dryRun &&
        [flags.output, flags.tar, flags.k8s, flags.kbsClientScript, flags.hostConfig].every((o) => o === undefined)
      ) {
        throw new InputError(
          'E_USAGE',
          {},
          'nothing to write: give -o DIR, --tar FILE, --k8s FILE, --kbs-client-script FILE or --host-config DIR (or --dry-run)',
        );
      }
      const result = await buildRepository({
        bundle: flags.config,
        outDir: flags.output,
        layout: flags.layout as Layout,
        tarFile: flags.tar,
        k8sFile: flags.k8s,
        k8sNamespace: flags.k8sNamespace,
        kbsClientScript: flags.kbsClientScript,
        adminAuth: adminAuthForm(parseTrusteeVersion(flags.trusteeVersion ?? '0.21')),
        hostConfigDir: flags.hostConfig,
        dryRun: flags.dryRun,
        onProgress: flags.json ? undefined : progressReporter('writing'),
      });
      if (flags.json) printJson(summaryJson(result));
      else printSummary(result);
      for (const w of result.warnings) warnLine(`warning: ${w}`);
    });
}

function summaryJson(r: BuildResult): unknown {
  return {
    dryRun: r.dryRun,
    layout: r.layout,
    repository: r.bundle.repository,
    tag: r.bundle.tag,
    resources: r.resources,
    keys: r.keys,
    outputs: r.outputs,
    warnings: r.warnings,
    ...(r.kbsSecretResources ? { kbsSecretResources: r.kbsSecretResources } : {}),
    ...(r.hostConfig ? { hostConfig: r.hostConfig } : {}),
    guestKeyFiles: r.bundle.guestKeyFiles.map((f) => ({ guestPath: f.guestPath, size: f.bytes.length })),
  };
}

function printSummary(r: BuildResult): void {
  printLine(
    style.bold(`${r.dryRun ? 'Would write' : 'Wrote'} ${r.resources.length} KBS resources (${r.layout} layout):`),
  );
  const width = Math.max(...r.resources.map((x) => x.resource.length));
  for (const x of r.resources) {
    printLine(
      `  ${x.resource.padEnd(width)}  ${String(x.size).padStart(7)} bytes  mode ${x.mode}  kbs:///${x.resource}`,
    );
  }
  if (r.keys.length > 0) {
    printLine(style.bold('Keys trusted by signedBy rules:'));
    const byKey = new Map<string, { key: BuildResult['keys'][number]; scopes: string[] }>();
    for (const k of r.keys) {
      const entry = byKey.get(k.fingerprint) ?? { key: k, scopes: [] };
      entry.scopes.push(k.scope);
      byKey.set(k.fingerprint, entry);
    }
    for (const { key, scopes } of byKey.values()) {
      const expiry = key.expires ? `, expires ${key.expires}` : '';
      const shown = scopes.slice(0, 3).join(', ') + (scopes.length > 3 ? ` and ${scopes.length - 3} more` : '');
      printLine(`  ${key.fingerprint} ${key.userIds.join(', ')} (${key.algorithm}${expiry}) for ${shown}`);
    }
  }
  if (r.bundle.guestKeyFiles.length > 0) {
    printLine(style.bold('Key files for the guest (written by `kbs-bundler stage`):'));
    for (const f of r.bundle.guestKeyFiles) printLine(`  ${f.guestPath} (${f.bytes.length} bytes)`);
  }
  for (const o of r.outputs) printLine(`${r.dryRun ? style.dim('(dry run) ') : ''}${o.kind}: ${o.path}`);
  if (r.kbsSecretResources) printLine(`KbsConfig spec.kbsSecretResources: ${JSON.stringify(r.kbsSecretResources)}`);
}
