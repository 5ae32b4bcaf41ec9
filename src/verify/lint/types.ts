/** What lint reports, and what it reads. */
import type { GuestFiles, ResourceSource } from '../inputs.js';

export interface LintFinding {
  code: string;
  /** Where: `policy.json transports.docker["reg/app"][0]`, `sigstore-config docker["reg"]`, … */
  where: string;
  problem: string;
  fix: string;
}

export interface LintInputs {
  policy: { bytes: Uint8Array; source: string };
  sigstoreConfig?: { bytes: Uint8Array; source: string };
  resources: ResourceSource;
  /** Without a rootfs, checks of guest files are skipped. */
  rootfs?: GuestFiles;
  /** Registry CA certificates the bundle gives the guest (PEM), by registry `host[:port]`. */
  registryCas?: Array<{ registry: string; pem: string; source: string }>;
  /** The `host[:port]` of every registry the bundle configures (credentials, CA, address). */
  registries?: string[];
  now?: Date;
}

export type AddFinding = (f: LintFinding) => void;

export const RUN_FIX =
  'the kata agent mounts a tmpfs on /run at boot, hiding anything staged there: put the file elsewhere (e.g. /etc/...), or use keyData / a kbs:/// keyPath';
