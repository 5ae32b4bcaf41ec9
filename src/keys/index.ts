export * from './describe.js';
export * from './keyring.js';
export * from './secret-key.js';
export { looksArmored } from './parse.js';
