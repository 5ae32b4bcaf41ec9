export * from '../openpgp/signature-error.js';
export * from './digest.js';
export * from './payload.js';
export * from '../openpgp/verify-signature.js';
export * from './sign.js';
export * from './image-manifest.js';
