export * from './reference.js';
export * from './guest-reference.js';
export * from './scope-port.js';
