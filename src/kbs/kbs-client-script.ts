/**
 * A self-contained shell script that uploads the resources with kbs-client (`set-resource`).
 * Each resource travels inside the script as base64 and is decoded to a private temporary file,
 * so the script works wherever it is copied; it carries the credential, so it is written 0700.
 * trustee v0.21 authenticates with a bearer token file, v0.17–v0.20 with the admin's Ed25519 key.
 */
import type { AdminAuthForm } from './trustee-version.js';
import type { KbsResource } from './render.js';
import { resourcePath } from '../resource-id/resource-id.js';

export const SCRIPT_MODE = 0o700;

const AUTH: Record<AdminAuthForm, { header: string[]; check: string; config: string }> = {
  'admin-token': {
    header: [
      '# Usage: KBS_URL=https://kbs.example:8080 KBS_ADMIN_TOKEN=/path/to/admin-token [KBS_CERT_FILE=kbs.pem] sh <this script>',
      '# For trustee v0.21 (admin bearer token). For v0.17-v0.20: kbs-bundler build --trustee-version 0.20',
    ],
    check: ': "${KBS_ADMIN_TOKEN:?set KBS_ADMIN_TOKEN to the admin token file (a JWT with a role claim)}"',
    config: 'config --admin-token-file "$KBS_ADMIN_TOKEN"',
  },
  'auth-private-key': {
    header: [
      '# Usage: KBS_URL=https://kbs.example:8080 KBS_AUTH_PRIVATE_KEY=/path/to/private.key [KBS_CERT_FILE=kbs.pem] sh <this script>',
      '# For trustee v0.17-v0.20 (admin Ed25519 private key). For v0.21: kbs-bundler build (default --trustee-version)',
    ],
    check: ': "${KBS_AUTH_PRIVATE_KEY:?set KBS_AUTH_PRIVATE_KEY to the admin Ed25519 private key (PEM)}"',
    config: 'config --auth-private-key "$KBS_AUTH_PRIVATE_KEY"',
  },
};

export function kbsClientScript(resources: readonly KbsResource[], auth: AdminAuthForm = 'admin-token'): string {
  const form = AUTH[auth];
  const lines = [
    '#!/bin/sh',
    '# Upload the KBS resources of this bundle with kbs-client. Written by kbs-bundler build --kbs-client-script.',
    ...form.header,
    'set -eu',
    ': "${KBS_URL:?set KBS_URL to the KBS address, e.g. http://kbs.example:8080}"',
    form.check,
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
      `kbs-client --url "$KBS_URL" \${KBS_CERT_FILE:+--cert-file "$KBS_CERT_FILE"} ${form.config} set-resource --path ${resourcePath(r.id)} --resource-file ${file}`,
    );
  });
  return `${lines.join('\n')}\n`;
}
