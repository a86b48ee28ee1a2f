import { PendingDecisions } from '../domains/credit/credit-audit.js';
import { createCreditLoaders, type CreditLoaders } from '../domains/credit/credit.loaders.js';
import type { CreditService } from '../domains/credit/credit.service.js';
import { createForecastLoaders, type ForecastLoaders } from '../domains/forecasting/forecast.loaders.js';
import type { ForecastService } from '../domains/forecasting/forecast.service.js';
import type { PriceStore } from '../domains/forecasting/price-store.js';
import type { NewsSentimentLog } from '../domains/sentiment/news-sentiment-log.js';
import type { Caller } from '../platform/api-keys.js';
import type { Submission } from '../runtime/dynamic-batcher.js';
import type { ModelRegistry } from '../runtime/model-registry.js';
import { createSentimentLoaders, type SentimentLoaders } from '../domains/sentiment/sentiment.loaders.js';
import type { SentimentService } from '../domains/sentiment/sentiment.service.js';

/** Long-lived domain services, built once at start. */
export interface GatewayServices {
  readonly sentiment: SentimentService;
  /** The same service over the entity model (task entity-sentiment): texts arrive with their target marked. */
  readonly targetedSentiment: SentimentService;
  readonly credit: CreditService;
  readonly forecast: ForecastService;
  readonly prices: PriceStore;
  /** Ticker mentions of analysed news, read back by Ticker.newsSentiment. */
  readonly newsLog: NewsSentimentLog;
}

/** Per-request context: fresh DataLoaders (so batching and caching never cross requests). */
export interface GatewayContext {
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
  readonly registry: ModelRegistry;
  readonly services: GatewayServices;
  readonly loaders: SentimentLoaders & CreditLoaders & ForecastLoaders;
  /** Credit decisions made by this request, recorded when its response carries them. */
  readonly pendingDecisions: PendingDecisions;
}

export function createContext(
  { scheduling, ...request }: { requestId: string; clientRequestId?: string; caller: Caller | undefined; rateKey: string; scheduling?: Omit<Submission, 'caller'> },
  registry: ModelRegistry, services: GatewayServices,
): GatewayContext {
  const pendingDecisions = new PendingDecisions();
  // The caller, its priority, deadline and abort signal ride along to the batchers, which serve callers in turn.
  const submission: Submission = { caller: request.rateKey, ...scheduling };
  return {
    ...request, submission, registry, services, pendingDecisions,
    loaders: {
      ...createSentimentLoaders(services, submission), ...createCreditLoaders(services, pendingDecisions, submission),
      ...createForecastLoaders(services, submission),
    },
  };
}

/** Who asked, for the credit decision record. */
export function auditContext(ctx: { requestId: string; caller: Caller | undefined }) {
  return { requestId: ctx.requestId, caller: ctx.caller?.name ?? 'anonymous' };
}
