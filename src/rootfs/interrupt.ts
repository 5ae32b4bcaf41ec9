/**
 * Ctrl-C and SIGTERM during a write: the signal is turned into an error at the next check, so
 * the code that is writing rolls back, unmounts and cleans up on the normal error path.
 */
import { ToolError } from '../errors.js';

export class InterruptedError extends ToolError {
  constructor(signal: string) {
    super('E_INTERRUPTED', `interrupted by ${signal}; the rootfs was left as it was before`);
    this.name = 'InterruptedError';
  }
}

export interface Interruption {
  /** Throws InterruptedError once a signal has arrived. */
  check(): void;
}

export async function withSignalGuard<T>(fn: (guard: Interruption) => Promise<T>): Promise<T> {
  let received: string | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    received = signal;
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const result = await fn({
      check() {
        if (received !== undefined) throw new InterruptedError(received);
      },
    });
    // A signal after the last check: the work is complete and consistent, keep it.
    return result;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
