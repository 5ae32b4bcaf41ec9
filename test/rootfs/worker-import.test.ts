/** The library loads inside a worker thread (audit and the benches use workers; process.umask() can't be set there). */
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { expect, it } from 'vitest';
import { REPO_ROOT } from '../helpers/paths.js';

it('imports the built library in a worker thread', async () => {
  const entry = pathToFileURL(path.join(REPO_ROOT, 'dist/index.js')).href;
  const code = `const { parentPort } = require('node:worker_threads');
import(${JSON.stringify(entry)}).then((m) => parentPort.postMessage('loaded ' + typeof m.stageRootfs), (e) => parentPort.postMessage('failed: ' + e.message));`;
  const worker = new Worker(code, { eval: true });
  const message = await new Promise<string>((resolve) => worker.once('message', resolve));
  await worker.terminate();
  expect(message).toBe('loaded function');
});
