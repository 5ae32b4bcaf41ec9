/**
 * The sigstore config (registries.d YAML) and the signature base URL it gives an image, as each
 * side reads it. Guest (image-rs `simple/sigstore.rs`): only `sigstore` is read and it is required
 * in every entry; first matching scope key wins even without a URL. Host (`docker/registries_d.go`):
 * `lookaside`, with `sigstore` as its alias; a section with no read URL falls through to the next.
 */
import { z } from 'zod';
import { scopeCandidates, type DockerReference } from '../reference/index.js';
import {
  DEFAULT_SIGSTORE_BASE,
  registryEntrySchema,
  sigstoreConfigSchema,
  type SigstoreConfig,
} from '../lookaside/schema.js';
import type { Side } from './types.js';
import { describeYamlProblem, readYaml } from '../yaml/read-yaml.js';

export const GUEST_INVALID_SIGSTORE_CONFIG = 'Invalid simple signing sigstore config';

const guestEntrySchema = z.object(registryEntrySchema.pick({ sigstore: true }).required().shape);
const guestSigstoreConfigSchema = z.object({
  'default-docker': guestEntrySchema.nullish(),
  docker: z.record(z.string(), guestEntrySchema).nullish(),
});

export type SigstoreConfigResult =
  { ok: true; config: SigstoreConfig } | { ok: false; reason: string; detail?: string };

/** `source` names the config in the detail of a problem (a file or a `kbs:///` resource). */
export function parseSigstoreConfig(bytes: Uint8Array, side: Side, source?: string): SigstoreConfigResult {
  const read = readYaml(new TextDecoder().decode(bytes));
  if (!read.ok) {
    const detail = `${source ? `${source}: ` : ''}${describeYamlProblem(read)}`;
    return side === 'guest'
      ? { ok: false, reason: GUEST_INVALID_SIGSTORE_CONFIG, detail }
      : { ok: false, reason: `Error parsing signature storage configuration: ${detail}` };
  }
  const doc = read.value ?? {};
  const schema = side === 'guest' ? guestSigstoreConfigSchema : sigstoreConfigSchema;
  const parsed = schema.safeParse(doc);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const detail = `${issue?.path.map(String).join('.') ?? ''}: ${issue?.message ?? 'invalid'}`;
    return side === 'guest'
      ? { ok: false, reason: GUEST_INVALID_SIGSTORE_CONFIG, detail }
      : { ok: false, reason: `Error parsing signature storage configuration: ${detail}` };
  }
  const data = parsed.data as SigstoreConfig & { 'default-docker'?: unknown; docker?: unknown };
  const config: SigstoreConfig = {};
  if (data['default-docker']) config['default-docker'] = data['default-docker'];
  if (data.docker) config.docker = data.docker;
  return { ok: true, config };
}

export interface SignatureBase {
  url: string;
  /** The section it came from: `docker:"<key>"`, `default-docker`, or `built-in default`. */
  section: string;
}

/** Guest: the first scope key present gives its `sigstore`; then `default-docker`; else none. */
function guestBase(config: SigstoreConfig, ref: DockerReference): SignatureBase | undefined {
  const docker = config.docker ?? {};
  for (const key of scopeCandidates(ref)) {
    const entry = docker[key];
    if (entry) return { url: entry.sigstore ?? '', section: `docker:${JSON.stringify(key)}` };
  }
  const d = config['default-docker'];
  return d ? { url: d.sigstore ?? '', section: 'default-docker' } : undefined;
}

/** Host, read mode: `lookaside`, then `sigstore`; sections without either fall through; built-in default last. */
function hostBase(config: SigstoreConfig, ref: DockerReference): SignatureBase {
  const docker = config.docker ?? {};
  const readUrl = (e: SigstoreConfig['default-docker']) => (e ? e.lookaside || e.sigstore || undefined : undefined);
  for (const key of scopeCandidates(ref)) {
    const url = readUrl(docker[key]);
    if (url) return { url, section: `docker:${JSON.stringify(key)}` };
  }
  const url = readUrl(config['default-docker']);
  if (url) return { url, section: 'default-docker' };
  return { url: DEFAULT_SIGSTORE_BASE, section: 'built-in default' };
}

export function signatureBase(
  config: SigstoreConfig | undefined,
  ref: DockerReference,
  side: Side,
): SignatureBase | undefined {
  if (side === 'host') return hostBase(config ?? {}, ref);
  return config ? guestBase(config, ref) : undefined;
}

/** `<repository without registry>@<algo>=<hex>`, e.g. `library/busybox@sha256=…` (both sides). */
export function signatureDirName(ref: DockerReference, digest: string): string {
  const [algo, hex] = digest.split(':');
  return `${ref.repository}@${algo}=${hex}`;
}
