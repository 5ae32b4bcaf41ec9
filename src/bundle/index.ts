export * from './types.js';
export { loadBundle, DEFAULT_REPOSITORY, DEFAULT_TAG, BUNDLE_RESOURCE_TYPES } from './load.js';
export { bundleSchema, ruleSchema, RULE_TYPES, type BundleFile, type BundleRule } from './schema.js';
export { scopeProblem, registryProblem } from './scope.js';
export { passwordSecret } from './registries.js';
export { fileStorePath } from './stores.js';
export { fieldPath } from './field-path.js';
