/**
 * Registry settings: credentials (username + a password source, never an inline password), CA file,
 * /etc/hosts address. The password is not read here: `passwordSecret` reads it only when the
 * credential resource is rendered, so a Bundle object never holds it.
 */
import { promises as fs } from 'node:fs';
import { isIP } from 'node:net';
import { InputError } from '../errors.js';
import { caPemProblem } from '../registry/ca-pem.js';
import { fail, readBundleFile, type BundleContext } from './files.js';
import type { BundleFile } from './schema.js';
import { registryProblem } from './scope.js';
import type { RegistrySettings } from './types.js';

const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;

export async function loadRegistries(
  ctx: BundleContext,
  section: BundleFile['registries'],
): Promise<RegistrySettings[]> {
  const out: RegistrySettings[] = [];
  for (const registry of Object.keys(section ?? {}).sort()) {
    const entry = section![registry]!;
    const field = `registries[${JSON.stringify(registry)}]`;
    const problem = registryProblem(registry);
    if (problem !== undefined) throw fail(ctx, 'E_REGISTRY', field, problem);
    const settings: RegistrySettings = { registry };
    const hasSource = entry.passwordFile !== undefined || entry.passwordEnv !== undefined;
    if (entry.username !== undefined) {
      if (entry.username.includes(':'))
        throw fail(
          ctx,
          'E_CREDENTIAL',
          `${field}.username`,
          'must not contain ":" (user and password are joined with it)',
        );
      if (!hasSource) {
        throw fail(
          ctx,
          'E_CREDENTIAL',
          field,
          'credentials without a password source: give passwordFile (a file holding the password) or passwordEnv (an environment variable)',
        );
      }
      if (entry.passwordFile !== undefined && entry.passwordEnv !== undefined) {
        throw fail(ctx, 'E_CREDENTIAL', field, 'give either passwordFile or passwordEnv, not both');
      }
      settings.username = entry.username;
      if (entry.passwordFile !== undefined) {
        const { abs } = await readBundleFile(ctx, entry.passwordFile, `${field}.passwordFile`);
        settings.passwordFile = abs;
        await passwordSecret(settings, ctx.env, { file: ctx.file, field: `${field}.passwordFile` });
      } else {
        settings.passwordEnv = entry.passwordEnv!;
        await passwordSecret(settings, ctx.env, { file: ctx.file, field: `${field}.passwordEnv` });
      }
    } else if (hasSource) {
      throw fail(ctx, 'E_CREDENTIAL', `${field}.username`, 'is required when a password source is given');
    }
    if (entry.caFile !== undefined) {
      const caField = `${field}.caFile`;
      const { abs, bytes } = await readBundleFile(ctx, entry.caFile, caField);
      const problem = caPemProblem(bytes.toString('utf8'));
      if (problem !== undefined) throw fail(ctx, 'E_CA_FILE', caField, `${entry.caFile}: ${problem}`);
      const pems = bytes.toString('utf8').match(PEM_CERT) ?? [];
      settings.caFile = abs;
      settings.caPem = `${pems.join('\n')}\n`;
    }
    if (entry.address !== undefined) {
      if (isIP(entry.address) === 0)
        throw fail(
          ctx,
          'E_ADDRESS',
          `${field}.address`,
          `${JSON.stringify(entry.address)} is not an IPv4 or IPv6 address`,
        );
      settings.address = entry.address;
    }
    out.push(settings);
  }
  return out;
}

/**
 * The registry password from its source. One trailing newline is dropped (`echo pw > file`), as
 * the guest does with the decoded credential. Errors name the field, never the value.
 */
export async function passwordSecret(
  settings: RegistrySettings,
  env: NodeJS.ProcessEnv,
  location: { file: string; field: string },
): Promise<string> {
  let value: string | undefined;
  if (settings.passwordFile !== undefined) {
    try {
      value = await fs.readFile(settings.passwordFile, 'utf8');
    } catch {
      throw new InputError('E_FILE_NOT_FOUND', location, `${settings.passwordFile}: file not found`);
    }
  } else if (settings.passwordEnv !== undefined) {
    value = env[settings.passwordEnv];
    if (value === undefined)
      throw new InputError('E_CREDENTIAL', location, `environment variable ${settings.passwordEnv} is not set`);
  }
  value = (value ?? '').replace(/\r?\n$/, '');
  if (value === '') throw new InputError('E_CREDENTIAL', location, 'the password is empty');
  return value;
}
