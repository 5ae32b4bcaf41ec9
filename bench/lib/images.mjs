/**
 * The bench's images: image i is `bench.example.com:5000/team-<i/10>/app-<i>` with a small OCI
 * manifest of its own, so N images fall under N/10 namespace scopes and smaller sets are prefixes
 * of larger ones.
 */
export const REGISTRY = 'bench.example.com:5000';
export const KEY_DATE = new Date('2024-01-01T00:00:00Z');
export const SIGNED_AT = Math.floor(new Date('2025-01-01T00:00:00Z').getTime() / 1000);

export function scopeOf(i) {
  return `team-${Math.floor(i / 10)}`;
}
export function repositoryOf(i) {
  return `${scopeOf(i)}/app-${i}`;
}
export function manifestOf(i) {
  const hex = (n) => n.toString(16).padStart(64, '0');
  return Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: `sha256:${hex(i)}`, size: 1000 + i },
      layers: [
        {
          mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip',
          digest: `sha256:${hex(i + 1_000_000)}`,
          size: 700000 + i,
        },
      ],
    }),
  );
}
