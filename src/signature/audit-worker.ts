/**
 * Worker thread of `auditSignaturesOnAllCores`. With an all-RSA keyring it receives the plain key index
 * and never loads openpgp.js; otherwise it parses the keyrings once (loading openpgp.js). Then it audits
 * the chunks it is sent.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { Keyring } from '../keys/index.js';
import { auditSignature, mergeKeyrings } from './audit.js';
import type { AuditWorkerData, AuditWorkerReply, AuditWorkerRequest } from './audit-parallel.js';
import { keyringFromPlainIndex } from './key-index.js';

const data = workerData as AuditWorkerData;
const scopes = data.scopes ? new Map(data.scopes) : undefined;

async function loadKeyring(): Promise<Keyring> {
  if (data.plainIndex) return keyringFromPlainIndex(data.plainIndex);
  const { readPublicKeyring } = await import('../keys/index.js');
  return mergeKeyrings(await Promise.all(data.keyrings.map((bytes) => readPublicKeyring(bytes, {}))));
}
const keyring = loadKeyring();

parentPort!.on('message', (request: AuditWorkerRequest) => {
  void (async () => {
    try {
      const ring = await keyring;
      const results = [];
      for (const sig of request.signatures) results.push(await auditSignature(sig, ring, scopes));
      parentPort!.postMessage({ id: request.id, results } satisfies AuditWorkerReply);
    } catch (e) {
      parentPort!.postMessage({ id: request.id, error: e instanceof Error ? e.message : String(e) } satisfies AuditWorkerReply);
    }
  })();
});
