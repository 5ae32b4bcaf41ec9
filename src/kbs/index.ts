export { renderResources, jsonBytes, SECRET_MODE, PUBLIC_MODE, type KbsResource } from './render.js';
export { layoutPath, LAYOUTS, FLAT_SEPARATOR, type Layout } from './layout.js';
export { tarballBytes } from './tarball.js';
export { k8sManifests, DEFAULT_K8S_NAMESPACE } from './k8s.js';
export { kbsClientScript } from './kbs-client-script.js';
export { hostConfigFiles } from './host-config.js';
export { buildRepository, type BuildOptions, type BuildResult, type BuiltResource, type BuiltKey } from './build.js';
export * from '../registry/auths-schema.js';
