export * from '../kbs/trustee-version.js';
export * from './errors.js';
export * from './admin-token.js';
export * from './admin-client.js';
export * from './publish.js';
