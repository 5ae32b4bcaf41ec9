export * from './resource-id.js';
