/** Worker thread of `auditSignaturesOnAllCores`: parses the keyrings once, then audits the chunks it is sent. */
import { parentPort, workerData } from 'node:worker_threads';
import { readPublicKeyring } from '../keys/index.js';
import { auditSignature, mergeKeyrings } from './audit.js';
import type { AuditWorkerData, AuditWorkerReply, AuditWorkerRequest } from './audit-parallel.js';

const data = workerData as AuditWorkerData;
const scopes = data.scopes ? new Map(data.scopes) : undefined;
const keyring = Promise.all(data.keyrings.map((bytes) => readPublicKeyring(bytes, {}))).then(mergeKeyrings);

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
