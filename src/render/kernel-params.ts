/** The agent.* kernel parameters of the pre-initdata flow, and why they are not enough for simple signing. */
import type { Bundle } from '../bundle/types.js';
import { InputError } from '../errors.js';
import { KBS_URL_PLACEHOLDER } from './initdata.js';
import { bundleUris } from './kbs-uris.js';
import { renderTemplateFile } from './templates.js';

export interface RenderedKernelParams {
  /** One line, parameters separated by spaces. */
  line: string;
  notes: string[];
}

export async function renderKernelParams(
  bundle: Pick<Bundle, 'repository' | 'tag' | 'registries'>,
  kbsUrl: string,
): Promise<RenderedKernelParams> {
  if (!/^[\x21-\x7e]+$/.test(kbsUrl) || /["'\\]/.test(kbsUrl)) {
    throw new InputError(
      'E_KBS_URL',
      { field: '--kbs-url' },
      `${JSON.stringify(kbsUrl)} cannot go on a kernel command line (quotes, backslashes, spaces or non-ASCII)`,
    );
  }
  const uris = bundleUris(bundle);
  const text = await renderTemplateFile('kernel-params.txt', { ...uris, kbsUrl });
  const line = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
    .join(' ');
  const notes = [
    `no kernel parameter carries the sigstore config (${uris.sigstoreConfigUri}): with these parameters alone the guest finds no ` +
      'signatures and denies every image a signedBy rule covers; simple signing needs initdata (kbs-bundler render initdata)',
  ];
  if (kbsUrl === KBS_URL_PLACEHOLDER)
    notes.push(`no --kbs-url given: the KBS address is left as ${KBS_URL_PLACEHOLDER} (fill it in before use)`);
  if (uris.credentialUri === undefined)
    notes.push('no registry in the bundle has a username: agent.image_registry_auth is left out');
  return { line, notes };
}
