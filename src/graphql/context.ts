import type { Caller } from '../platform/api-keys.js';
import type { Submission } from '../runtime/dynamic-batcher.js';
import type { ModelRegistry } from '../runtime/model-registry.js';

/** Who sent a request and how it is known: set by admission, before any domain sees it. */
export interface RequestInfo {
  /** The gateway's own id of this request: unique, in logs and the decision record. */
  readonly requestId: string;
  /** The caller's x-request-id, when it sent a well-formed one. */
  readonly clientRequestId?: string;
  /** The API key's owner; undefined in open mode or without a valid key. */
  readonly caller: Caller | undefined;
  /** Whom rate limits count against: the key's name, else the client address. */
  readonly rateKey: string;
  /** What the model batchers see of this request: its caller, priority, deadline and abort signal. */
  readonly submission: Submission;
}

/**
 * Per-request context as the shared layers see it. Each domain adds its own per-request state (fresh
 * DataLoaders, so batching and caching never cross requests) under its name, and types its resolvers'
 * context as `GatewayContext & { <name>: State }` (see domain-module.ts): nothing here names a domain.
 */
export interface GatewayContext extends RequestInfo {
  readonly registry: ModelRegistry;
}
