/** Library entry point: `import { buildRepository, ... } from 'kbs-bundler'`. */
export * from './errors.js';
export * from './reference/index.js';
export * from './keys/index.js';
export * from './signature/index.js';
export * from './store/index.js';
export * from './audit/index.js';
export * from './bundle/index.js';
export * from './resource-id/index.js';
export * from './kbs/index.js';
export * from './verify/index.js';
export { openKbsRepository, type KbsRepositoryReader, type RepositoryForm } from './kbs/read.js';
export {
  fetchManifest,
  fetchBlob,
  fetchCosignSignatureImage,
  selectCredential,
  caLeafProblem,
  RegistryError,
  RepositoryClient,
  type FetchOptions,
  type FetchedManifest,
  type SelectedCredential,
  type RegistryErrorCode,
  type CosignSignatureLayer,
  type CosignSignatureImage as RegistryCosignSignatureImage,
} from './registry/index.js';
export * from './render/index.js';
export * from './rootfs/index.js';
export * from './stage/index.js';
export * from './quickstart/index.js';
export * from './initdata/index.js';
export * from './trustee/index.js';
