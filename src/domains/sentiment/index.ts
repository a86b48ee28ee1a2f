export { sentimentDomain } from './sentiment.module.js';
export { ENTITY_SENTIMENT_TASK, SENTIMENT_TASK, type SentimentContext } from './sentiment.context.js';
export { SentimentService, normalizeSentimentLabel, summarizeByTicker } from './sentiment.service.js';
