/** Before any test: the upstream fixtures the suite reads must be beside the checkout (one clear line if not). */
import { existsSync } from 'node:fs';
import { FIXTURES } from './helpers/paths.js';

export default function checkFixtures(): void {
  if (!existsSync(FIXTURES)) {
    throw new Error(`the shared fixtures are missing: ${FIXTURES} (clone this repository next to shared/, as CI does)`);
  }
}
