export * from './schema.js';
export * from './cdh-schema.js';
export * from './parse.js';
export * from './digest.js';
export * from './measure.js';
