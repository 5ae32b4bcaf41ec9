/**
 * The library API: `import { loadBundle, buildRepository, … } from 'kbs-bundler'`. Exactly what the README's
 * "Library API" section documents (test/api.test.ts holds the two together); every other module is internal.
 */

// bundle.yaml and the KBS repository
export { loadBundle } from './bundle/load.js';
export type { Bundle } from './bundle/types.js';
export { buildRepository, type BuildOptions, type BuildResult } from './kbs/build.js';
export { renderResources, type KbsResource } from './kbs/render.js';
export { openKbsRepository, type KbsRepositoryReader, type RepositoryForm } from './kbs/read.js';
export { publishBundle, type PublishOptions, type PublishResult } from './trustee/publish.js';

// Keys, signatures, stores
export { generateSigningKey } from './keys/generate.js';
export { readPublicKeyring, type Keyring } from './openpgp/keyring.js';
export { readSecretKey } from './keys/secret-key.js';
export { signImage, type SignImageOptions } from './signature/sign.js';
export { buildPayload } from './signature/payload.js';
export { manifestDigest } from './signature/digest.js';
export { verifySignature, type VerifiedSignature, type VerifyOptions } from './openpgp/verify-signature.js';
export { lookasideDir, readSignatureStore, type StoredSignature } from './store/read-store.js';
export { auditSignatures, type AuditReport } from './audit/audit.js';
export { auditSignaturesOnAllCores } from './audit/parallel.js';

// The guest rootfs
export { stageRootfs, type StageOptions, type StageResult } from './stage/stage.js';
export { unstageRootfs } from './stage/unstage.js';

// Verification
export { verifyImageFiles, type VerifyFilesRequest } from './verify/verify-files.js';
export type { SideDecision, VerifierMode, VerifyReport } from './verify/types.js';
export { lintConfiguration } from './verify/lint/index.js';
export type { LintCode, LintFinding, LintInputs } from './verify/lint/types.js';
export { defaultSignatureBackend } from './verify/default-backend.js';
export { parseReference, parseNormalizedNamed, type DockerReference } from './reference/reference.js';
export { fetchManifest, type FetchOptions, type FetchedManifest } from './registry/manifest.js';
export { CURRENT_GUEST_RELEASE, parseGuestRelease, type GuestRelease } from './releases/guest-components.js';
export { CURRENT_HOST_RELEASE, parseHostRelease, type HostRelease } from './releases/containers-image.js';

// Pod-side rendering
export { renderInitdata, type InitdataOptions, type RenderedInitdata } from './render/initdata.js';
export { encodeInitdata, decodeInitdata } from './initdata/annotation.js';
export { initdataDigests, type InitdataDigests } from './initdata/measure.js';
export { renderPod, type PodOptions } from './render/pod.js';
export { renderKernelParams } from './render/kernel-params.js';
export { renderSnippet, type SnippetName } from './render/snippets.js';
export { runQuickstart, type QuickstartOptions, type QuickstartResult } from './quickstart/run.js';

// Errors
export {
  KbsBundlerError,
  InputError,
  FileNotFoundError,
  ToolError,
  PathEscapeError,
  FindingsError,
  isKbsBundlerError,
  type Location,
} from './errors.js';
export { ERROR_CODES, type ErrorCode } from './error-codes.js';
export { SignatureError } from './openpgp/signature-error.js';
export { RegistryError } from './registry/errors.js';
