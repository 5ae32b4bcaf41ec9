/**
 * JSON read as serde_json + serde_derive read it into the guest's Rust types, on the tree json-tree.ts
 * keeps (duplicates included). Hand-written because no JavaScript JSON reader applies serde's rules,
 * and each one decides whether the guest accepts a payload or a policy:
 * - a struct field given twice is an error (`duplicate field`); a map keeps the last entry;
 * - a struct may be written as a JSON array, its fields in declaration order (a flattened struct may not);
 * - members a struct does not know are skipped without any check but syntax (no depth limit, lone
 *   surrogate escapes allowed), while every string read into a `String` — struct keys, map keys,
 *   values, anything captured into a `serde_json::Value` — must not hold a lone surrogate escape;
 * - at most 127 arrays/objects nest where serde reads them (its recursion limit of 128).
 */
import { JsonSyntaxError, parseJsonTree, type JsonNode } from './json-tree.js';

export type SerdeShape =
  | { type: 'struct'; name: string; fields: Record<string, SerdeShape>; flattenRest?: boolean }
  | { type: 'map'; value: SerdeShape }
  | { type: 'seq'; item: SerdeShape }
  | { type: 'option'; inner: SerdeShape }
  | { type: 'string' }
  | { type: 'i64' }
  /** Anything, captured whole (`serde_json::Value`, or the content of an internally tagged enum). */
  | { type: 'value' };

export class SerdeError extends Error {}

const RECURSION_LIMIT = 128;
const I64_MAX = 9223372036854775807n;
const I64_MIN = -9223372036854775808n;
const LONE_HIGH_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])/;
const LONE_LOW_SURROGATE = /(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** The UTF-8 text serde_json sees: no BOM skipped (a BOM is not JSON whitespace). */
export function decodeJsonBytes(bytes: Uint8Array): string {
  return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
}

/** Parses `text` and reads it as `shape`; throws SerdeError with serde's wording. */
export function serdeRead(text: string, shape: SerdeShape): unknown {
  let root: JsonNode;
  try {
    root = parseJsonTree(text);
  } catch (e) {
    if (e instanceof JsonSyntaxError) throw new SerdeError(e.serdeText);
    throw e;
  }
  return read(root, shape, 0);
}

/**
 * serde's name of what it found, without the value it would quote (`string "…"`, ``integer `…` ``): the
 * value may be a secret from a file given by mistake.
 */
function unexpected(node: JsonNode): string {
  switch (node.kind) {
    case 'null':
      return 'null';
    case 'string':
      return 'string';
    case 'number':
      return /^-?\d+$/.test(node.raw) ? 'integer' : 'floating point';
    case 'bool':
      return 'boolean';
    case 'array':
      return 'sequence';
    case 'object':
      return 'map';
  }
}

function checkString(s: string): string {
  // JSON text decoded by TextDecoder holds no lone surrogate: any here came from a `\u` escape.
  if (LONE_HIGH_SURROGATE.test(s)) throw new SerdeError('unexpected end of hex escape');
  if (LONE_LOW_SURROGATE.test(s)) throw new SerdeError('lone leading surrogate in hex escape');
  return s;
}

function enter(depth: number): number {
  if (depth + 1 >= RECURSION_LIMIT) throw new SerdeError('recursion limit exceeded');
  return depth + 1;
}

function read(node: JsonNode, shape: SerdeShape, depth: number): unknown {
  switch (shape.type) {
    case 'option':
      return node.kind === 'null' ? undefined : read(node, shape.inner, depth);
    case 'string':
      if (node.kind !== 'string') throw new SerdeError(`invalid type: ${unexpected(node)}, expected a string`);
      return checkString(node.value);
    case 'i64': {
      if (node.kind !== 'number' || !/^-?\d+$/.test(node.raw))
        throw new SerdeError(`invalid type: ${unexpected(node)}, expected i64`);
      const big = BigInt(node.raw);
      if (big > I64_MAX || big < I64_MIN) throw new SerdeError('invalid value: integer out of range, expected i64');
      return Number(big);
    }
    case 'value':
      return readValue(node, depth);
    case 'seq': {
      if (node.kind !== 'array') throw new SerdeError(`invalid type: ${unexpected(node)}, expected a sequence`);
      const inner = enter(depth);
      return node.items.map((item) => read(item, shape.item, inner));
    }
    case 'map': {
      if (node.kind !== 'object') throw new SerdeError(`invalid type: ${unexpected(node)}, expected a map`);
      const inner = enter(depth);
      const out: Record<string, unknown> = {};
      for (const [key, value] of node.entries) {
        const v = read(value, shape.value, inner);
        Object.defineProperty(out, checkString(key), {
          value: v,
          enumerable: true,
          writable: true,
          configurable: true,
        });
      }
      return out;
    }
    case 'struct':
      return readStruct(node, shape, depth);
  }
}

function readStruct(node: JsonNode, shape: Extract<SerdeShape, { type: 'struct' }>, depth: number): unknown {
  const names = Object.keys(shape.fields);
  const out: Record<string, unknown> = {};
  if (node.kind === 'array' && !shape.flattenRest) {
    const inner = enter(depth);
    names.forEach((name, i) => {
      const item = node.items[i];
      if (item === undefined)
        throw new SerdeError(`invalid length ${i}, expected struct ${shape.name} with ${names.length} elements`);
      out[name] = read(item, shape.fields[name]!, inner);
    });
    if (node.items.length > names.length) throw new SerdeError('trailing characters');
    return out;
  }
  if (node.kind !== 'object') throw new SerdeError(`invalid type: ${unexpected(node)}, expected struct ${shape.name}`);
  const inner = enter(depth);
  const seen = new Set<string>();
  for (const [key, value] of node.entries) {
    checkString(key);
    const field = Object.prototype.hasOwnProperty.call(shape.fields, key) ? shape.fields[key] : undefined;
    if (field) {
      if (seen.has(key)) throw new SerdeError(`duplicate field \`${key}\``);
      seen.add(key);
      out[key] = read(value, field, inner);
    } else if (shape.flattenRest) readValue(value, inner);
  }
  for (const name of names) {
    if (!seen.has(name) && shape.fields[name]!.type !== 'option') throw new SerdeError(`missing field \`${name}\``);
  }
  return out;
}

/** A whole value as serde_json captures it: every string checked, every container counted. */
function readValue(node: JsonNode, depth: number): unknown {
  switch (node.kind) {
    case 'null':
      return null;
    case 'bool':
      return node.value;
    case 'number':
      return node.value;
    case 'string':
      return checkString(node.value);
    case 'array': {
      const inner = enter(depth);
      return node.items.map((item) => readValue(item, inner));
    }
    case 'object': {
      const inner = enter(depth);
      const out: Record<string, unknown> = {};
      for (const [key, value] of node.entries) {
        const v = readValue(value, inner);
        Object.defineProperty(out, checkString(key), {
          value: v,
          enumerable: true,
          writable: true,
          configurable: true,
        });
      }
      return out;
    }
  }
}
