/**
 * A self-contained shell script that uploads the resources with kbs-client (`set-resource`).
 * Each resource travels inside the script as base64 and is decoded to a private temporary file,
 * so the script works wherever it is copied; it carries the credential, so it is written 0700.
 */
import type { KbsResource } from './render.js';
import { resourcePath } from '../resource-id/resource-id.js';

export const SCRIPT_MODE = 0o700;

export function kbsClientScript(resources: readonly KbsResource[]): string {
  const lines = [
    '#!/bin/sh',
    '# Upload the KBS resources of this bundle with kbs-client. Written by kbs-bundler build --kbs-client-script.',
    '# Usage: KBS_URL=http://kbs.example:8080 KBS_ADMIN_TOKEN=/path/to/admin-token sh <this script>',
    '#',
    '# trustee <= v0.20: kbs-client has no --admin-token-file; authenticate with the admin Ed25519 private key',
    '# instead, i.e. replace  config --admin-token-file "$KBS_ADMIN_TOKEN"  with',
    '#   config --auth-private-key "$KBS_AUTH_PRIVATE_KEY"',
    '# in the lines below.',
    'set -eu',
    ': "${KBS_URL:?set KBS_URL to the KBS address, e.g. http://kbs.example:8080}"',
    ': "${KBS_ADMIN_TOKEN:?set KBS_ADMIN_TOKEN to the admin token file}"',
    'umask 077',
    'tmp=$(mktemp -d)',
    'trap \'rm -rf "$tmp"\' EXIT',
  ];
  resources.forEach((r, i) => {
    const file = `"$tmp/${i + 1}"`;
    lines.push('', `# ${resourcePath(r.id)} (${r.bytes.length} bytes)`);
    lines.push(`base64 -d > ${file} <<'KBS_BUNDLER_EOF'`);
    lines.push(
      ...(Buffer.from(r.bytes)
        .toString('base64')
        .match(/.{1,76}/g) ?? []),
    );
    lines.push('KBS_BUNDLER_EOF');
    lines.push(
      `kbs-client --url "$KBS_URL" config --admin-token-file "$KBS_ADMIN_TOKEN" set-resource --path ${resourcePath(r.id)} --resource-file ${file}`,
    );
  });
  return `${lines.join('\n')}\n`;
}
