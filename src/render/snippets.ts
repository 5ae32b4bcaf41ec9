/** Snippets for edits made by hand: kata configuration.toml, containerd config.toml, trustee-operator KbsConfig. */
import type { Bundle } from '../bundle/types.js';
import { InputError } from '../errors.js';
import { resourcePath } from '../resource-id/resource-id.js';
import { renderTemplateFile, type TemplateName } from './templates.js';
import { k8sName } from './validate.js';

export const SNIPPETS = ['kata-config', 'containerd', 'kbsconfig'] as const;
export type SnippetName = (typeof SNIPPETS)[number];

const TEMPLATE: Record<SnippetName, TemplateName> = {
  'kata-config': 'kata-configuration.toml',
  containerd: 'containerd-config.toml',
  kbsconfig: 'kbsconfig.yaml',
};

export const DEFAULT_IMAGE_REQUEST_TIMEOUT = 600;
export const DEFAULT_KBS_SECRETS = ['security-policy', 'sigstore-config', 'credential'];

export interface SnippetOptions {
  /** kata-config: seconds (default 600, the guide's value). */
  imageRequestTimeout?: number;
  /** containerd: the runtime name (default kata). */
  runtimeClass?: string;
  /** kbsconfig: the Secrets come from this bundle's resources (default: the three conventional ones). */
  bundle?: Pick<Bundle, 'file' | 'repository' | 'tag' | 'registries' | 'keyResources'>;
  namespace?: string;
  kbsConfigName?: string;
}

/** Secret names for the bundle's resources; trustee-operator serves only repository `default`. */
export function kbsSecretNames(bundle: NonNullable<SnippetOptions['bundle']>): string[] {
  const ids = [
    { repository: bundle.repository, type: 'security-policy', tag: bundle.tag },
    { repository: bundle.repository, type: 'sigstore-config', tag: bundle.tag },
    ...(bundle.registries.some((r) => r.username !== undefined)
      ? [{ repository: bundle.repository, type: 'credential', tag: bundle.tag }]
      : []),
    ...bundle.keyResources.map((k) => k.id),
  ];
  const names: string[] = [];
  for (const id of ids) {
    if (id.repository !== 'default') {
      throw new InputError(
        'E_K8S_REPOSITORY',
        { file: bundle.file, field: 'kbs.repository' },
        `trustee-operator serves Secrets as kbs:///default/<secret>/<key>, so ${resourcePath(id)} cannot be listed in kbsSecretResources; use repository "default"`,
      );
    }
    if (!names.includes(id.type)) names.push(id.type);
  }
  return names;
}

export function renderSnippet(name: SnippetName, o: SnippetOptions = {}): Promise<string> {
  const timeout = o.imageRequestTimeout ?? DEFAULT_IMAGE_REQUEST_TIMEOUT;
  if (!Number.isSafeInteger(timeout) || timeout <= 0) {
    throw new InputError('E_USAGE', { field: '--image-request-timeout' }, 'must be a positive whole number of seconds');
  }
  return renderTemplateFile(TEMPLATE[name], {
    imageRequestTimeout: String(timeout),
    runtimeClass: k8sName(o.runtimeClass ?? 'kata', { field: '--runtime-class' }),
    namespace: k8sName(o.namespace ?? 'trustee-operator-system', { field: '--namespace' }),
    name: k8sName(o.kbsConfigName ?? 'kbsconfig', { field: '--kbsconfig-name' }),
    secrets: o.bundle ? kbsSecretNames(o.bundle) : DEFAULT_KBS_SECRETS,
  });
}
