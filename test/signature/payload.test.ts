import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.js';
import { buildPayload, manifestDigest, parsePayload, SignatureError } from '../../src/signature/index.js';
import { CI_FIXTURES } from '../helpers/paths.js';

const D = 'sha256:20bf21ed457b390829cdbeec8795a7bea1626991fda603e0d01b4e7f60427e55';
const body = (critical: string, optional = '{}') => `{"critical":${critical},"optional":${optional}}`;
const CRIT = `{"type":"atomic container signature","image":{"docker-manifest-digest":"${D}"},"identity":{"docker-reference":"r/x:1"}}`;

function reason(text: string, mode: 'host' | 'guest'): string {
  try {
    parsePayload(Buffer.from(text), mode);
  } catch (e) {
    expect(e).toBeInstanceOf(SignatureError);
    expect((e as SignatureError).code).toBe('E_SIG_PAYLOAD');
    return (e as SignatureError).reason;
  }
  return 'accepted';
}

describe('buildPayload', () => {
  it('writes compact JSON with sorted keys and no trailing newline, as containers/image does', () => {
    const bytes = buildPayload({
      dockerReference: 'docker.io/library/busybox:latest',
      manifestDigest: D,
      creator: 'kbs-bundler 0.1.0',
      timestamp: 1700000000,
    });
    expect(Buffer.from(bytes).toString()).toBe(
      `{"critical":{"identity":{"docker-reference":"docker.io/library/busybox:latest"},"image":{"docker-manifest-digest":"${D}"},"type":"atomic container signature"},"optional":{"creator":"kbs-bundler 0.1.0","timestamp":1700000000}}`,
    );
    expect(Buffer.from(buildPayload({ dockerReference: 'a/b:c', manifestDigest: D })).toString()).toMatch(
      /"optional":\{\}\}$/,
    );
    expect(Buffer.from(buildPayload({ dockerReference: 'a', manifestDigest: D, creator: '<&>' })).toString()).toContain(
      '"creator":"\\u003c\\u0026\\u003e"',
    );
  });

  it('refuses empty content and a fractional timestamp', () => {
    expect(() => buildPayload({ dockerReference: '', manifestDigest: D })).toThrow(InputError);
    expect(() => buildPayload({ dockerReference: 'a', manifestDigest: D, timestamp: 1.5 })).toThrow(InputError);
  });

  it('round-trips through both parsers', () => {
    const bytes = buildPayload({ dockerReference: 'q.io/a/b:1', manifestDigest: D, creator: 'c', timestamp: 5 });
    const expected = {
      dockerReference: 'q.io/a/b:1',
      manifestDigest: D,
      type: 'atomic container signature',
      creator: 'c',
      timestamp: 5,
    };
    expect(parsePayload(bytes, 'host')).toEqual(expected);
    expect(parsePayload(bytes, 'guest')).toEqual(expected);
  });
});

describe('parsePayload host (containers/image paranoid rules)', () => {
  it('accepts surrounding whitespace and integral timestamps written as 1.0 or 1e3', () => {
    expect(parsePayload(Buffer.from(` ${body(CRIT, '{"timestamp":1e3}')}\n`), 'host').timestamp).toBe(1000);
    expect(parsePayload(Buffer.from(body(CRIT, '{"timestamp":1.0,"extra":[1,{"a":2}]}')), 'host').timestamp).toBe(1);
  });

  it.each([
    ['This is not JSON\n', 'invalid character at line 1, column 1 looking for beginning of value'],
    [`\ufeff${body(CRIT)}`, 'invalid character at line 1, column 1 looking for beginning of value'],
    [body(CRIT, '{"timestamp":1.5}'), 'Field optional.timestamp is not an integer'],
    [body(CRIT, '{"timestamp":"1"}'), 'json: cannot unmarshal string into Go value of type float64'],
    [body(CRIT, '{"creator":1}'), 'json: cannot unmarshal number into Go value of type string'],
    [body(CRIT, '{"creator":"a","creator":"b"}'), 'Duplicate key "creator"'],
    [`{"critical":${CRIT},"critical":${CRIT},"optional":{}}`, 'Duplicate key "critical"'],
    [`{"critical":${CRIT}}`, 'Key "optional" missing in a JSON object'],
    [`{"critical":${CRIT},"optional":{},"x":1}`, 'Unknown key "x"'],
    [body(CRIT, 'null'), 'JSON object expected, got <nil>'],
    [body(CRIT.replace('"type"', '"type":"x","extra":1,"t"')), 'Unknown key "extra"'],
    [body(CRIT.replace('atomic container signature', 'other')), 'Unrecognized signature type other'],
    [body(CRIT.replace('"identity"', '"identity":{"docker-reference":"a"},"identity"')), 'Duplicate key "identity"'],
    [
      body(CRIT.replace(D, 'sha256:ABC')),
      'invalid docker-manifest-digest value "sha256:ABC": invalid checksum digest length',
    ],
    [body(CRIT.replace('"docker-reference":"r/x:1"', '"docker-reference":"r/x:1","x":2')), 'Unknown key "x"'],
    [
      body(`{"type":"atomic container signature","image":{"docker-manifest-digest":"${D}"}}`),
      'Key "identity" missing in a JSON object',
    ],
    ['[1]', "JSON object expected, got json.Delim('[')"],
  ])('%#: %s → %s', (text, expected) => {
    expect(reason(text, 'host')).toBe(expected);
  });
});

describe('parsePayload guest (image-rs serde rules)', () => {
  it('ignores extra fields, refuses a repeated field, does not check the type value, allows optional to be absent', () => {
    const crit = `{"type":"anything","extra":true,"extra":false,"image":{"docker-manifest-digest":"${D}"},"identity":{"docker-reference":"r/x:1","x":1}}`;
    expect(parsePayload(Buffer.from(`{"critical":${crit},"unknown":1}`), 'guest')).toEqual({
      dockerReference: 'r/x:1',
      manifestDigest: D,
      type: 'anything',
    });
    expect(reason(`{"critical":${crit.replace('"anything"', '"a","type":"b"')}}`, 'guest')).toBe(
      'duplicate field `type`',
    );
    expect(parsePayload(Buffer.from(body(CRIT, 'null')), 'guest').creator).toBeUndefined();
    expect(
      parsePayload(Buffer.from(body(CRIT, '{"creator":null,"timestamp":null,"x":[]}')), 'guest').timestamp,
    ).toBeUndefined();
  });

  it.each([
    ['This is not JSON\n', 'expected value at line 1 column 1'],
    [body(CRIT.replace('"atomic container signature"', '1')), 'invalid type: integer, expected a string'],
    [body(CRIT, '{"timestamp":1.0}'), 'invalid type: floating point, expected i64'],
    [body(CRIT, '{"timestamp":"1"}'), 'invalid type: string, expected i64'],
    [`{"optional":{}}`, 'missing field `critical`'],
    [body(`{"image":{"docker-manifest-digest":"${D}"},"identity":{"docker-reference":"a"}}`), 'missing field `type`'],
  ])('%s → %s', (text, expected) => {
    expect(reason(text, 'guest')).toBe(expected);
  });

  it('refuses a body that is not UTF-8', () => {
    expect(reason(Buffer.from([0x7b, 0xff, 0x7d]) as unknown as string, 'guest')).toBe(
      'Signature body is not valid UTF-8',
    );
  });
});

describe('manifestDigest', () => {
  it('is sha256 of the bytes for schema2', () => {
    expect(manifestDigest(readFileSync(path.join(CI_FIXTURES, 'image.manifest.json')))).toBe(D);
  });

  it('strips schema1 JWS signatures as libtrust does', () => {
    const unsigned = '{\n   "schemaVersion": 1,\n   "name": "a/b",\n   "tag": "1"\n}';
    const formatLength = unsigned.length - 2; // up to (not including) the final "\n}"
    const tail = unsigned.slice(formatLength);
    const protectedHeader = Buffer.from(
      JSON.stringify({ formatLength, formatTail: Buffer.from(tail).toString('base64url'), time: 'x' }),
    ).toString('base64url');
    const signed = `${unsigned.slice(0, formatLength)},\n   "signatures": [{"header": {}, "signature": "x", "protected": "${protectedHeader}"}]${tail}`;
    expect(manifestDigest(Buffer.from(signed))).toBe(`sha256:${createHash('sha256').update(unsigned).digest('hex')}`);
  });

  it('errors on v2s1-invalid-signatures.manifest.json', () => {
    expect(() =>
      manifestDigest(readFileSync(path.join(CI_FIXTURES, 'v2s1-invalid-signatures.manifest.json')), { file: 'm.json' }),
    ).toThrow(InputError);
  });
});
