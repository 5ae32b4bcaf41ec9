/** `quickstart --dry-run`: whether the directory may be used, and what a run would write into it. */
import * as path from 'node:path';
import { readFileIfExists } from '../util/atomic.js';
import { QUICKSTART_FILES } from './layout.js';
import { checkTargetDir, type TargetState } from './target-dir.js';

export interface QuickstartPlan {
  dir: string;
  target: TargetState;
  writes: Array<{ path: string; what: string }>;
}

export async function planQuickstart(options: { dir: string; force?: boolean }): Promise<QuickstartPlan> {
  const target = await checkTargetDir(options.dir, Boolean(options.force));
  const at = (name: string) => path.join(options.dir, name);
  const keyExists =
    target === 'previous' || target === 'forced'
      ? (await readFileIfExists(at(QUICKSTART_FILES.secretKey))) !== undefined
      : false;
  const writes: QuickstartPlan['writes'] = [
    { path: at(QUICKSTART_FILES.marker), what: 'marks the directory as quickstart output' },
    ...(keyExists
      ? []
      : [
          {
            path: at(QUICKSTART_FILES.secretKey),
            what: 'new RSA 3072 secret key, mode 0600, no passphrase (example only)',
          },
        ]),
    { path: at(QUICKSTART_FILES.publicKey), what: 'its public key' },
    { path: at(QUICKSTART_FILES.manifest), what: 'the sample image manifest' },
    { path: at(QUICKSTART_FILES.tampered), what: 'a tampered copy of it' },
    { path: at(QUICKSTART_FILES.store), what: 'lookaside signature store with the signature of the sample' },
    { path: at(QUICKSTART_FILES.password), what: 'generated example registry password, mode 0600 (kept if present)' },
    { path: at(QUICKSTART_FILES.ca), what: 'the example registry CA certificate' },
    { path: at(QUICKSTART_FILES.bundle), what: 'bundle.yaml from templates/quickstart/bundle.yaml' },
    { path: at(QUICKSTART_FILES.kbs), what: 'KBS repository, nested layout (replaced as a whole)' },
    { path: at(QUICKSTART_FILES.rootfs), what: 'guest rootfs directory, staged' },
  ];
  return { dir: options.dir, target, writes };
}
