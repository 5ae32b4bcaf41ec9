/**
 * Reading an initdata file as the kata runtime and the guest read it: the TOML (given as is, or as the
 * gzip+base64 annotation value), checked as kata checks it, and its cdh.toml's `[image]` table.
 */
import { parse as parseToml } from 'smol-toml';
import type { z } from 'zod';
import { InputError, type Location } from '../errors.js';
import { describeYamlProblem, readYamlDocuments } from '../yaml/read-yaml.js';
import { decodeInitdata, INITDATA_ANNOTATION, initdataAnnotationValue } from './annotation.js';
import { cdhConfigSchema, type CdhImageConfig } from './cdh-schema.js';
import { initdataSchema, type InitdataDocument } from './schema.js';

export interface ReadInitdata {
  /** The TOML text the pod annotation carries (what kata hashes and the agent parses). */
  toml: string;
  document: InitdataDocument;
}

function issueLocation(location: Location, prefix: string, issues: readonly z.core.$ZodIssue[]): InputError {
  const issue = issues[0];
  const path = [prefix, ...(issue?.path ?? []).map(String)].filter((s) => s !== '').join('.');
  return new InputError('E_INITDATA', { ...location, field: path || undefined }, issue?.message ?? 'invalid');
}

function tomlTable(text: string, location: Location, what: string): unknown {
  try {
    return parseToml(text);
  } catch (e) {
    const first = ((e as Error).message.split('\n')[0] ?? '').trim();
    throw new InputError('E_INITDATA', location, `${what} is not valid TOML: ${first}`);
  }
}

/** The initdata TOML text (already decoded) checked as kata's `parse_initdata` checks it. */
export function parseInitdataToml(toml: string, location: Location): InitdataDocument {
  const parsed = initdataSchema.safeParse(tomlTable(toml, location, 'initdata'));
  if (!parsed.success) throw issueLocation(location, '', parsed.error.issues);
  return parsed.data;
}

/** A file holding initdata TOML or its gzip+base64 annotation value. */
export function readInitdata(fileBytes: Uint8Array, location: Location): ReadInitdata {
  const toml = decodeInitdata(initdataAnnotationValue(fileBytes, location));
  return { toml, document: parseInitdataToml(toml, location) };
}

/**
 * The same, or a Kubernetes YAML (the pod genpolicy wrote) whose first object with the initdata annotation
 * supplies it: the value the runtime decodes and measures.
 */
export function readInitdataOrPod(fileBytes: Uint8Array, location: Location): ReadInitdata {
  const text = Buffer.from(fileBytes).toString('utf8');
  if (!/^\s*(apiVersion|kind|metadata)\s*:/m.test(text)) return readInitdata(fileBytes, location);
  const read = readYamlDocuments(text);
  if (!read.ok)
    throw new InputError('E_INITDATA', location, `is not a valid Kubernetes YAML: ${describeYamlProblem(read)}`);
  for (const doc of read.values) {
    const value = (doc as { metadata?: { annotations?: Record<string, unknown> } } | null)?.metadata?.annotations?.[
      INITDATA_ANNOTATION
    ];
    if (typeof value === 'string') return readInitdata(Buffer.from(value, 'utf8'), location);
  }
  throw new InputError('E_INITDATA', location, `is a Kubernetes YAML without the ${INITDATA_ANNOTATION} annotation`);
}

/** cdh.toml's `[image]` table (empty when cdh.toml or the table is absent: the guest then checks nothing). */
export function cdhImageConfig(document: InitdataDocument, location: Location): CdhImageConfig {
  const text = document.data['cdh.toml'];
  if (text === undefined) return {};
  const where = { ...location, field: 'data."cdh.toml"' };
  const parsed = cdhConfigSchema.safeParse(tomlTable(text, where, 'cdh.toml'));
  if (!parsed.success) throw issueLocation(location, 'data."cdh.toml"', parsed.error.issues);
  return parsed.data.image ?? {};
}
