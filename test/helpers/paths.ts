/** Paths tests share: the repository root, the shared fixtures beside it, the built CLI. */
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
/** `../shared/fixtures` next to the checkout: used as is, never copied into the project. */
export const FIXTURES = path.resolve(REPO_ROOT, '../shared/fixtures');
export const CI_FIXTURES = path.join(FIXTURES, 'containers-image');
export const IMAGE_RS_FIXTURES = path.join(FIXTURES, 'image-rs');
export const TEMPLATES = path.join(REPO_ROOT, 'templates');
/** The compiled CLI (`npm test` builds before running vitest). */
export const CLI = path.join(REPO_ROOT, 'dist/cli/main.js');
