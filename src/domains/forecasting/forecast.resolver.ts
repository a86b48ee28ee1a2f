import { Arg, Authorized, Ctx, FieldResolver, Float, Int, Query, Resolver, Root } from 'type-graphql';
import { DateScalar, perItemComplexity, rowsComplexity } from '../../graphql/common.types.js';
import { FORECAST_ITEM_COST, type ForecastingContext } from './forecast.context.js';
import { throwFirstError } from '../../graphql/settle.js';
import { InvalidInputError } from '../../platform/errors.js';
import { intRangeProblem, normalizeSymbol, refuse, symbolProblem } from '../market-rules.js';
import { ForecastInput } from './forecast.inputs.js';
import { MarketForecast, PricePoint, SymbolInfo, Ticker } from './forecast.types.js';

const MAX_PRICE_ROWS = 10_000;
const DEFAULT_PRICE_ROWS = 1000;

@Resolver()
export class ForecastResolver {
  @Authorized('forecast:read')
  @Query(() => MarketForecast, {
    description: 'Interval forecasts and volatility of one price series.',
    complexity: perItemComplexity('input', FORECAST_ITEM_COST),
  })
  marketForecast(
    @Arg('input', () => ForecastInput) input: ForecastInput,
    @Ctx() ctx: ForecastingContext,
  ): Promise<MarketForecast> {
    return ctx.forecasting.loaders.marketForecast.load(input) as Promise<MarketForecast>;
  }

  @Authorized('forecast:read')
  @Query(() => [MarketForecast], {
    description: 'Forecasts of up to 100 series, in the order sent, in one batched inference.',
    complexity: perItemComplexity('inputs', FORECAST_ITEM_COST),
  })
  async marketForecasts(
    @Arg('inputs', () => [ForecastInput]) inputs: ForecastInput[],
    @Ctx() ctx: ForecastingContext,
  ): Promise<MarketForecast[]> {
    ctx.forecasting.forecast.validateList(inputs);
    return throwFirstError(
      await ctx.forecasting.forecast.forecastMany(inputs, 'inputs', ctx.submission),
    ) as MarketForecast[];
  }

  @Authorized('forecast:read')
  @Query(() => [SymbolInfo], { description: 'Symbols in the price store with their date range and row count.' })
  symbols(@Ctx() ctx: ForecastingContext): Promise<SymbolInfo[]> {
    return ctx.forecasting.prices.symbols();
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
    @Ctx() ctx: ForecastingContext,
  ): Promise<PricePoint[]> {
    return readPrices(ctx, symbol, from, to, limit);
  }

  @Authorized('forecast:read')
  @Query(() => Ticker, {
    description: 'An instrument by symbol (also how other subgraphs reach it, as a federation entity).',
  })
  ticker(@Arg('symbol', () => String) symbol: string): Ticker {
    return { symbol: symbol.trim().toUpperCase() };
  }
}

function readPrices(
  ctx: ForecastingContext,
  symbol: string,
  from: string | null,
  to: string | null,
  limit: number,
): Promise<PricePoint[]> {
  refuse('limit', intRangeProblem(limit, 1, MAX_PRICE_ROWS));
  refuse('symbol', symbolProblem(symbol));
  if (from && to && from > to) throw new InvalidInputError(`from must not be after to, got ${from} > ${to}`, 'from');
  return ctx.forecasting.prices.prices(normalizeSymbol(symbol), from ?? undefined, to ?? undefined, limit);
}

/** A Ticker's fields: many tickers of one operation (from other subgraphs too) share one batched inference. */
@Resolver(() => Ticker)
export class TickerResolver {
  @Authorized('forecast:read')
  @FieldResolver(() => [PricePoint], {
    description: `Stored prices between two dates, oldest first, at most \`limit\` (1..${MAX_PRICE_ROWS}).`,
    complexity: rowsComplexity('limit', DEFAULT_PRICE_ROWS),
  })
  prices(
    @Root() ticker: Ticker,
    @Arg('from', () => DateScalar, { nullable: true }) from: string | null,
    @Arg('to', () => DateScalar, { nullable: true }) to: string | null,
    @Arg('limit', () => Int, { defaultValue: DEFAULT_PRICE_ROWS }) limit: number,
    @Ctx() ctx: ForecastingContext,
  ): Promise<PricePoint[]> {
    return readPrices(ctx, ticker.symbol, from, to, limit);
  }

  @Authorized('forecast:read')
  @FieldResolver(() => MarketForecast, {
    description: 'Interval forecast of the stored series, as marketForecast.',
    complexity: FORECAST_ITEM_COST,
  })
  forecast(
    @Root() ticker: Ticker,
    @Arg('horizon', () => Int, { defaultValue: 5 }) horizon: number,
    @Arg('levels', () => [Float], { defaultValue: [0.8, 0.95] }) levels: number[],
    @Ctx() ctx: ForecastingContext,
  ): Promise<MarketForecast> {
    return ctx.forecasting.loaders.marketForecast.load({
      symbol: ticker.symbol,
      horizon,
      levels,
    }) as Promise<MarketForecast>;
  }
}
