import type { DomainContext } from '../../graphql/domain-module.js';
import type { NewsSentimentLog } from './news-sentiment-log.js';
import type { SentimentLoaders } from './sentiment.loaders.js';
import type { SentimentService } from './sentiment.service.js';

/** The model tasks this domain serves, and their complexity units per text. */
export const SENTIMENT_TASK = 'sentiment';
/** Texts arrive with their target marked as <<target>>. */
export const ENTITY_SENTIMENT_TASK = 'entity-sentiment';
export const SENTIMENT_ITEM_COST = 10;

export interface SentimentServices {
  readonly sentiment: SentimentService;
  /** The same service over the entity model: texts arrive with their target marked. */
  readonly targetedSentiment: SentimentService;
  /** Ticker mentions of analysed news, read back by Ticker.newsSentiment. */
  readonly newsLog: NewsSentimentLog;
}

/** What a sentiment resolver finds at `ctx.sentiment`. */
export interface SentimentRequest extends SentimentServices {
  readonly loaders: SentimentLoaders;
}

export type SentimentContext = DomainContext<'sentiment', SentimentRequest>;
