/** Failures talking to a registry. Messages name the registry and what to do; never a password or token. */
import { KbsBundlerError } from '../errors.js';

export type RegistryErrorCode =
  | 'E_REGISTRY_UNREACHABLE' // connection refused, unknown host, reset
  | 'E_REGISTRY_TLS' // certificate not trusted, wrong name, http/https mismatch
  | 'E_REGISTRY_TIMEOUT'
  | 'E_REGISTRY_AUTH' // 401/403 after trying the credential (or none was found)
  | 'E_REGISTRY_NOT_FOUND' // 404: manifest/blob/repository unknown
  | 'E_REGISTRY_TOO_LARGE' // response over the size limit
  | 'E_REGISTRY_DIGEST_MISMATCH' // bytes do not hash to the digest asked for or announced
  | 'E_REGISTRY_NO_PLATFORM' // index without a manifest for the requested platform
  | 'E_REGISTRY_CREDENTIAL' // the auths entry cannot be decoded
  | 'E_REGISTRY_RESPONSE'; // anything else unexpected (status, media type, JSON)

export class RegistryError extends KbsBundlerError {
  readonly code: RegistryErrorCode;
  /** `host[:port]` the request went to. */
  readonly registry: string;
  /** HTTP status when there was one. */
  readonly status: number | undefined;
  constructor(
    code: RegistryErrorCode,
    registry: string,
    message: string,
    options?: { status?: number; cause?: unknown },
  ) {
    super(message, options?.cause !== undefined ? { cause: options.cause } : undefined);
    this.name = 'RegistryError';
    this.code = code;
    this.registry = registry;
    this.status = options?.status;
  }
}
