import { execFileSync } from 'node:child_process';
import { parse as parseToml } from 'smol-toml';
import { describe, expect, it } from 'vitest';
import {
  KBS_URL_PLACEHOLDER,
  decodeInitdata,
  encodeInitdata,
  initdataAnnotationValue,
  registryCaCertificates,
  renderInitdata,
} from '../../src/render/initdata.js';
import { InputError } from '../../src/errors.js';

const PEM_A = '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----';
const PEM_B = '-----BEGIN CERTIFICATE-----\nBBBB\n-----END CERTIFICATE-----';

const bundle = (registries: Array<{ registry: string; username?: string; caPem?: string }>) => ({
  repository: 'default',
  tag: 'test',
  registries,
});

describe('renderInitdata (domain)', () => {
  it('writes an empty extra_root_certificates list when no registry has a CA', async () => {
    const { toml } = await renderInitdata(bundle([]), { kbsUrl: 'http://kbs:8080' });
    const cdh = parseToml((parseToml(toml).data as Record<string, string>)['cdh.toml'] ?? '') as {
      image: Record<string, unknown>;
    };
    expect(cdh.image.extra_root_certificates).toEqual([]);
    expect(cdh.image.authenticated_registry_credentials_uri).toBeUndefined();
  });

  it('splits CA files into single certificates, dedupes them, CRLF normalised, sorted by registry', () => {
    const certs = registryCaCertificates(
      bundle([
        { registry: 'z.example', caPem: `${PEM_B}\r\n${PEM_A}\r\n` },
        { registry: 'a.example', caPem: `junk before\n${PEM_A}\n` },
      ]),
    );
    expect(certs).toEqual([`${PEM_A}\n`, `${PEM_B}\n`]);
  });

  it('leaves the placeholder and says so when no KBS URL is given', async () => {
    const { toml, notes } = await renderInitdata(bundle([{ registry: 'r.example', username: 'u' }]));
    const cdh = parseToml((parseToml(toml).data as Record<string, string>)['cdh.toml'] ?? '') as {
      kbc: { url: string };
      image: Record<string, unknown>;
    };
    expect(cdh.kbc.url).toBe(KBS_URL_PLACEHOLDER);
    expect(cdh.image.authenticated_registry_credentials_uri).toBe('kbs:///default/credential/test');
    expect(notes).toEqual([expect.stringContaining('no --kbs-url given')]);
  });
});

describe('initdata encoding', () => {
  it('encodes as base64 of gzip (what `base64 -d | gzip -d` reads back), the same text every time', () => {
    const text = 'version = "0.1.0"\n[data]\n"policy.rego" = "package agent_policy"\n';
    const encoded = encodeInitdata(text);
    expect(encoded).toMatch(/^H4sI[A-Za-z0-9+/]+=*$/);
    expect(encodeInitdata(text)).toBe(encoded);
    expect(execFileSync('sh', ['-c', 'base64 -d | gzip -d'], { input: encoded }).toString('utf8')).toBe(text);
  });

  it('decodes what `gzip | base64` made', () => {
    const text = 'version = "0.1.0"\nalgorithm = "sha384"\n[data]\n';
    const encoded = execFileSync('sh', ['-c', 'gzip -9n | base64 -w0'], { input: text }).toString('ascii');
    expect(decodeInitdata(encoded)).toBe(text);
  });

  it('takes a file holding plain TOML or an encoded value (wrapped lines allowed), and refuses anything else', () => {
    const text = 'version = "0.1.0"\nalgorithm = "sha256"\n[data]\n';
    const encoded = encodeInitdata(text);
    expect(initdataAnnotationValue(Buffer.from(text), { file: 'f' })).toBe(encoded);
    expect(initdataAnnotationValue(Buffer.from(`${encoded.slice(0, 10)}\n${encoded.slice(10)}\n`), { file: 'f' })).toBe(
      encoded,
    );
    expect(() => initdataAnnotationValue(Buffer.from('H4sIAAAAbroken'), { file: 'f' })).toThrow(InputError);
    expect(() => initdataAnnotationValue(Buffer.from('H4sIAAAAbroken'), { file: 'f' })).toThrow(
      'f: looks like gzip+base64 initdata but does not decompress',
    );
  });
});
