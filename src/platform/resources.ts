import type { Logger } from './logger.js';

/**
 * What a start-up acquired, closed once, in reverse order: on stop, or as soon as a later step of the start fails,
 * so a failed start leaks nothing it had opened (tracing, stores, worker pools, the HTTP server).
 */
export class ResourceStack {
  private readonly closers: Array<{ name: string; close: () => unknown }> = [];
  private disposed: Promise<void> | undefined;

  /** Registers how to close `resource` and returns it. */
  use<T>(name: string, resource: T, close: (resource: T) => unknown): T {
    this.closers.push({ name, close: () => close(resource) });
    return resource;
  }

  /** Closes everything registered, last first; a closer that fails is logged and the others still run. Idempotent. */
  dispose(logger?: Logger): Promise<void> {
    this.disposed ??= (async () => {
      for (const { name, close } of this.closers.splice(0).reverse()) {
        try {
          await close();
        } catch (error) {
          logger?.error({ resource: name, err: error }, 'closing a resource failed');
        }
      }
    })();
    return this.disposed;
  }
}
