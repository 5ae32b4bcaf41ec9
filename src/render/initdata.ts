/**
 * initdata: the TOML a CoCo pod carries in annotation `io.katacontainers.config.hypervisor.cc_init_data`
 * (gzip, then base64). Its `cdh.toml` points the guest's CDH at the bundle's KBS resources, and
 * `extra_root_certificates` lets image-rs trust the registries' CAs.
 */
import type { Bundle } from '../bundle/types.js';
import type { InitdataAlgorithm } from '../initdata/schema.js';
import { caLeafProblem } from '../registry/ca-check.js';
import { imageSection, type ImageSectionOptions, type InitdataBundle } from './initdata-image.js';
import { renderTemplateFile } from './templates.js';

export {
  INITDATA_ANNOTATION,
  decodeInitdata,
  encodeInitdata,
  initdataAnnotationValue,
} from '../initdata/annotation.js';
/** Left in the TOML when no KBS URL is given, as in the CoCo docs (fill in with envsubst). */
export const KBS_URL_PLACEHOLDER = '${KBS_ADDRESS}';

export interface InitdataOptions extends ImageSectionOptions {
  /** The KBS base URL (already validated); absent → KBS_URL_PLACEHOLDER. */
  kbsUrl?: string;
  /** PEM of the KBS's https certificate, for `kbs_cert` / `cert`. */
  kbsCertPem?: string;
  /** The hash kata measures the initdata with (default sha256). */
  algorithm?: InitdataAlgorithm;
}

export interface RenderedInitdata {
  toml: string;
  /** Things the user should know (printed on stderr by the CLI). */
  notes: string[];
}

const CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;

/** Each certificate of the registries' CA files, once, in registry order. */
export function registryCaCertificates(bundle: Pick<Bundle, 'registries'>): string[] {
  const out: string[] = [];
  for (const r of [...bundle.registries].sort((a, b) =>
    a.registry < b.registry ? -1 : a.registry > b.registry ? 1 : 0,
  )) {
    for (const m of (r.caPem ?? '').matchAll(CERTIFICATE)) {
      const pem = `${m[0].replace(/\r\n/g, '\n')}\n`;
      if (!out.includes(pem)) out.push(pem);
    }
  }
  return out;
}

export async function renderInitdata(bundle: InitdataBundle, o: InitdataOptions = {}): Promise<RenderedInitdata> {
  const image = await imageSection(bundle, o);
  const notes: string[] = [...image.notes];
  if (o.kbsUrl === undefined) {
    notes.push(
      `no --kbs-url given: the KBS address is left as ${KBS_URL_PLACEHOLDER} (fill it in, e.g. with envsubst, before encoding)`,
    );
  }
  if (image.credentialUri === undefined) {
    notes.push(
      'no registry in the bundle has a username, so no credential resource exists: authenticated_registry_credentials_uri is left out',
    );
  }
  for (const r of bundle.registries) {
    const problem = r.caPem !== undefined ? caLeafProblem(r.caPem, r.registry) : undefined;
    if (problem) notes.push(problem);
  }
  const toml = await renderTemplateFile('initdata.toml', {
    algorithm: o.algorithm ?? 'sha256',
    kbsUrl: o.kbsUrl ?? KBS_URL_PLACEHOLDER,
    kbsCert: o.kbsCertPem,
    policyUri: image.policyUri,
    policyInline: image.policyInline,
    sigstoreConfigUri: image.sigstoreConfigUri,
    sigstoreConfigInline: image.sigstoreConfigInline,
    credentialUri: image.credentialUri,
    caCertificates: registryCaCertificates(bundle),
  });
  return { toml, notes };
}
