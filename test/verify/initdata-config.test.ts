import { describe, expect, it } from 'vitest';
import { initdataImageInputs } from '../../src/verify/initdata-config.js';
import type { GuestFiles, ResourceSource } from '../../src/verify/inputs.js';

const text = (b: Uint8Array | undefined) => (b ? Buffer.from(b).toString('utf8') : undefined);
const resources = (map: Record<string, string>): ResourceSource => ({
  get: (p) => Promise.resolve(map[p] !== undefined ? Buffer.from(map[p]) : undefined),
});
const files = (map: Record<string, string>): GuestFiles => ({
  readFile: (p) => Promise.resolve(map[p] !== undefined ? Buffer.from(map[p]) : undefined),
  listDir: () => Promise.resolve(undefined),
});

describe('initdataImageInputs: what the guest reads, as image-rs picks it', () => {
  it('URI over inline, a file:// URI from the guest, the credential from its URI', async () => {
    const r = await initdataImageInputs(
      {
        image_security_policy_uri: 'kbs:///a/security-policy/t',
        image_security_policy: '{"inline": true}',
        sigstore_config_uri: 'file:///etc/simple-signing.yaml',
        authenticated_registry_credentials_uri: 'kbs:///a/credential/t',
      },
      resources({ 'a/security-policy/t': '{"kbs": true}', 'a/credential/t': '{"auths": {}}' }),
      files({ '/etc/simple-signing.yaml': 'docker: {}\n' }),
      { file: 'init.toml' },
    );
    expect(text(r.policy.bytes)).toBe('{"kbs": true}');
    expect(r.policy.source).toBe('kbs:///a/security-policy/t');
    expect(text(r.sigstoreConfig?.bytes)).toBe('docker: {}\n');
    expect(text(r.credential?.bytes)).toBe('{"auths": {}}');
  });

  it('inline values when no URI is set; no sigstore config when neither is', async () => {
    const r = await initdataImageInputs({ image_security_policy: '{"default": []}\n' }, resources({}), files({}), {});
    expect(text(r.policy.bytes)).toBe('{"default": []}\n');
    expect(r.policy.source).toBe('initdata cdh.toml image.image_security_policy');
    expect(r.sigstoreConfig).toBeUndefined();
    expect(r.credential).toBeUndefined();
  });
});
