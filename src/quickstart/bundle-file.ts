/** The quickstart's bundle.yaml, rendered from templates/quickstart/bundle.yaml. */
import { readFile } from 'node:fs/promises';
import { renderTemplate } from '../render/template.js';
import { BUNDLE_TEMPLATE, QUICKSTART_FILES, SAMPLE } from './layout.js';

export async function renderQuickstartBundle(): Promise<string> {
  const text = await readFile(BUNDLE_TEMPLATE, 'utf8');
  return renderTemplate('templates/quickstart/bundle.yaml', text, {
    image: SAMPLE.image,
    repository: SAMPLE.kbsRepository,
    tag: SAMPLE.kbsTag,
    registry: SAMPLE.registry,
    publicKeyFile: QUICKSTART_FILES.publicKey,
    guestStore: SAMPLE.guestStore,
    signatureStore: QUICKSTART_FILES.store,
    username: SAMPLE.username,
    passwordFile: QUICKSTART_FILES.password,
    caFile: QUICKSTART_FILES.ca,
    address: SAMPLE.address,
  });
}
