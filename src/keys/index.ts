export * from './describe.js';
export * from './keyring.js';
export * from './secret-key.js';
export { looksArmored } from './parse.js';
export * from './passphrase.js';
export * from './generate.js';
