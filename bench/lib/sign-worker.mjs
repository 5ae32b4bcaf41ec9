/** Worker thread for dataset.mjs: signs images [from, to) with the library's signImage. */
import { parentPort, workerData } from 'node:worker_threads';
import { manifestDigest, readSecretKey, signImage } from '../../dist/index.js';
import { manifestOf, REGISTRY, repositoryOf, SIGNED_AT } from './images.mjs';

const { secretArmored, from, to } = workerData;
const key = await readSecretKey(new TextEncoder().encode(secretArmored), undefined, { file: 'bench-key' });
const out = [];
for (let i = from; i < to; i++) {
  const blob = await signImage({
    key,
    dockerReference: `${REGISTRY}/${repositoryOf(i)}:1.0`,
    manifestDigest: manifestDigest(manifestOf(i)),
    creator: 'kbs-bundler bench',
    timestamp: SIGNED_AT,
  });
  out.push(Buffer.from(blob).toString('base64'));
}
parentPort.postMessage(out);
