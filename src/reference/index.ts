export * from './reference.js';
export * from './guest-reference.js';
