/** How a trustee admin call fails: the KBS said no (exit 1, a decision), or it could not be reached (exit 2). */
import { KbsBundlerError } from '../errors.js';

export class KbsRefusedError extends KbsBundlerError {
  readonly code = 'E_KBS_REFUSED';
  override readonly exitCode = 1 as const;
  constructor(
    readonly status: number,
    readonly detail: string,
    message: string,
  ) {
    super(message);
    this.name = 'KbsRefusedError';
  }
}

export class KbsUnreachableError extends KbsBundlerError {
  readonly code = 'E_KBS_UNREACHABLE';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'KbsUnreachableError';
  }
}
