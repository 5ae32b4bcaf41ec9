/** Every digest form of one initdata TOML, as `render initdata --json` reports it. */
import { teeDigests, initdataHash, type TeeDigest } from './digest.js';
import { parseInitdataToml } from './parse.js';

export interface InitdataDigests {
  algorithm: string;
  /** The full hash of the TOML bytes, hex. */
  hash: string;
  tees: TeeDigest[];
}

export function initdataDigests(toml: string, location: { file?: string } = {}): InitdataDigests {
  const { algorithm } = parseInitdataToml(toml, location);
  return { algorithm, hash: initdataHash(toml, algorithm).toString('hex'), tees: teeDigests(toml, algorithm) };
}
