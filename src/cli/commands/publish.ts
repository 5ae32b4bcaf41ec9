/**
 * `kbs-bundler publish`: set the bundle's KBS resources on a running trustee KBS through its admin API
 * (trustee v0.21: bearer token file; v0.17–v0.20: a JWT signed with the admin Ed25519 key). Exit 0 all set,
 * 1 the KBS refused one (nothing after it is sent), 2 bad input or no KBS to talk to.
 */
import type { Command } from 'commander';
import { loadBundle } from '../../bundle/index.js';
import { InputError } from '../../errors.js';
import { kbsUrl as validKbsUrl } from '../../render/validate.js';
import { adminKey, signAdminToken, tokenFromFile } from '../../trustee/admin-token.js';
import { publishBundle, type PublishResult } from '../../trustee/publish.js';
import { INPUT_LIMITS, readInputFile } from '../../util/read-input.js';
import { printJson, printLine, style } from '../output.js';

interface PublishFlags {
  config: string;
  kbsUrl: string;
  adminTokenFile?: string;
  adminKey?: string;
  adminRole?: string;
  certFile?: string;
  dryRun?: boolean;
  json?: boolean;
}

/** A small text input, read through the capped reader: /dev/zero or a huge file is refused at once. */
async function readText(file: string, what: string, field: string): Promise<string> {
  const maxBytes = field === '--cert-file' ? INPUT_LIMITS.certificate : INPUT_LIMITS.passphrase;
  return (await readInputFile(file, { what, maxBytes, field })).toString('utf8');
}

/** The bearer token, from the token file or signed with the admin key; read before anything is sent. */
async function adminToken(flags: PublishFlags): Promise<string> {
  if ((flags.adminTokenFile === undefined) === (flags.adminKey === undefined)) {
    throw new InputError(
      'E_USAGE',
      { field: '--admin-token-file' },
      'give --admin-token-file FILE (trustee v0.21) or --admin-key ed25519.pem (trustee v0.17-v0.20), one of them',
    );
  }
  if (flags.adminTokenFile !== undefined) {
    if (flags.adminRole !== undefined)
      throw new InputError('E_USAGE', { field: '--admin-role' }, 'goes with --admin-key (a token file has its role)');
    return tokenFromFile(
      await readText(flags.adminTokenFile, 'admin token', '--admin-token-file'),
      flags.adminTokenFile,
    );
  }
  const file = flags.adminKey!;
  return signAdminToken(adminKey(await readText(file, 'admin key', '--admin-key'), file), {
    ...(flags.adminRole !== undefined ? { role: flags.adminRole } : {}),
  });
}

export function register(program: Command): void {
  program
    .command('publish')
    .description(
      'Set every resource build writes on a running trustee KBS through its admin API (POST /kbs/v0/resource/...)',
    )
    .requiredOption('-c, --config <file>', 'bundle.yaml')
    .requiredOption('--kbs-url <url>', 'KBS address, e.g. https://kbs.example.com:8080')
    .option('--admin-token-file <file>', 'trustee v0.21: file holding the admin bearer JWT (with a role claim)')
    .option('--admin-key <file>', 'trustee v0.17-v0.20: the admin Ed25519 private key (PEM); signs a 5-minute JWT')
    .option('--admin-role <role>', "with --admin-key: a role claim, for a v0.21 KBS that trusts this key's public half")
    .option('--cert-file <file>', 'PEM certificate (or CA) of an https KBS that is not publicly trusted')
    .option('--dry-run', 'show what would be set, send nothing')
    .option('--json', 'machine-readable summary')
    .action(async (flags: PublishFlags) => {
      const kbsUrl = validKbsUrl(flags.kbsUrl, { field: '--kbs-url' });
      let caPem: string | undefined;
      if (flags.certFile !== undefined) {
        caPem = await readText(flags.certFile, 'KBS certificate', '--cert-file');
        if (!caPem.includes('-----BEGIN CERTIFICATE-----'))
          throw new InputError('E_PEM', { file: flags.certFile }, 'is not a PEM certificate');
      }
      const token = await adminToken(flags);
      const bundle = await loadBundle(flags.config);
      const result = await publishBundle({
        bundle,
        target: { kbsUrl, token, ...(caPem !== undefined ? { caPem } : {}) },
        dryRun: flags.dryRun,
      });
      if (flags.json) printJson(result);
      else printSummary(result);
    });
}

function printSummary(r: PublishResult): void {
  printLine(style.bold(`${r.dryRun ? 'Would set' : 'Set'} ${r.resources.length} KBS resources on ${r.kbsUrl}:`));
  const width = Math.max(...r.resources.map((x) => x.resource.length));
  for (const x of r.resources) {
    printLine(`  ${x.resource.padEnd(width)}  ${String(x.size).padStart(7)} bytes  POST ${x.endpoint}`);
  }
}
