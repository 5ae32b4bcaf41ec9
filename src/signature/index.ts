export * from './errors.js';
export * from './digest.js';
export * from './payload.js';
export * from './verify.js';
export * from './store.js';
export * from './sign.js';
export * from './audit.js';
export * from './policy-keys.js';
