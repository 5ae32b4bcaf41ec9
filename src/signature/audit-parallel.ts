/**
 * `audit` on every core: signatures are verified in worker threads, each holding its own parsed copy of
 * the keyrings (parsed once per worker), in chunks so that progress stays live. Results come back in
 * store order. Small stores are not worth the worker start-up and stay in-process.
 */
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { Keyring } from '../keys/index.js';
import { assembleReport, auditSignatures, mergeKeyrings, type AuditedSignature, type AuditReport } from './audit.js';
import { plainKeyIndex, type PlainKeyEntry } from './key-index.js';
import type { StoredSignature } from './store.js';

export interface ParallelAuditOptions {
  onProgress?: (done: number, total: number) => void;
  scopesByFingerprint?: Map<string, string[]>;
  /** Worker threads; default: one per core. 1 = in-process. */
  workers?: number;
  /** Below this many signatures, verify in-process (workers cost ~100 ms each to start). Default 1000. */
  minForWorkers?: number;
}

export interface AuditWorkerData {
  keyrings: Uint8Array[];
  /** Set when every key is RSA: the worker then needs no openpgp.js. */
  plainIndex?: PlainKeyEntry[];
  scopes?: Array<[string, string[]]>;
}
export interface AuditWorkerRequest {
  id: number;
  signatures: StoredSignature[];
}
export interface AuditWorkerReply {
  id: number;
  results?: AuditedSignature[];
  error?: string;
}

const CHUNK = 64;
const WORKER_URL = new URL('./audit-worker.js', import.meta.url);

export async function auditSignaturesOnAllCores(signatures: readonly StoredSignature[], keyrings: readonly Keyring[], options: ParallelAuditOptions = {}): Promise<AuditReport> {
  const workers = Math.max(1, Math.min(options.workers ?? availableParallelism(), Math.ceil(signatures.length / CHUNK)));
  // The worker is compiled JavaScript; when running from TypeScript sources it does not exist.
  if (workers === 1 || signatures.length < (options.minForWorkers ?? 1000) || !existsSync(fileURLToPath(WORKER_URL))) {
    return auditSignatures(signatures, mergeKeyrings(keyrings), options.onProgress, options.scopesByFingerprint);
  }
  const plainIndex = await plainKeyIndex(mergeKeyrings(keyrings));
  const data: AuditWorkerData = {
    keyrings: keyrings.map((k) => k.bytes),
    ...(plainIndex ? { plainIndex } : {}),
    ...(options.scopesByFingerprint ? { scopes: [...options.scopesByFingerprint] } : {}),
  };
  const results: AuditedSignature[] = new Array(signatures.length);
  let next = 0;
  let done = 0;
  const pool = Array.from({ length: workers }, () => new Worker(WORKER_URL, { workerData: data }));
  try {
    await Promise.all(
      pool.map(
        (worker) =>
          new Promise<void>((resolve, reject) => {
            const send = () => {
              if (next >= signatures.length) {
                resolve();
                return;
              }
              const id = next;
              next += CHUNK;
              worker.postMessage({ id, signatures: signatures.slice(id, id + CHUNK) } satisfies AuditWorkerRequest);
            };
            worker.on('message', (reply: AuditWorkerReply) => {
              if (reply.error !== undefined || !reply.results) {
                reject(new Error(`audit worker: ${reply.error ?? 'no results'}`));
                return;
              }
              reply.results.forEach((r, i) => (results[reply.id + i] = r));
              done += reply.results.length;
              options.onProgress?.(done, signatures.length);
              send();
            });
            worker.on('error', reject);
            send();
          }),
      ),
    );
  } finally {
    await Promise.all(pool.map((w) => w.terminate()));
  }
  return assembleReport(signatures, results);
}
