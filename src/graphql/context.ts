import { createCreditLoaders, type CreditLoaders } from '../domains/credit/credit.loaders.js';
import type { CreditService } from '../domains/credit/credit.service.js';
import type { ModelRegistry } from '../runtime/model-registry.js';
import { createSentimentLoaders, type SentimentLoaders } from '../domains/sentiment/sentiment.loaders.js';
import type { SentimentService } from '../domains/sentiment/sentiment.service.js';

/** Long-lived domain services, built once at start. */
export interface GatewayServices {
  readonly sentiment: SentimentService;
  readonly credit: CreditService;
}

/** Per-request context: fresh DataLoaders (so batching and caching never cross requests). */
export interface GatewayContext {
  readonly requestId: string;
  readonly registry: ModelRegistry;
  readonly services: GatewayServices;
  readonly loaders: SentimentLoaders & CreditLoaders;
}

export function createContext(requestId: string, registry: ModelRegistry, services: GatewayServices): GatewayContext {
  return { requestId, registry, services, loaders: { ...createSentimentLoaders(services), ...createCreditLoaders(services) } };
}
