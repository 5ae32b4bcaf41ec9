/**
 * Worker thread of `audit` (see parallel.ts). It receives the plain key
 * index and never loads openpgp.js (without one it parses the keyrings once, loading openpgp.js). It says
 * `ready` once its keyring is built, then judges the packed chunks it is sent and answers each with the
 * flat findings (wire.ts), or `failed` (the main thread then judges that chunk itself).
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { Keyring } from '../keys/index.js';
import { auditFinding, mergeKeyrings, type AuditFinding } from './audit.js';
import type { AuditWorkerData, AuditWorkerReply, AuditWorkerRequest } from './parallel.js';
import { chunkBlob, encodeFindings } from './wire.js';
import { keyringFromPlainIndex } from '../openpgp/key-index.js';

const data = workerData as AuditWorkerData;
const port = parentPort!;

async function loadKeyring(): Promise<Keyring> {
  if (data.plainIndex) return keyringFromPlainIndex(data.plainIndex);
  const { readPublicKeyring } = await import('../keys/index.js');
  return mergeKeyrings(await Promise.all(data.keyrings.map((bytes) => readPublicKeyring(bytes, {}))));
}

loadKeyring().then(
  (keyring) => {
    const judge = async (request: AuditWorkerRequest) => {
      try {
        const findings = new Array<AuditFinding>(request.chunk.digests.length);
        for (let i = 0; i < findings.length; i++)
          findings[i] = await auditFinding(chunkBlob(request.chunk, i), request.chunk.digests[i]!, keyring);
        port.postMessage({ id: request.id, findings: encodeFindings(findings) } satisfies AuditWorkerReply);
      } catch {
        // The main thread judges this chunk again itself and throws the error as an in-process audit would.
        port.postMessage({ id: request.id, failed: true } satisfies AuditWorkerReply);
      }
    };
    // One chunk after the other (not interleaved at each await), so that each is answered as early as possible.
    let queue = Promise.resolve();
    port.on('message', (request: AuditWorkerRequest) => {
      queue = queue.then(() => judge(request));
    });
    port.postMessage({ ready: true } satisfies AuditWorkerReply);
  },
  () => port.postMessage({ failed: true } satisfies AuditWorkerReply),
);
