import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { caLeafProblem } from '../../src/registry/ca-check.js';
import { renderInitdata } from '../../src/render/initdata.js';
import { makeCertificates, makeSelfSignedCaLeaf } from '../helpers/certs.js';

describe('caLeafProblem', () => {
  let tmp: string;
  let guideStyle: string;
  let properCa: string;
  let properLeaf: string;
  beforeAll(async () => {
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'kbsb-cacheck-'));
    const a = await makeSelfSignedCaLeaf(path.join(tmp, 'a'), { sans: ['DNS:registry.example.com', 'IP:127.0.0.1'] });
    const b = await makeCertificates(path.join(tmp, 'b'), { sans: ['DNS:registry.example.com'] });
    guideStyle = await fs.readFile(a.caFile, 'utf8');
    properCa = await fs.readFile(b.caFile, 'utf8');
    properLeaf = await fs.readFile(b.certFile, 'utf8');
  });
  afterAll(async () => {
    await fs.rm(tmp, { recursive: true, force: true });
  });

  it('flags a self-signed CA:TRUE certificate that names the registry (by name or IP)', () => {
    expect(caLeafProblem(guideStyle, 'registry.example.com:5000')).toContain('CaUsedAsEndEntity');
    expect(caLeafProblem(guideStyle, '127.0.0.1:5000')).toContain('naming 127.0.0.1 itself');
  });

  it('accepts a real CA, a CA:FALSE leaf, and a guide-style certificate for another host', () => {
    expect(caLeafProblem(properCa, 'registry.example.com:5000')).toBeUndefined();
    expect(caLeafProblem(properLeaf, 'registry.example.com:5000')).toBeUndefined();
    expect(caLeafProblem(guideStyle, 'other.example.com')).toBeUndefined();
    expect(caLeafProblem('not a pem', 'registry.example.com')).toBeUndefined();
  });

  it('render initdata notes it', async () => {
    const { notes } = await renderInitdata(
      {
        repository: 'default',
        tag: 'test',
        registries: [{ registry: 'registry.example.com:5000', caPem: guideStyle }],
      },
      { kbsUrl: 'http://kbs:8080' },
    );
    expect(notes.some((n) => n.includes('CaUsedAsEndEntity'))).toBe(true);
  });
});
