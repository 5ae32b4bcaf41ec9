/**
 * A TLS + htpasswd registry holding one image, and a bundle.yaml in `work` that accepts that image and
 * names the registry's credential (passwordFile) and CA (caFile), as an operator would write it.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { buildOciImage } from './oci-image.js';
import type { TestRegistry } from './registry.js';
import { pushImage } from './skopeo.js';

/** Pushes `demo/app:1.0` to `registry`, writes `work/{password,ca.crt,bundle.yaml}`; returns the image reference. */
export async function pushImageWithBundle(work: string, registry: TestRegistry): Promise<string> {
  const oci = await buildOciImage(path.join(work, 'layout'));
  const { reference } = await pushImage({ ociRef: oci, registry, dest: 'demo/app:1.0' });
  await fs.writeFile(path.join(work, 'password'), `${registry.password}\n`);
  await fs.copyFile(registry.caFile, path.join(work, 'ca.crt'));
  await fs.writeFile(
    path.join(work, 'bundle.yaml'),
    [
      'policy:',
      '  default: [{type: reject}]',
      '  scopes:',
      `    "${registry.host}/demo": [{type: insecureAcceptAnything}]`,
      'registries:',
      `  "${registry.host}":`,
      `    username: ${registry.username}`,
      '    passwordFile: password',
      '    caFile: ca.crt',
      '',
    ].join('\n'),
  );
  return reference;
}
