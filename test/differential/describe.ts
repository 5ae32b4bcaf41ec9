/** A case as a reader needs it: the files, with key and signature bytes named instead of shown. */
import { KEY_DATA_LABELS, policyText, sigstoreText, type Case } from './generate.js';

export function describeCase(c: Case): string {
  let policy = policyText(c);
  for (const [data, label] of KEY_DATA_LABELS) policy = policy.split(data).join(`<base64 of ${label}>`);
  const lines = [
    `image:  ${c.image}`,
    `digest: ${c.digest}`,
    `policy.json${c.policyForm === 'json' ? '' : ` (${c.policyForm})`}:`,
    ...policy.split('\n').map((l) => `  ${l}`),
    c.sigstore ? 'sigstore config:' : 'sigstore config: none',
    ...(c.sigstore
      ? sigstoreText(c.sigstore)
          .trimEnd()
          .split('\n')
          .map((l) => `  ${l}`)
      : []),
    'rootfs files:',
    ...Object.entries(c.rootfs).map(([p, b]) => `  ${p}: ${b.label}`),
    'KBS resources:',
    ...Object.entries(c.kbs).map(([p, b]) => `  ${p}: ${b.label}`),
  ];
  return lines.join('\n');
}
