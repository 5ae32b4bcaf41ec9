/** The sigstore config as both sides read it: entries the guest cannot parse, stores it cannot reach. */
import type { SigstoreConfig } from '../../lookaside/schema.js';
import { parseSigstoreConfig } from '../sigstore-config.js';
import { RUN_FIX, type AddFinding, type LintInputs } from './types.js';

/** Reports the config's problems; returns it as the guest reads it (undefined when it cannot). */
export function lintSigstoreConfig(inputs: LintInputs, add: AddFinding): SigstoreConfig | undefined {
  let sigstore: SigstoreConfig | undefined;
  if (inputs.sigstoreConfig) {
    const g = parseSigstoreConfig(inputs.sigstoreConfig.bytes, 'guest');
    const h = parseSigstoreConfig(inputs.sigstoreConfig.bytes, 'host');
    if (g.ok) sigstore = g.config;
    else if (h.ok) {
      add({
        code: 'L_LOOKASIDE_ONLY',
        where: inputs.sigstoreConfig.source,
        problem: `the guest cannot read the sigstore config (${g.reason}: ${g.detail ?? ''}); image-rs reads only the sigstore: key and requires it in every entry, so a lookaside:-only entry makes every pull fail`,
        fix: 'write sigstore: <file:// base> in every entry (keep lookaside: beside it for hosts)',
      });
    } else
      add({
        code: 'L_SIGSTORE_CONFIG_INVALID',
        where: inputs.sigstoreConfig.source,
        problem: g.detail ? `${g.reason}: ${g.detail}` : g.reason,
        fix: 'write valid registries.d YAML',
      });
    if (h.ok) {
      const entries = [
        ['default-docker', h.config['default-docker']] as const,
        ...Object.entries(h.config.docker ?? {}).map(([k, v]) => [`docker[${JSON.stringify(k)}]`, v] as const),
      ];
      for (const [where, e] of entries) {
        if (!e) continue;
        const url = e.sigstore;
        if (url && !url.startsWith('file://')) {
          add({
            code: 'L_HTTP_STORE',
            where: `${inputs.sigstoreConfig.source} ${where}`,
            problem: `sigstore: ${url} is not file://: image-rs fails with "HTTP support for signature stores is not implemented."`,
            fix: 'stage the signatures into the guest rootfs and point sigstore: at that file:// directory',
          });
        }
        if (url?.startsWith('file:///run/')) {
          add({
            code: 'L_RUN_PATH',
            where: `${inputs.sigstoreConfig.source} ${where}`,
            problem: `signature store ${url} is under /run`,
            fix: RUN_FIX,
          });
        }
        if (e.sigstore && e.lookaside && e.sigstore !== e.lookaside) {
          add({
            code: 'L_STORE_SPLIT',
            where: `${inputs.sigstoreConfig.source} ${where}`,
            problem: `the guest reads sigstore: ${e.sigstore}, the host reads lookaside: ${e.lookaside}`,
            fix: 'point both at the same signatures, or accept that guest and host check different stores',
          });
        }
      }
    }
  }

  return sigstore;
}
