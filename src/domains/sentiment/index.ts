export { SentimentResolver, NewsSentimentReportResolver, NewsArticleSentimentResolver, SentimentExplanationResolver } from './sentiment.resolver.js';
export { SentimentService, normalizeSentimentLabel, summarizeByTicker } from './sentiment.service.js';
export { createSentimentLoaders, type SentimentLoaders } from './sentiment.loaders.js';
