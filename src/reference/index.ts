export * from './reference.js';
export * from './scope-port.js';
