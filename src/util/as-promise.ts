/**
 * Runs `fn` now and gives its result as a promise, a throw as a rejection — what an `async` function
 * without an `await` does — for synchronous code behind an interface that returns promises.
 */
export function asPromise<T>(fn: () => T): Promise<T> {
  return new Promise((resolve) => resolve(fn()));
}
