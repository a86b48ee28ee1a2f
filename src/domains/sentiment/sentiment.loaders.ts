import DataLoader from 'dataloader';
import type { SentimentPrediction, SentimentService } from './sentiment.service.js';

export interface SentimentLoaders {
  /** Text -> prediction; every text asked for during one tick of one request goes out as one batch. */
  readonly sentiment: DataLoader<string, SentimentPrediction>;
}

/** Built once per request (in the GraphQL context), so its cache never outlives the request. */
export function createSentimentLoaders(deps: { sentiment: SentimentService }, caller: string): SentimentLoaders {
  return { sentiment: new DataLoader((texts) => deps.sentiment.classifyMany(texts, caller)) };
}
