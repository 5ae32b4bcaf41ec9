export * from './errors.js';
export * from './credentials.js';
export * from './media-types.js';
export { RepositoryClient, apiHost, type ClientOptions } from './client.js';
export type { TransportOptions } from './http.js';
export { digestOf } from './digest.js';
export * from './manifest.js';
export * from './blob.js';
export * from './cosign.js';
