export { SentimentResolver, NewsSentimentReportResolver, NewsArticleSentimentResolver, SentimentExplanationResolver, TargetedExplanationResolver } from './sentiment.resolver.js';
export { SentimentService, normalizeSentimentLabel, summarizeByTicker } from './sentiment.service.js';
export { createSentimentLoaders, type SentimentLoaders } from './sentiment.loaders.js';
