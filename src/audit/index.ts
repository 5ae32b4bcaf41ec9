export * from './audit.js';
export * from './policy-keys.js';
export * from './parallel.js';
export * from './thread-count.js';
