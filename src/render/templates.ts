/** The files under templates/render/ (shipped with the package) and their rendering. */
import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderTemplate, type TemplateValues } from './template.js';

/** `templates/render/` at the package root: two levels up from src/render/ and from dist/render/. */
export const RENDER_TEMPLATE_DIR = fileURLToPath(new URL('../../templates/render/', import.meta.url));

export type TemplateName =
  | 'pod.yaml'
  | 'initdata.toml'
  | 'kernel-params.txt'
  | 'kata-configuration.toml'
  | 'containerd-config.toml'
  | 'kbsconfig.yaml';

export async function renderTemplateFile(name: TemplateName, values: TemplateValues): Promise<string> {
  const text = await readFile(path.join(RENDER_TEMPLATE_DIR, name), 'utf8');
  return renderTemplate(`templates/render/${name}`, text, values);
}
