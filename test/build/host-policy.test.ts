/**
 * Every rule form build writes, loaded by the real skopeo: the host twin (keys as base64 keyData)
 * with all six signedIdentity types and a cosign key parses; the guest policy's cosign keyData is
 * the PEM text image-rs wants, which containers/image cannot read (the documented divergence).
 */
import { generateKeyPairSync } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/run-cli.js';
import { skopeo } from '../helpers/skopeo.js';
import { copyExample } from './tree.js';

let example: string;
let work: string;

const IDENTITIES = [
  '{type: matchExact}',
  '{type: matchRepoDigestOrExact}',
  '{type: matchRepository}',
  '{type: exactReference, dockerReference: "registry.example.com:5000/demo/app:1.0"}',
  '{type: exactRepository, dockerRepository: registry.example.com:5000/demo/app}',
  '{type: remapIdentity, prefix: mirror.example.com/demo, signedPrefix: "registry.example.com:5000/demo"}',
];

beforeAll(async () => {
  example = await copyExample();
  work = path.dirname(example);
  const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  await fs.writeFile(path.join(example, 'cosign.pub'), publicKey.export({ type: 'spki', format: 'pem' }));
  const scopes = IDENTITIES.map(
    (id, i) =>
      `    "registry.example.com:5000/team${i}":\n      - {type: signedBy, keys: [example-public-key.asc], signedIdentity: ${id}}\n`,
  ).join('');
  await fs.writeFile(
    path.join(example, 'all-rules.yaml'),
    `policy:\n  default: [{type: reject}]\n  scopes:\n${scopes}    "*.example.org": [{type: insecureAcceptAnything}]\n    "quay.io/example/app":\n      - {type: sigstoreSigned, key: cosign.pub, signedIdentity: {type: matchRepository}}\n`,
  );
  const r = await runCli(['build', '-c', 'example/all-rules.yaml', '-o', 'out', '--host-config', 'host'], {
    cwd: work,
  });
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
});
afterAll(async () => {
  await fs.rm(work, { recursive: true, force: true });
});

/** skopeo loads the policy before it opens the source: a missing source proves the policy parsed. */
async function loadPolicy(file: string) {
  return skopeo(['copy', `oci:${path.join(work, 'no-such-layout')}:1`, `dir:${path.join(work, 'x')}`], {
    policyFile: file,
  });
}

describe('policies under skopeo', () => {
  it('the host policy with every signedIdentity type and a cosign key loads', async () => {
    const r = await loadPolicy(path.join(work, 'host/policy.json'));
    expect(r.stderr).not.toContain('Error loading trust policy');
    expect(r.stderr).toContain('no-such-layout');
  });

  it('the guest policy carries the cosign key as PEM text, which containers/image cannot read', async () => {
    const text = await fs.readFile(path.join(work, 'out/default/security-policy/test'), 'utf8');
    expect(text).toContain('"keyData": "-----BEGIN PUBLIC KEY-----\\n');
    const r = await loadPolicy(path.join(work, 'out/default/security-policy/test'));
    expect(r.stderr).toContain('illegal base64 data');
  });
});
