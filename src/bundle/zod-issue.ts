/** Turns the first zod issue of a failed bundle.yaml parse into one InputError line. */
import type { z } from 'zod';
import { InputError } from '../errors.js';
import { preferredIssue } from '../util/preferred-issue.js';
import { fieldPath, type PathSegment } from './field-path.js';

const INLINE_PASSWORD =
  'inline passwords are not allowed in bundle.yaml; give passwordFile (a file holding the password) or passwordEnv (an environment variable)';

export function issueToInputError(file: string, issues: readonly z.core.$ZodIssue[]): InputError {
  const issue = preferredIssue(issues);
  if (issue === undefined) return new InputError('E_BUNDLE_SCHEMA', { file }, 'invalid bundle');
  const path = issue.path.filter((s): s is PathSegment => typeof s !== 'symbol');
  if (issue.code === 'unrecognized_keys') {
    const key = issue.keys[0] ?? '';
    const at = fieldPath([...path, key]);
    if (key === 'password' && path[0] === 'registries') {
      return new InputError('E_INLINE_PASSWORD', { file, field: at }, INLINE_PASSWORD);
    }
    return new InputError('E_UNKNOWN_FIELD', { file, field: at }, 'unknown field');
  }
  return new InputError('E_BUNDLE_SCHEMA', { file, field: fieldPath(path) || '(top level)' }, problem(issue));
}

/** zod's type names in YAML terms. */
const YAML_WORDS: Record<string, string> = {
  object: 'a mapping',
  record: 'a mapping',
  array: 'a list',
  string: 'a string',
  boolean: 'true or false',
  number: 'a number',
  null: 'nothing (null)',
};

function problem(issue: z.core.$ZodIssue): string {
  if (issue.code === 'invalid_type') {
    const m = /received (\w+)/.exec(issue.message);
    const received = m?.[1];
    if (received === 'undefined') return 'is required';
    const expected = YAML_WORDS[issue.expected] ?? issue.expected;
    return `expected ${expected}${received ? `, got ${YAML_WORDS[received] ?? received}` : ''}`;
  }
  if (issue.code === 'invalid_union' && 'options' in issue && Array.isArray(issue.options)) {
    return `must be one of ${(issue.options as unknown[]).join(', ')}`;
  }
  return issue.message;
}
