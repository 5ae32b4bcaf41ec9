export * from './read-store.js';
export * from './already-signed.js';
