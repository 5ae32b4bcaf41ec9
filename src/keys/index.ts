export * from '../openpgp/describe.js';
export * from '../openpgp/keyring.js';
export * from './secret-key.js';
export { looksArmored } from '../openpgp/parse.js';
export * from './passphrase.js';
export * from './generate.js';
