import { Arg, Authorized, Ctx, FieldResolver, Float, Int, Query, Resolver, Root } from 'type-graphql';
import { DateScalar, ITEM_COST, perItemComplexity, rowsComplexity } from '../../graphql/common.types.js';
import type { GatewayContext } from '../../graphql/context.js';
import { throwFirstError } from '../../graphql/settle.js';
import { InvalidInputError } from '../../platform/errors.js';
import { ForecastInput } from './forecast.inputs.js';
import { MarketForecast, PricePoint, SymbolInfo, Ticker } from './forecast.types.js';
import { TickerSentiment } from '../sentiment/sentiment.types.js';

const MAX_PRICE_ROWS = 10_000;
const DEFAULT_PRICE_ROWS = 1000;

@Resolver()
export class ForecastResolver {
  @Authorized('forecast:read')
  @Query(() => MarketForecast, { description: 'Interval forecasts and volatility of one price series.', complexity: perItemComplexity('input', ITEM_COST.forecast) })
  marketForecast(@Arg('input', () => ForecastInput) input: ForecastInput, @Ctx() ctx: GatewayContext): Promise<MarketForecast> {
    return ctx.loaders.marketForecast.load(input) as Promise<MarketForecast>;
  }

  @Authorized('forecast:read')
  @Query(() => [MarketForecast], { description: 'Forecasts of up to 100 series, in the order sent, in one batched inference.', complexity: perItemComplexity('inputs', ITEM_COST.forecast) })
  async marketForecasts(@Arg('inputs', () => [ForecastInput]) inputs: ForecastInput[], @Ctx() ctx: GatewayContext): Promise<MarketForecast[]> {
    ctx.services.forecast.validateList(inputs);
    return throwFirstError(await ctx.services.forecast.forecastMany(inputs, 'inputs', ctx.submission)) as MarketForecast[];
  }

  @Authorized('forecast:read')
  @Query(() => [SymbolInfo], { description: 'Symbols in the price store with their date range and row count.' })
  symbols(@Ctx() ctx: GatewayContext): Promise<SymbolInfo[]> {
    return ctx.services.prices.symbols();
  }

  @Authorized('forecast:read')
  @Query(() => [PricePoint], {
    description: `Stored prices of a symbol between two dates (inclusive), oldest first, at most \`limit\` (1..${MAX_PRICE_ROWS}). Costs one complexity unit per 10 rows of the limit.`,
    complexity: rowsComplexity('limit', DEFAULT_PRICE_ROWS),
  })
  prices(
    @Arg('symbol', () => String) symbol: string,
    @Arg('from', () => DateScalar, { nullable: true }) from: string | null,
    @Arg('to', () => DateScalar, { nullable: true }) to: string | null,
    @Arg('limit', () => Int, { defaultValue: DEFAULT_PRICE_ROWS }) limit: number,
    @Ctx() ctx: GatewayContext,
  ): Promise<PricePoint[]> {
    return readPrices(ctx, symbol, from, to, limit);
  }

  @Authorized('forecast:read')
  @Query(() => Ticker, { description: 'An instrument by symbol (also how other subgraphs reach it, as a federation entity).' })
  ticker(@Arg('symbol', () => String) symbol: string): Ticker {
    return { symbol: symbol.trim().toUpperCase() };
  }
}

function readPrices(ctx: GatewayContext, symbol: string, from: string | null, to: string | null, limit: number): Promise<PricePoint[]> {
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PRICE_ROWS) throw new InvalidInputError(`limit must be 1..${MAX_PRICE_ROWS}, got ${limit}`, 'limit');
  if (from && to && from > to) throw new InvalidInputError(`from must not be after to, got ${from} > ${to}`, 'from');
  return ctx.services.prices.prices(symbol.trim().toUpperCase(), from ?? undefined, to ?? undefined, limit);
}

/** A Ticker's fields: many tickers of one operation (from other subgraphs too) share one batched inference. */
@Resolver(() => Ticker)
export class TickerResolver {
  @Authorized('forecast:read')
  @FieldResolver(() => [PricePoint], { description: `Stored prices between two dates, oldest first, at most \`limit\` (1..${MAX_PRICE_ROWS}).`, complexity: rowsComplexity('limit', DEFAULT_PRICE_ROWS) })
  prices(
    @Root() ticker: Ticker,
    @Arg('from', () => DateScalar, { nullable: true }) from: string | null,
    @Arg('to', () => DateScalar, { nullable: true }) to: string | null,
    @Arg('limit', () => Int, { defaultValue: DEFAULT_PRICE_ROWS }) limit: number,
    @Ctx() ctx: GatewayContext,
  ): Promise<PricePoint[]> {
    return readPrices(ctx, ticker.symbol, from, to, limit);
  }

  @Authorized('forecast:read')
  @FieldResolver(() => MarketForecast, { description: 'Interval forecast of the stored series, as marketForecast.', complexity: ({ childComplexity }) => childComplexity + ITEM_COST.forecast })
  forecast(
    @Root() ticker: Ticker,
    @Arg('horizon', () => Int, { defaultValue: 5 }) horizon: number,
    @Arg('levels', () => [Float], { defaultValue: [0.8, 0.95] }) levels: number[],
    @Ctx() ctx: GatewayContext,
  ): Promise<MarketForecast> {
    return ctx.loaders.marketForecast.load({ symbol: ticker.symbol, horizon, levels }) as Promise<MarketForecast>;
  }

  @Authorized('sentiment:read')
  @FieldResolver(() => TickerSentiment, { description: 'The tone of the news newsSentiment has analysed for this ticker over the last `days` (1..365) days, by publication time.' })
  newsSentiment(@Root() ticker: Ticker, @Arg('days', () => Int, { defaultValue: 7 }) days: number, @Ctx() ctx: GatewayContext): Promise<TickerSentiment> {
    if (!Number.isInteger(days) || days < 1 || days > 365) throw new InvalidInputError(`days must be 1..365, got ${days}`, 'days');
    return ctx.services.newsLog.summary(ticker.symbol, new Date(Date.now() - days * 86_400_000));
  }
}
