import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * Who the work in progress is for, carried along the request's async calls (as OpenTelemetry carries
 * its context), so that shared components deep below the resolvers, such as a model's batcher, can
 * treat callers fairly without every layer passing the caller down.
 */
const scope = new AsyncLocalStorage<string>();

/** Runs `fn` (and everything it starts) on behalf of `caller`. */
export function runAsCaller<T>(caller: string, fn: () => T): T {
  return scope.run(caller, fn);
}

/** The caller of the work in progress; '' outside any request (warm-up, scripts). */
export function currentCaller(): string {
  return scope.getStore() ?? '';
}
