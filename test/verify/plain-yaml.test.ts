/** The yaml-free reader of plain sigstore configs answers only where it equals the yaml package. */
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { parsePlainSigstoreYaml } from '../../src/verify/plain-yaml.js';
import { parseSigstoreConfig } from '../../src/verify/sigstore-config.js';

const PLAIN = [
  'default-docker:\n  sigstore: file:///var/lib/containers/sigstore\ndocker: {}\n',
  'default-docker:\n  sigstore: file:///var/lib/containers/sigstore\n',
  'docker:\n  registry.example.com:5000:\n    sigstore: file:///var/lib/containers/sigstore\n  quay.io/team/app:\n    sigstore: https://sigstore.example.com/sigs\n',
  'default-docker:\n  sigstore: file:///a\ndocker:\n  r.example.com:\n    sigstore: file:///b\n',
];

const OTHERS = [
  '',
  'default-docker:\n  sigstore: file:///a # comment\n',
  'default-docker:\n  sigstore: "file:///a"\n',
  'default-docker:\n  sigstore: file:///a\ndefault-docker:\n  sigstore: file:///b\n',
  'docker:\n  true:\n    sigstore: file:///a\n',
  'docker:\n  Null:\n    sigstore: file:///a\n',
  'docker:\n  10.0.0.1:5000:\n    sigstore: file:///a\n',
  'docker:\n  a.example.com:\n    sigstore: file:///a\n  a.example.com:\n    sigstore: file:///b\n',
  'docker:\n',
  'default-docker:\n  sigstore: file:///a\r\n',
  'default-docker:\n    sigstore: file:///a\n',
  'default-docker:\n  lookaside: file:///a\n',
  'default-docker:\n  sigstore: null\n',
  'default-docker:\n  sigstore: file:///a b\n',
  'default-docker: {sigstore: file:///a}\n',
  'docker:\n  __proto__:\n    sigstore: file:///a\n',
  'default-docker:\n  sigstore: file:///a\n\n',
];

describe('parsePlainSigstoreYaml', () => {
  it('reads the plain form exactly as the yaml package does', () => {
    for (const doc of PLAIN) {
      expect(parsePlainSigstoreYaml(doc), doc).toBeDefined();
      expect(parsePlainSigstoreYaml(doc), doc).toEqual(parse(doc));
    }
  });

  it('declines everything else (the yaml package decides)', () => {
    for (const doc of OTHERS) expect(parsePlainSigstoreYaml(doc), JSON.stringify(doc)).toBeUndefined();
  });

  it('gives parseSigstoreConfig the same results on both sides either way', () => {
    for (const doc of [...PLAIN, ...OTHERS]) {
      for (const side of ['guest', 'host'] as const) {
        const viaYaml = (() => {
          try {
            return { ok: true, value: parse(doc) ?? {} };
          } catch {
            return { ok: false };
          }
        })();
        const result = parseSigstoreConfig(new TextEncoder().encode(doc), side);
        if (!viaYaml.ok) expect(result.ok).toBe(false);
        if (parsePlainSigstoreYaml(doc)) expect(result.ok).toBe(true);
      }
    }
  });
});
