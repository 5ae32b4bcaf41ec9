/**
 * JSON from a file the user gave, with errors that never quote the file: node's JSON.parse message
 * quotes the input (`"S3cr3t-PassW0rd" is not valid JSON`), and a password file given where a policy
 * was meant would print the password. The error names the file, the line and column, and the problem.
 */
import type { ErrorCode } from '../error-codes.js';
import { InputError, type Location } from '../errors.js';
import { JsonSyntaxError, parseJsonTree } from '../json/json-tree.js';

/** The parsed value, or InputError(code, location, `is not JSON: <problem> at line L column C`). */
export function parseJsonInput(
  bytes: Uint8Array | string,
  location: Location,
  code: ErrorCode = 'E_NOT_JSON',
): unknown {
  const text = typeof bytes === 'string' ? bytes : Buffer.from(bytes).toString('utf8');
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new InputError(code, location, `is not JSON: ${jsonProblem(text)}`);
  }
}

/** Where and what, in serde_json's words (which, unlike node's, never quote the input). */
export function jsonProblem(text: string): string {
  try {
    parseJsonTree(text);
  } catch (e) {
    if (e instanceof JsonSyntaxError) return e.serdeText;
  }
  return 'malformed JSON';
}
