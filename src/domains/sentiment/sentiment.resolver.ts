import { Arg, Authorized, Ctx, FieldResolver, Int, Query, Resolver, Root } from 'type-graphql';
import { ITEM_COST, perItemComplexity } from '../../graphql/common.types.js';
import { InvalidInputError } from '../../platform/errors.js';
import type { GatewayContext } from '../../graphql/context.js';
import { throwFirstError } from '../../graphql/settle.js';
import { NewsArticleInput } from './sentiment.inputs.js';
import { articleText, articleTickers, EXPLANATION_LIMITS, netSentiment, summarizeByTicker, validateArticles, type SentimentPrediction } from './sentiment.service.js';
import { NewsArticleSentiment, NewsSentimentReport, SentimentExplanation, SentimentResult, TickerSentiment } from './sentiment.types.js';

/** An explanation's charge per text: the text and its (at most 48) variants through the model. */
const EXPLANATION_COST = (EXPLANATION_LIMITS.maxWords + 1) * ITEM_COST.sentiment;

@Resolver()
export class SentimentResolver {
  @Authorized('sentiment:read')
  @Query(() => [SentimentResult], {
    description: 'Sentiment of financial texts (1..256 texts of at most 2,000 characters by default), in the order sent.',
    complexity: perItemComplexity('texts', ITEM_COST.sentiment, { perItemChildCost: EXPLANATION_COST }),
  })
  async sentiment(@Arg('texts', () => [String]) texts: string[], @Ctx() ctx: GatewayContext): Promise<SentimentResult[]> {
    ctx.services.sentiment.validateTexts(texts);
    return ctx.loaders.sentiment.loadMany(texts).then(throwFirstError) as Promise<SentimentResult[]>;
  }

  @Authorized('sentiment:read')
  @Query(() => NewsSentimentReport, {
    description: 'Sentiment of news articles, one batched inference for all of them, with a per-ticker summary.',
    complexity: perItemComplexity('articles', ITEM_COST.sentiment, { perItemChildCost: EXPLANATION_COST }),
  })
  async newsSentiment(
    @Arg('articles', () => [NewsArticleInput]) articles: NewsArticleInput[],
    @Ctx() ctx: GatewayContext,
  ): Promise<NewsSentimentReport> {
    validateArticles(ctx.services.sentiment, articles);
    const report = {
      articles: articles.map((a) => ({ id: a.id, headline: a.headline, tickers: articleTickers(a), publishedAt: a.publishedAt ?? null, text: articleText(a) })),
    };
    // The inference the article fields will read anyway (same loader keys: cached, one batch), so every
    // ticker mention is on record for Ticker.newsSentiment whatever fields were asked for.
    const predictions = throwFirstError(await ctx.loaders.sentiment.loadMany(report.articles.map((a) => a.text))) as SentimentPrediction[];
    const now = new Date().toISOString();
    await ctx.services.newsLog.record(report.articles.flatMap((a, i) => a.tickers.map((symbol) => ({
      symbol, at: a.publishedAt?.toISOString() ?? now, label: predictions[i]!.label, net: netSentiment(predictions[i]!),
    }))));
    return report;
  }
}

@Resolver(() => NewsSentimentReport)
export class NewsSentimentReportResolver {
  @FieldResolver(() => [TickerSentiment], { description: 'Tickers in name order, with counts and mean net sentiment.' })
  async byTicker(@Root() report: NewsSentimentReport, @Ctx() ctx: GatewayContext): Promise<TickerSentiment[]> {
    // Same loader and keys as each article's `sentiment` field: one batch, no second inference.
    const predictions = throwFirstError(await ctx.loaders.sentiment.loadMany(report.articles.map((a) => a.text))) as SentimentPrediction[];
    return summarizeByTicker(report.articles, predictions);
  }
}

@Resolver(() => NewsArticleSentiment)
export class NewsArticleSentimentResolver {
  @FieldResolver(() => SentimentResult)
  sentiment(@Root() article: NewsArticleSentiment, @Ctx() ctx: GatewayContext): Promise<SentimentResult> {
    return ctx.loaders.sentiment.load(article.text) as Promise<SentimentResult>;
  }
}

@Resolver(() => SentimentResult)
export class SentimentExplanationResolver {
  @FieldResolver(() => SentimentExplanation, {
    description: `Asked for only when needed: costs one inference per word (at most ${EXPLANATION_LIMITS.maxWords} words per text, `
      + `${EXPLANATION_LIMITS.maxTexts} texts per request), charged in query complexity.`,
    // One EXPLANATION_COST plus its few fields: the list above charges each whole unit once per text.
    complexity: EXPLANATION_COST,
  })
  async explanation(
    @Root() result: SentimentResult,
    @Arg('top', () => Int, { defaultValue: 5, description: `How many words to return, 1..${EXPLANATION_LIMITS.maxTop}.` }) top: number,
    @Ctx() ctx: GatewayContext,
  ): Promise<SentimentExplanation> {
    if (!Number.isInteger(top) || top < 1 || top > EXPLANATION_LIMITS.maxTop) {
      throw new InvalidInputError(`top must be 1..${EXPLANATION_LIMITS.maxTop}, got ${top}`, 'top');
    }
    const explanation = await ctx.loaders.explanation.load(result as SentimentPrediction);
    return { ...explanation, words: explanation.words.slice(0, top) } as SentimentExplanation;
  }
}
