/**
 * The seeded case generator: an image reference, a policy, a sigstore config, key files (rootfs and
 * KBS) and signature stores, each drawn so that matching and non-matching variants of every rule are
 * likely. It leaves out what the oracle cannot judge: signature packet structure (every signature is a
 * compressed one-pass signed message, as gpg writes it) and cosign (a sigstoreSigned rule only ever
 * comes after a reject, where neither side reaches it).
 */
import { parseGuestReference, referenceString, type DockerReference } from '../../src/reference/index.js';
import type { KeyName, RunKey } from './keys.js';
import { signPayload } from './keys.js';
import type { Rng } from './rng.js';

export interface Blob {
  /** What the bytes are, for the report (`public key rsa`, `signature by rsa over …`). */
  label: string;
  bytes: Uint8Array;
}

export type Requirement = Record<string, unknown>;
export interface PolicyDoc {
  default: Requirement[];
  transports: Record<string, Record<string, Requirement[]>>;
}
export type PolicyForm = 'json' | 'bom' | 'lone-surrogate-scope' | 'array' | 'duplicate-default';
export interface SigstoreEntry {
  sigstore?: string;
  lookaside?: string;
}
export interface SigstoreDoc {
  'default-docker'?: SigstoreEntry;
  docker?: Record<string, SigstoreEntry>;
}

export interface Case {
  image: string;
  digest: string;
  policy: PolicyDoc;
  policyForm: PolicyForm;
  /** Undefined: the guest has no sigstore config. */
  sigstore?: SigstoreDoc;
  /** Guest path → file. */
  rootfs: Record<string, Blob>;
  /** `<repo>/<type>/<tag>` → resource. */
  kbs: Record<string, Blob>;
}

export const KEY_DIR = '/etc/pki/differential';
// Not under /run: the kata agent mounts a tmpfs there at boot, which the verifier models and the oracle
// (image-rs's code on a plain directory) does not.
const STORE_BASES = ['/var/lib/containers/sigstore', '/sigs', '/srv/sig store', '/opt/sigs'];
const KEY_NAMES: KeyName[] = ['rsa', 'ed25519', 'subkey', 'expired'];

/** A label for every keyData string written, so reports can say which key it is. */
export const KEY_DATA_LABELS = new Map<string, string>();

function b64(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('base64');
}

function genImage(rng: Rng, digest: string): string {
  const registry = rng.pick([
    '',
    '',
    'docker.io/',
    'index.docker.io/',
    'registry.example.com/',
    'registry.example.com:5000/',
    'localhost:5000/',
    'localhost/',
    'quay.io/',
    'sub.mirror.example.org/',
    'Mirror/',
    '[fd00::1]:5000/',
    'REGISTRY.Example.com/',
  ]);
  const components = ['app', 'ns', 'team', 'library', 'busybox', 'a.b', 'x_y', 'a-b', 'nested'];
  let path = Array.from({ length: 1 + rng.int(3) }, () => rng.pick(components)).join('/');
  if (rng.chance(0.04)) path = `${'n'.repeat(240 + rng.int(20))}/${path}`;
  if (rng.chance(0.02)) path = rng.pick(['App', 'ns/App']);
  let ref = registry + path;
  const tag = rng.pick([undefined, '1.0', 'latest', 'v1.2.3', 'é1', '1.0']);
  if (tag !== undefined) ref += `:${tag}`;
  if (rng.chance(0.25) || tag === undefined) {
    if (tag === undefined || rng.chance(0.5)) ref += `@${digest}`;
  }
  return ref;
}

function guestParse(image: string): DockerReference | undefined {
  try {
    return parseGuestReference(image);
  } catch {
    return undefined;
  }
}

/** Scope keys for the image: its own candidates (most specific first), wildcards, neighbours and junk. */
function genScopes(rng: Rng, ref: DockerReference | undefined): string[] {
  const out: string[] = [];
  if (ref) {
    const name = `${ref.registry}/${ref.repository}`;
    out.push(referenceString(ref), name, name.slice(0, name.lastIndexOf('/')), ref.registry);
    const host = ref.registry.replace(/:\d+$/, '');
    const dot = host.indexOf('.');
    if (dot !== -1) out.push(`*.${host.slice(dot + 1)}`);
    out.push(`${name}:other`, `${name}x`, name.toUpperCase());
  }
  out.push('', 'docker.io', 'docker.io/library', '*.example.com', '*.com', 'registry.example.com:5000', 'quay.io/x');
  return out;
}

function genIdentity(rng: Rng, ref: DockerReference | undefined): Requirement | undefined {
  const whole = ref ? referenceString(ref) : 'docker.io/library/busybox:latest';
  const name = ref ? `${ref.registry}/${ref.repository}` : 'docker.io/library/busybox';
  switch (rng.int(8)) {
    case 0:
      return undefined;
    case 1:
      return { type: 'matchExact' };
    case 2:
      return { type: 'matchRepoDigestOrExact' };
    case 3:
      return { type: 'matchRepository' };
    case 4:
      return { type: 'exactReference', dockerReference: rng.pick([whole, `${name}:other`, 'quay.io/x/y:1']) };
    case 5:
      return { type: 'exactRepository', dockerRepository: rng.pick([name, `${name}x`, 'quay.io/x/y']) };
    default: {
      const prefix = rng.pick([ref?.registry ?? 'docker.io', name, 'docker.io', 'registry.example.com/ns', 'quay.io']);
      const signedPrefix = rng.pick(['mirror.example.com', 'quay.io', prefix, 'mirror.example.com/ns']);
      return { type: 'remapIdentity', prefix, signedPrefix };
    }
  }
}

interface KeyChoice {
  fields: Requirement;
  rootfs: Record<string, Blob>;
  kbs: Record<string, Blob>;
  /** The keys the rules name, so that most signatures are made by one of them. */
  used: KeyName[];
}

function keyDataOf(keys: Map<KeyName, RunKey>, names: KeyName[], armored: boolean): string {
  const parts = names.map((n) => {
    const k = keys.get(n)!;
    return armored ? new TextEncoder().encode(k.publicArmored) : k.publicBinary;
  });
  const data = b64(Buffer.concat(parts));
  KEY_DATA_LABELS.set(data, `${armored ? 'armored ' : ''}public key${names.length > 1 ? 's' : ''} ${names.join('+')}`);
  return data;
}

function genKeySource(rng: Rng, keys: Map<KeyName, RunKey>, keyName: KeyName): Omit<KeyChoice, 'used'> {
  const key = keys.get(keyName)!;
  const blob: Blob = { label: `public key ${keyName}`, bytes: key.publicBinary };
  const other = rng.pick(KEY_NAMES.filter((n) => n !== keyName));
  switch (rng.int(14)) {
    case 0:
      return { fields: { keyData: keyDataOf(keys, [keyName], false) }, rootfs: {}, kbs: {} };
    case 1:
      return { fields: { keyData: keyDataOf(keys, [other, keyName], false) }, rootfs: {}, kbs: {} };
    case 2:
      return { fields: { keyData: keyDataOf(keys, [keyName], true) }, rootfs: {}, kbs: {} };
    case 3:
      return { fields: { keyData: keyDataOf(keys, [other], false) }, rootfs: {}, kbs: {} };
    case 4:
      return {
        fields: { keyData: rng.pick(['not base64!', 'AAAA', keyDataOf(keys, [keyName], false).replace(/=+$/, '')]) },
        rootfs: {},
        kbs: {},
      };
    case 5:
      return {
        fields: { keyPath: `${KEY_DIR}/${keyName}.gpg` },
        rootfs: { [`${KEY_DIR}/${keyName}.gpg`]: blob },
        kbs: {},
      };
    case 6: {
      const form = rng.pick(['file://', 'FILE://', 'File://']);
      const suffix = rng.pick(['', '?x=1', '#frag']);
      return {
        fields: { keyPath: `${form}${KEY_DIR}/${keyName}.gpg${suffix}` },
        rootfs: { [`${KEY_DIR}/${keyName}.gpg`]: blob },
        kbs: {},
      };
    }
    case 7: {
      // A directory name with a space: the URL keeps it percent-encoded.
      const decoded = `${KEY_DIR}/my keys/${keyName}.gpg`;
      const encoded = `${KEY_DIR}/my%20keys/${keyName}.gpg`;
      const at = rng.pick([decoded, encoded]);
      return {
        fields: { keyPath: rng.pick([`file://${encoded}`, decoded, encoded]) },
        rootfs: { [at]: blob },
        kbs: {},
      };
    }
    case 8:
      // No leading slash: `file://etc/…` makes `etc` the host.
      return {
        fields: { keyPath: `${KEY_DIR.slice(1)}/${keyName}.gpg` },
        rootfs: { [`${KEY_DIR}/${keyName}.gpg`]: blob, [`/pki/differential/${keyName}.gpg`]: blob },
        kbs: {},
      };
    case 9:
      return { fields: { keyPath: `${KEY_DIR}/missing.gpg` }, rootfs: {}, kbs: {} };
    case 10:
    case 11: {
      const uri = rng.pick([
        `kbs:///default/gpg-key/${keyName}`,
        `kbs://kbs.example.com:8080/default/gpg-key/${keyName}`,
        `KBS:///default/gpg-key/${keyName}`,
        `kbs+plugin:///default/gpg-key/${keyName}`,
        `kbs:///default/gpg-key`,
        `kbs:///default/gpg-key/missing`,
      ]);
      return { fields: { keyPath: uri }, rootfs: {}, kbs: { [`default/gpg-key/${keyName}`]: blob } };
    }
    case 12:
      return { fields: { keyPath: `http://keys.example.com/${keyName}.gpg` }, rootfs: {}, kbs: {} };
    default:
      return {
        fields: rng.chance(0.5)
          ? { keyPath: `${KEY_DIR}/${keyName}.gpg`, keyData: keyDataOf(keys, [keyName], false) }
          : {},
        rootfs: { [`${KEY_DIR}/${keyName}.gpg`]: blob },
        kbs: {},
      };
  }
}

function genRequirement(
  rng: Rng,
  keys: Map<KeyName, RunKey>,
  ref: DockerReference | undefined,
  acc: KeyChoice,
): Requirement {
  const r = rng.int(10);
  if (r === 0) return { type: 'insecureAcceptAnything' };
  if (r === 1) return { type: 'reject' };
  const keyName = rng.pick(KEY_NAMES);
  acc.used.push(keyName);
  const source = genKeySource(rng, keys, keyName);
  Object.assign(acc.rootfs, source.rootfs);
  Object.assign(acc.kbs, source.kbs);
  const req: Requirement = {
    type: 'signedBy',
    keyType: rng.chance(0.95) ? 'GPGKeys' : 'signedByGPGKeys',
    ...source.fields,
  };
  const identity = genIdentity(rng, ref);
  if (identity) req.signedIdentity = identity;
  if (rng.chance(0.05)) req.unknownField = { nested: [1, 2, 3] };
  return req;
}

function genList(
  rng: Rng,
  keys: Map<KeyName, RunKey>,
  ref: DockerReference | undefined,
  acc: KeyChoice,
): Requirement[] {
  const n = rng.pick([0, 1, 1, 1, 2, 2, 3]);
  const list = Array.from({ length: n }, () => genRequirement(rng, keys, ref, acc));
  if (rng.chance(0.03)) list.push({ type: 'reject' }, { type: 'sigstoreSigned', keyData: 'unused' });
  return list;
}

function genSigstore(rng: Rng, ref: DockerReference | undefined, scopes: string[]): SigstoreDoc | undefined {
  if (rng.chance(0.08)) return undefined;
  const url = () =>
    rng.chance(0.7)
      ? `file://${STORE_BASES[rng.int(2)]}`
      : rng.pick([
          ...STORE_BASES.map((b) => `file://${b.replace(' ', '%20')}`),
          'https://sigs.example.com',
          'file:///nowhere',
        ]);
  // The guest requires `sigstore` in every entry: a `lookaside`-only entry makes the whole config invalid.
  const entry = (): SigstoreEntry => {
    const r = rng.next();
    if (r < 0.04) return { lookaside: url() };
    if (r < 0.25) return { sigstore: url(), lookaside: url() };
    return { sigstore: url() };
  };
  const doc: SigstoreDoc = {};
  if (rng.chance(0.7)) doc['default-docker'] = entry();
  if (rng.chance(0.6)) {
    doc.docker = {};
    for (let i = 0, n = 1 + rng.int(3); i < n; i++) doc.docker[rng.pick(scopes.filter((s) => s !== ''))] = entry();
  }
  void ref;
  return doc;
}

type PayloadForm =
  | 'go'
  | 'extra-field'
  | 'duplicate-reference'
  | 'duplicate-critical'
  | 'critical-array'
  | 'payload-array'
  | 'bom'
  | 'lone-surrogate-creator'
  | 'lone-surrogate-ignored'
  | 'deep-optional'
  | 'deep-ignored'
  | 'no-optional'
  | 'type-other';

function payloadText(reference: string, digest: string, form: PayloadForm, rng: Rng): string {
  const identity = `{"docker-reference":${JSON.stringify(reference)}}`;
  const image = `{"docker-manifest-digest":${JSON.stringify(digest)}}`;
  const type = form === 'type-other' ? 'cosign container image signature' : 'atomic container signature';
  let critical = `{"identity":${identity},"image":${image},"type":${JSON.stringify(type)}}`;
  let optional = '{"creator":"differential","timestamp":1700000000}';
  const nest = (depth: number) => '['.repeat(depth) + ']'.repeat(depth);
  switch (form) {
    case 'extra-field':
      critical = critical.replace('{"identity"', '{"x-extra":{"a":[1,{"b":null}]},"identity"');
      break;
    case 'duplicate-reference':
      critical = critical.replace(
        identity,
        `{"docker-reference":"quay.io/other/repo:1","docker-reference":${JSON.stringify(reference)}}`,
      );
      break;
    case 'duplicate-critical':
      return `{"critical":{"identity":{"docker-reference":"x"},"image":${image},"type":"atomic container signature"},"critical":${critical},"optional":${optional}}`;
    case 'critical-array':
      critical = `[${JSON.stringify(type)},${image},${identity}]`;
      break;
    case 'payload-array':
      return rng.pick([
        `[${critical},${optional}]`,
        `[${critical}]`,
        `[${critical},null]`,
        `[${critical},${optional},1]`,
      ]);
    case 'lone-surrogate-creator':
      optional = '{"creator":"\\ud800x","timestamp":1700000000}';
      break;
    case 'lone-surrogate-ignored':
      critical = critical.replace('{"identity"', '{"x-extra":"\\udc00","identity"');
      break;
    case 'deep-optional':
      optional = `{"creator":"d","x-deep":${nest(124 + rng.int(6))}}`;
      break;
    case 'deep-ignored':
      critical = critical.replace('{"identity"', `{"x-deep":${nest(126 + rng.int(8))},"identity"`);
      break;
    case 'no-optional':
      return `{"critical":${critical}}`;
    default:
      break;
  }
  const text = `{"critical":${critical},"optional":${optional}}`;
  return form === 'bom' ? `\ufeff${text}` : text;
}

async function genStore(
  rng: Rng,
  keys: Map<KeyName, RunKey>,
  image: string,
  ref: DockerReference | undefined,
  digest: string,
  otherDigest: string,
  used: KeyName[],
): Promise<Record<string, Blob>> {
  const files: Record<string, Blob> = {};
  if (!ref) return files;
  const whole = referenceString(ref);
  const name = `${ref.registry}/${ref.repository}`;
  const identities = [
    whole,
    whole,
    image,
    `${name}:other`,
    `${name}@${digest}`,
    'quay.io/other/repo:1',
    `mirror.example.com/${ref.repository}:${ref.tag ?? 'latest'}`,
    name,
  ];
  const forms: PayloadForm[] = [
    'go',
    'go',
    'go',
    'extra-field',
    'duplicate-reference',
    'duplicate-critical',
    'critical-array',
    'payload-array',
    'bom',
    'lone-surrogate-creator',
    'lone-surrogate-ignored',
    'deep-optional',
    'deep-ignored',
    'no-optional',
    'type-other',
  ];
  for (const [i, base] of STORE_BASES.entries()) {
    if (!rng.chance(i < 2 ? 0.8 : 0.4)) continue;
    const dir = `${base}/${ref.repository}@${digest.replace(':', '=')}`;
    const n = 1 + rng.int(3);
    for (let i = 1; i <= n; i++) {
      const fileName = rng.pick([`signature-${i}`, `signature-${i}`, `sig-${rng.hex(4)}`, `.hidden-${i}`]);
      if (rng.chance(0.05)) {
        files[`${dir}/${fileName}`] = {
          label: 'not a signature',
          bytes: new TextEncoder().encode('not a signature\n'),
        };
        continue;
      }
      const keyName = rng.chance(0.7) && used.length ? rng.pick(used) : rng.pick(KEY_NAMES);
      const identity = rng.chance(0.5) ? whole : rng.pick(identities);
      const signedDigest = rng.chance(0.85) ? digest : otherDigest;
      const form = rng.chance(0.6) ? 'go' : rng.pick(forms);
      const payload = payloadText(identity, signedDigest, form, rng);
      files[`${dir}/${fileName}`] = {
        label: `signature by ${keyName} over ${JSON.stringify(payload.length > 300 ? `${payload.slice(0, 300)}…` : payload)}`,
        bytes: await signPayload(keys.get(keyName)!, payload),
      };
    }
    if (rng.chance(0.05))
      files[`${dir}/subdir/placeholder`] = { label: 'a file in a subdirectory', bytes: new Uint8Array([1]) };
  }
  return files;
}

export async function generateCase(rng: Rng, keys: Map<KeyName, RunKey>): Promise<Case> {
  const digest = `sha256:${rng.hex(64)}`;
  const otherDigest = `sha256:${rng.hex(64)}`;
  const image = genImage(rng, digest);
  const ref = guestParse(image);
  const scopes = genScopes(rng, ref);
  const acc: KeyChoice = { fields: {}, rootfs: {}, kbs: {}, used: [] };
  const policy: PolicyDoc = { default: genList(rng, keys, ref, acc), transports: {} };
  if (rng.chance(0.85)) {
    const docker: Record<string, Requirement[]> = {};
    for (let i = 0, n = rng.int(4); i < n; i++) docker[rng.pick(scopes)] = genList(rng, keys, ref, acc);
    policy.transports.docker = docker;
  }
  if (rng.chance(0.05)) policy.transports.atomic = { '': [{ type: 'reject' }] };
  const policyForm: PolicyForm = rng.chance(0.9)
    ? 'json'
    : rng.pick(['bom', 'lone-surrogate-scope', 'array', 'duplicate-default'] as const);
  const sigstore = genSigstore(rng, ref, scopes);
  const rootfs = { ...acc.rootfs, ...(await genStore(rng, keys, image, ref, digest, otherDigest, acc.used)) };
  return { image, digest, policy, policyForm, ...(sigstore ? { sigstore } : {}), rootfs, kbs: acc.kbs };
}

/** The policy bytes of a case. */
export function policyText(c: Case): string {
  const json = JSON.stringify(c.policy, null, 1);
  switch (c.policyForm) {
    case 'json':
      return json;
    case 'bom':
      return `\ufeff${json}`;
    case 'lone-surrogate-scope': {
      const docker = c.policy.transports.docker ?? {};
      const withKey = { ...c.policy, transports: { ...c.policy.transports, docker: { ...docker, '@SURROGATE@': [] } } };
      return JSON.stringify(withKey, null, 1).replace('"@SURROGATE@"', '"bad\\udc00key"');
    }
    case 'array':
      return JSON.stringify([c.policy.default, c.policy.transports]);
    case 'duplicate-default':
      return json.replace('{', '{\n "default": [{"type": "reject"}],');
  }
}

/** The sigstore config bytes (plain YAML of string maps). */
export function sigstoreText(doc: SigstoreDoc): string {
  const entry = (e: SigstoreEntry, indent: string) =>
    Object.entries(e)
      .map(([k, v]) => `${indent}${k}: ${JSON.stringify(v)}\n`)
      .join('');
  let out = '';
  if (doc['default-docker']) out += `default-docker:\n${entry(doc['default-docker'], '  ')}`;
  if (doc.docker) {
    out += 'docker:\n';
    for (const [scope, e] of Object.entries(doc.docker)) out += `  ${JSON.stringify(scope)}:\n${entry(e, '    ')}`;
  }
  return out || '{}\n';
}
