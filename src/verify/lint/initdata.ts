/**
 * Lint of an initdata's cdh.toml `[image]` table: image-rs takes a `…_uri` over its inline value, so an
 * inline policy or sigstore config next to a URI is dead text — the pod uses the URI's resource while
 * whoever reads the initdata (and its measured digest) believes the inline one is in force.
 */
import type { CdhImageConfig } from '../../initdata/cdh-schema.js';
import type { LintFinding } from './types.js';

const PAIRS = [
  ['image_security_policy_uri', 'image_security_policy', 'policy'],
  ['sigstore_config_uri', 'sigstore_config', 'sigstore config'],
] as const;

export function lintInitdataImage(image: CdhImageConfig, source: string): LintFinding[] {
  const out: LintFinding[] = [];
  for (const [uriKey, inlineKey, what] of PAIRS) {
    const uri = image[uriKey];
    if (uri === undefined || image[inlineKey] === undefined) continue;
    out.push({
      code: 'L_INITDATA_INLINE_SHADOWED',
      where: `${source} cdh.toml image.${inlineKey}`,
      problem: `both ${uriKey} (${uri}) and the inline ${inlineKey} are set: the guest uses the URI and never reads the inline ${what}`,
      fix: `keep one: drop ${uriKey} to use the inline ${what} (measured with the initdata), or drop ${inlineKey}`,
    });
  }
  return out;
}
