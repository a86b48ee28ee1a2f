import { defineDomain } from '../../graphql/domain-module.js';
import { openNewsSentimentLog } from './news-sentiment-log.js';
import {
  ENTITY_SENTIMENT_TASK,
  SENTIMENT_ITEM_COST,
  SENTIMENT_TASK,
  type SentimentRequest,
  type SentimentServices,
} from './sentiment.context.js';
import { createSentimentLoaders } from './sentiment.loaders.js';
import {
  NewsArticleSentimentResolver,
  NewsSentimentReportResolver,
  SentimentExplanationResolver,
  SentimentResolver,
  TargetedExplanationResolver,
  TickerNewsResolver,
} from './sentiment.resolver.js';
import { SentimentService } from './sentiment.service.js';

/** News and text sentiment (overall, and toward a named entity), and the news tone recorded per ticker. */
export const sentimentDomain = defineDomain<SentimentServices, SentimentRequest>({
  name: 'sentiment',
  resolvers: [
    SentimentResolver,
    NewsSentimentReportResolver,
    NewsArticleSentimentResolver,
    SentimentExplanationResolver,
    TargetedExplanationResolver,
    TickerNewsResolver,
  ],
  tasks: (config) => {
    const text = {
      input: 'text',
      scope: 'sentiment:read',
      itemCost: SENTIMENT_ITEM_COST,
      shadow: false,
      maxItems: config.limits.sentimentMaxTexts,
    } as const;
    return {
      [SENTIMENT_TASK]: { ...text, modelOverride: config.models.sentimentOverride },
      [ENTITY_SENTIMENT_TASK]: text,
    };
  },
  async start({ config, registry, resources, postgres, answers }) {
    // Beside the prices: PRICE_DATABASE_URL names the market-data database.
    const database = config.priceDatabaseUrl ? postgres.pool(config.priceDatabaseUrl) : undefined;
    const newsLog = resources.use(
      'news log',
      await openNewsSentimentLog({ postgres: database, file: config.priceDbPath }),
      (n) => n.close(),
    );
    const limits = { maxTexts: config.limits.sentimentMaxTexts, maxTextLength: config.limits.sentimentMaxTextLength };
    const model = (task: string) => () => registry.textModel(registry.nameForTask(task) ?? task);
    return {
      services: {
        newsLog,
        sentiment: new SentimentService(model(SENTIMENT_TASK), limits, answers),
        targetedSentiment: new SentimentService(model(ENTITY_SENTIMENT_TASK), limits, answers),
      },
    };
  },
  request(services, { submission }) {
    // The caller rides along to the batchers, which serve callers in turn.
    return { ...services, loaders: createSentimentLoaders(services, submission) };
  },
});
