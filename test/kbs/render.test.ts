/** The policy and credential resources: pretty JSON (two spaces, a final newline), written byte for byte. */
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Bundle } from '../../src/bundle/types.js';
import { writeTree } from '../../src/kbs/layout.js';
import { renderResources } from '../../src/kbs/render.js';

const POLICY = {
  default: [{ type: 'reject' }],
  transports: {
    docker: {
      'registry.example.com:5000/team': [
        { type: 'signedBy', keyType: 'GPGKeys', keyData: 'AAEC', signedIdentity: { type: 'matchRepository' } },
      ],
      'quay.io/é€': [],
    },
  },
};

const POLICY_TEXT = `{
  "default": [
    {
      "type": "reject"
    }
  ],
  "transports": {
    "docker": {
      "registry.example.com:5000/team": [
        {
          "type": "signedBy",
          "keyType": "GPGKeys",
          "keyData": "AAEC",
          "signedIdentity": {
            "type": "matchRepository"
          }
        }
      ],
      "quay.io/é€": []
    }
  }
}
`;

function bundle(): Bundle {
  return {
    file: 'bundle.yaml',
    repository: 'default',
    tag: 'test',
    policy: POLICY,
    sigstoreConfig: {},
    registries: [{ registry: 'r.example.com:5000', username: 'user', passwordEnv: 'PW' }],
    keyResources: [],
  } as unknown as Bundle;
}

describe('renderResources', () => {
  it('writes the policy as two-space JSON with a final newline, UTF-8, the same bytes every time', async () => {
    const first = await renderResources(bundle(), { env: { PW: 'pässwörd' } });
    const again = await renderResources(bundle(), { env: { PW: 'pässwörd' } });
    const policy = first.find((r) => r.id.type === 'security-policy')!;
    expect(Buffer.from(policy.bytes).toString('utf8')).toBe(POLICY_TEXT);
    expect(again.map((r) => Buffer.from(r.bytes))).toEqual(first.map((r) => Buffer.from(r.bytes)));
  });

  it('writes the credential as {"auths": …} JSON, mode 0600, and the files with their modes', async () => {
    const resources = await renderResources(bundle(), { env: { PW: 'pässwörd' } });
    const credential = resources.find((r) => r.id.type === 'credential')!;
    const auth = Buffer.from('user:pässwörd', 'utf8').toString('base64');
    expect(Buffer.from(credential.bytes).toString('utf8')).toBe(
      `{\n  "auths": {\n    "r.example.com:5000": {\n      "auth": "${auth}"\n    }\n  }\n}\n`,
    );
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'kbsb-render-'));
    try {
      await writeTree(dir, resources, 'nested');
      expect(await fs.readFile(path.join(dir, 'default/security-policy/test'), 'utf8')).toBe(POLICY_TEXT);
      expect((await fs.stat(path.join(dir, 'default/security-policy/test'))).mode & 0o777).toBe(0o644);
      expect((await fs.stat(path.join(dir, 'default/credential/test'))).mode & 0o777).toBe(0o600);
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });
});
