import { Arg, Authorized, Ctx, FieldResolver, Int, Query, Resolver, Root } from 'type-graphql';
import { perItemComplexity } from '../../graphql/common.types.js';
import { Ticker } from '../forecasting/index.js';
import { SENTIMENT_ITEM_COST, type SentimentContext } from './sentiment.context.js';
import { InvalidInputError } from '../../platform/errors.js';
import { throwFirstError } from '../../graphql/settle.js';
import { NewsArticleInput, TargetedTextInput } from './sentiment.inputs.js';
import {
  articleText,
  articleTickers,
  EXPLANATION_LIMITS,
  namedEntities,
  netSentiment,
  summarizeByTicker,
  validateArticles,
  validateTargetedTexts,
  type SentimentPrediction,
} from './sentiment.service.js';
import { markTarget, unmarkWord } from './target-markers.js';
import {
  ArticleEntitySentiment,
  NewsArticleSentiment,
  NewsSentimentReport,
  SentimentExplanation,
  SentimentResult,
  TargetedSentimentResult,
  TickerSentiment,
} from './sentiment.types.js';

/** An explanation's charge per text: the text and its (at most 48) variants through the model. */
const EXPLANATION_COST = (EXPLANATION_LIMITS.maxWords + 1) * SENTIMENT_ITEM_COST;

@Resolver()
export class SentimentResolver {
  @Authorized('sentiment:read')
  @Query(() => [SentimentResult], {
    description:
      'Sentiment of financial texts (1..256 texts of at most 2,000 characters by default), in the order sent.',
    complexity: perItemComplexity('texts', SENTIMENT_ITEM_COST, { perItemChildCost: EXPLANATION_COST }),
  })
  async sentiment(
    @Arg('texts', () => [String]) texts: string[],
    @Ctx() ctx: SentimentContext,
  ): Promise<SentimentResult[]> {
    ctx.sentiment.sentiment.validateTexts(texts);
    return ctx.sentiment.loaders.sentiment.loadMany(texts).then(throwFirstError) as Promise<SentimentResult[]>;
  }

  @Authorized('sentiment:read')
  @Query(() => NewsSentimentReport, {
    description: 'Sentiment of news articles, one batched inference for all of them, with a per-ticker summary.',
    complexity: perItemComplexity('articles', SENTIMENT_ITEM_COST, { perItemChildCost: EXPLANATION_COST }),
  })
  async newsSentiment(
    @Arg('articles', () => [NewsArticleInput]) articles: NewsArticleInput[],
    @Ctx() ctx: SentimentContext,
  ): Promise<NewsSentimentReport> {
    validateArticles(ctx.sentiment.sentiment, articles);
    const report = {
      articles: articles.map((a) => {
        const text = articleText(a);
        return {
          id: a.id,
          headline: a.headline,
          tickers: articleTickers(a),
          publishedAt: a.publishedAt ?? null,
          text,
          named: namedEntities(a, text),
        };
      }),
    };
    // The inference the article fields will read anyway (same loader keys: cached, one batch), so every
    // ticker mention is on record for Ticker.newsSentiment whatever fields were asked for.
    const predictions = throwFirstError(
      await ctx.sentiment.loaders.sentiment.loadMany(report.articles.map((a) => a.text)),
    ) as SentimentPrediction[];
    const entities = await entityPredictions(report, ctx);
    const now = new Date().toISOString();
    await ctx.sentiment.newsLog.record(
      report.articles.flatMap((a, i) =>
        [...new Set([...a.tickers, ...entities[i]!.keys()])].map((symbol) => {
          const p = entities[i]!.get(symbol) ?? predictions[i]!;
          return { symbol, at: a.publishedAt?.toISOString() ?? now, label: p.label, net: netSentiment(p) };
        }),
      ),
    );
    return report;
  }

  @Authorized('sentiment:read')
  @Query(() => [TargetedSentimentResult], {
    description:
      'Sentiment of each text toward the entity it names (1..256 items), in the order sent: "Apple gains as Samsung slumps" ' +
      'is positive toward Apple and negative toward Samsung. Every pair of a request goes to the entity model in one batch.',
    complexity: perItemComplexity('items', SENTIMENT_ITEM_COST, { perItemChildCost: EXPLANATION_COST }),
  })
  async targetedSentiment(
    @Arg('items', () => [TargetedTextInput]) items: TargetedTextInput[],
    @Ctx() ctx: SentimentContext,
  ): Promise<TargetedSentimentResult[]> {
    validateTargetedTexts(ctx.sentiment.targetedSentiment, items);
    const marked = items.map((item) => markTarget(item.text, item.target));
    const predictions = throwFirstError(
      await ctx.sentiment.loaders.targetedSentiment.loadMany(marked),
    ) as SentimentPrediction[];
    return predictions.map(
      (p, i) =>
        ({ ...p, text: items[i]!.text, target: items[i]!.target, marked: marked[i]! }) as TargetedSentimentResult,
    );
  }
}

/** Per article, the entity model's prediction for each ticker whose entity the text names (one batch for all). */
async function entityPredictions(
  report: NewsSentimentReport,
  ctx: SentimentContext,
): Promise<Array<Map<string, SentimentPrediction>>> {
  const marked = report.articles.flatMap((a) => a.named.map((e) => e.marked));
  if (marked.length === 0) return report.articles.map(() => new Map());
  const predictions = throwFirstError(
    await ctx.sentiment.loaders.targetedSentiment.loadMany(marked),
  ) as SentimentPrediction[];
  let next = 0;
  return report.articles.map((a) => new Map(a.named.map((e) => [e.ticker, predictions[next++]!])));
}

@Resolver(() => NewsSentimentReport)
export class NewsSentimentReportResolver {
  @FieldResolver(() => [TickerSentiment], { description: 'Tickers in name order, with counts and mean net sentiment.' })
  async byTicker(@Root() report: NewsSentimentReport, @Ctx() ctx: SentimentContext): Promise<TickerSentiment[]> {
    // Same loader and keys as each article's `sentiment` field: one batch, no second inference.
    const predictions = throwFirstError(
      await ctx.sentiment.loaders.sentiment.loadMany(report.articles.map((a) => a.text)),
    ) as SentimentPrediction[];
    return summarizeByTicker(report.articles, predictions, await entityPredictions(report, ctx));
  }
}

@Resolver(() => NewsArticleSentiment)
export class NewsArticleSentimentResolver {
  @FieldResolver(() => SentimentResult)
  sentiment(@Root() article: NewsArticleSentiment, @Ctx() ctx: SentimentContext): Promise<SentimentResult> {
    return ctx.sentiment.loaders.sentiment.load(article.text) as Promise<SentimentResult>;
  }

  @FieldResolver(() => [ArticleEntitySentiment], {
    description:
      'The sentiment toward each entity sent in `entities` that the text names (by the entity model); empty when none is named or none was sent.',
  })
  async entities(
    @Root() article: NewsArticleSentiment,
    @Ctx() ctx: SentimentContext,
  ): Promise<ArticleEntitySentiment[]> {
    const predictions = throwFirstError(
      await ctx.sentiment.loaders.targetedSentiment.loadMany(article.named.map((e) => e.marked)),
    ) as SentimentPrediction[];
    return article.named.map(
      (e, i) =>
        ({
          ticker: e.ticker,
          name: e.name,
          label: predictions[i]!.label,
          score: predictions[i]!.score,
          model: predictions[i]!.model,
        }) as ArticleEntitySentiment,
    );
  }
}

@Resolver(() => TargetedSentimentResult)
export class TargetedExplanationResolver {
  @FieldResolver(() => SentimentExplanation, {
    description:
      `Which words drove the label toward the target, by occlusion as for sentiment (at most ${EXPLANATION_LIMITS.maxWords} words per text, ` +
      `${EXPLANATION_LIMITS.maxTexts} explained texts per request, both fields together), charged in query complexity.`,
    complexity: EXPLANATION_COST,
  })
  async explanation(
    @Root() result: TargetedSentimentResult,
    @Arg('top', () => Int, {
      defaultValue: 5,
      description: `How many words to return, 1..${EXPLANATION_LIMITS.maxTop}.`,
    })
    top: number,
    @Ctx() ctx: SentimentContext,
  ): Promise<SentimentExplanation> {
    if (!Number.isInteger(top) || top < 1 || top > EXPLANATION_LIMITS.maxTop) {
      throw new InvalidInputError(`top must be 1..${EXPLANATION_LIMITS.maxTop}, got ${top}`, 'top');
    }
    const explanation = await ctx.sentiment.loaders.targetedExplanation.load({
      ...result,
      text: result.marked,
    } as unknown as SentimentPrediction);
    // The marked text has the caller's words with markers touching the target's: shown as the caller wrote them.
    return {
      ...explanation,
      words: explanation.words.slice(0, top).map((w) => ({ ...w, word: unmarkWord(w.word) })),
    } as SentimentExplanation;
  }
}

@Resolver(() => SentimentResult)
export class SentimentExplanationResolver {
  @FieldResolver(() => SentimentExplanation, {
    description:
      `Asked for only when needed: costs one inference per word (at most ${EXPLANATION_LIMITS.maxWords} words per text, ` +
      `${EXPLANATION_LIMITS.maxTexts} texts per request), charged in query complexity.`,
    // One EXPLANATION_COST plus its few fields: the list above charges each whole unit once per text.
    complexity: EXPLANATION_COST,
  })
  async explanation(
    @Root() result: SentimentResult,
    @Arg('top', () => Int, {
      defaultValue: 5,
      description: `How many words to return, 1..${EXPLANATION_LIMITS.maxTop}.`,
    })
    top: number,
    @Ctx() ctx: SentimentContext,
  ): Promise<SentimentExplanation> {
    if (!Number.isInteger(top) || top < 1 || top > EXPLANATION_LIMITS.maxTop) {
      throw new InvalidInputError(`top must be 1..${EXPLANATION_LIMITS.maxTop}, got ${top}`, 'top');
    }
    const explanation = await ctx.sentiment.loaders.explanation.load(result as SentimentPrediction);
    return { ...explanation, words: explanation.words.slice(0, top) } as SentimentExplanation;
  }
}

/** The news tone of a Ticker (the forecasting domain's entity), from the mentions newsSentiment recorded. */
@Resolver(() => Ticker)
export class TickerNewsResolver {
  @Authorized('sentiment:read')
  @FieldResolver(() => TickerSentiment, {
    description:
      'The tone of the news newsSentiment has analysed for this ticker over the last `days` (1..365) days, by publication time.',
  })
  newsSentiment(
    @Root() ticker: Ticker,
    @Arg('days', () => Int, { defaultValue: 7 }) days: number,
    @Ctx() ctx: SentimentContext,
  ): Promise<TickerSentiment> {
    if (!Number.isInteger(days) || days < 1 || days > 365)
      throw new InvalidInputError(`days must be 1..365, got ${days}`, 'days');
    return ctx.sentiment.newsLog.summary(ticker.symbol, new Date(Date.now() - days * 86_400_000));
  }
}
