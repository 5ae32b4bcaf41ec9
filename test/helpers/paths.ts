/** Paths tests share: the repository root, the shared fixtures beside it, the built CLI. */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
/** `../shared/fixtures` next to the checkout: used as is, never copied into the project. */
export const FIXTURES = path.resolve(REPO_ROOT, '../shared/fixtures');
export const CI_FIXTURES = path.join(FIXTURES, 'containers-image');
export const IMAGE_RS_FIXTURES = path.join(FIXTURES, 'image-rs');
export const TEMPLATES = path.join(REPO_ROOT, 'templates');
/** The CLI exactly as package.json `bin` names it: the bundle (`npm test` builds before running vitest). */
export const CLI = path.join(
  REPO_ROOT,
  (JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { bin: Record<string, string> }).bin[
    'kbs-bundler'
  ]!,
);
