export * from './errors.js';
export * from './digest.js';
export * from './payload.js';
export * from './verify.js';
export * from './sign.js';
