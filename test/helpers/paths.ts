/** Paths tests share: the repository root, the upstream fixtures the project carries, the built CLI. */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
/** Upstream test data, unchanged, one folder per project (each folder's README.md gives its provenance). */
export const FIXTURES = path.join(REPO_ROOT, 'test/fixtures/upstream');
/** containers/image `signature/fixtures`: the host verifier's own test data. */
export const CI_FIXTURES = path.join(FIXTURES, 'containers-image');
/** guest-components `image-rs/test_data`: the guest verifier's own test data. */
export const IMAGE_RS_FIXTURES = path.join(FIXTURES, 'image-rs');
export const TEMPLATES = path.join(REPO_ROOT, 'templates');
/** The CLI exactly as package.json `bin` names it: the bundle (`npm test` builds before running vitest). */
export const CLI = path.join(
  REPO_ROOT,
  (JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { bin: Record<string, string> }).bin[
    'kbs-bundler'
  ]!,
);
