import type { ModelIdentity } from '../../runtime/model-identity.js';
import { probit } from 'simple-statistics';
import { cachedMany, digest, type AnswerCache, type AnswerCodec } from '../../platform/answer-cache.js';
import { assertListSize, InvalidInputError, NotFoundError } from '../../platform/errors.js';
import type { SubmitAs } from '../../runtime/dynamic-batcher.js';
import type { InferenceModel } from '../../runtime/model-registry.js';
import type { TabularOutputs } from '../../runtime/onnx-runtime.js';
import {
  intRangeProblem,
  levelsProblem,
  MAX_PRICE,
  normalizeSymbol,
  refuse,
  seriesProblem,
  symbolProblem,
} from '../market-rules.js';
import { inferFrequency, nextBusinessDays } from './forecast.calendar.js';
import { ewmaSigma, EWMA_LAMBDA, forecastFeatures, logReturns } from './forecast.features.js';
import { gridQuantile } from './forecast.quantiles.js';
import {
  estimateVolatilityHere,
  GARCH_WINDOW,
  type VolatilityEstimate,
  type VolatilityEstimator,
} from './forecast.volatility.js';
import type { PriceRow, PriceStore } from './price-store.js';

export interface PricePoint {
  readonly date: string;
  readonly close: number;
  readonly open?: number | null;
  readonly high?: number | null;
  readonly low?: number | null;
  readonly volume?: number | null;
}

export interface ForecastRequest {
  readonly series?: readonly PricePoint[] | null;
  readonly symbol?: string | null;
  readonly horizon?: number | null;
  readonly levels?: readonly number[] | null;
}

export interface ForecastResult {
  readonly symbol: string | null;
  readonly lastDate: string;
  readonly lastClose: number;
  readonly method: string;
  readonly points: ReadonlyArray<{
    step: number;
    date: string;
    mean: number;
    median: number;
    intervals: ReadonlyArray<{ level: number; lower: number; upper: number }>;
  }>;
  readonly volatility: { daily: number; annualized: number; model: string; perStep: number[] };
  readonly diagnostics: {
    sampleSize: number;
    parameters: Record<string, number>;
    fallbackUsed: boolean;
    fallbackReason: string | null;
  };
  readonly model: ModelIdentity;
}

export const FORECAST_LIMITS = {
  minPoints: 60,
  maxPoints: 10_000,
  maxHorizon: 60,
  maxLevels: 10,
  defaultHorizon: 5,
  defaultLevels: [0.8, 0.95],
  /** Below this many returns the network's long-window feature is not trustworthy: GARCH is used instead. */
  networkMinReturns: 250,
  /** GARCH is fitted on at most this many latest returns (bounds the optimiser's work per series). */
  garchWindow: GARCH_WINDOW,
  /** Above any quoted instrument; keeps every derived figure (means, intervals) finite. */
  maxPrice: MAX_PRICE,
} as const;

const Z90 = 1.2815515655446004; // normal quantile at 90 %: turns a 10-90 % spread into a standard deviation

interface Prepared {
  /** The input's path in the request (input, inputs[3]), for errors. */
  readonly field: string;
  readonly symbol: string | null;
  readonly dates: readonly string[];
  readonly closes: readonly number[];
  readonly horizon: number;
  readonly levels: readonly number[];
}

/** Price-series forecasting: validation, the quantile network through the batcher, GARCH/EWMA fallback. */
export class ForecastService {
  constructor(
    private readonly model: () => InferenceModel<Float32Array, TabularOutputs>,
    private readonly store: PriceStore,
    readonly maxSeries: number,
    /** Where GARCH is fitted: a worker pool in the gateway, this thread by default. */
    private readonly volatility: VolatilityEstimator = estimateVolatilityHere,
    /** Cached forecasts, per the series' content, horizon, levels and the network's artefact hash. */
    private readonly cache?: AnswerCache,
  ) {}

  validateList(inputs: readonly unknown[]): void {
    assertListSize('inputs', inputs.length, this.maxSeries);
  }

  /** One entry per request (its forecast or its own Error); all network inferences go out as one batch. */
  async forecastMany(
    requests: readonly ForecastRequest[],
    field = 'inputs',
    caller: SubmitAs = '',
  ): Promise<Array<ForecastResult | Error>> {
    const prepared = await Promise.all(
      requests.map((r, i) =>
        this.prepare(r, requests.length === 1 && field === 'input' ? field : `${field}[${i}]`).catch(
          (error: unknown) => error as Error,
        ),
      ),
    );
    const featured = prepared.map((p, i) => {
      if (p instanceof Error || p.closes.length - 1 < FORECAST_LIMITS.networkMinReturns) return undefined;
      const row = featuresOf(p);
      // Finite in float64 is not finite in the network's float32 (a price of 5e-324 after 300 ordinary ones).
      if (row.features.every(Number.isFinite)) return row;
      prepared[i] = overflowError(p.field);
      return undefined;
    });
    const model = featured.some((row) => row !== undefined) ? this.model() : undefined;
    const items = prepared.map((p, i) => ({ p, row: featured[i] }));
    const sha = model?.identity.sha256;
    // What decides a forecast: the series itself (a symbol's as read from the store now), horizon, levels, and
    // the network's artefacts when it is used (not for a series too short for it). A remote network is not cached.
    const keyOf = ({ p, row }: (typeof items)[number]) =>
      p instanceof Error || (row && !sha)
        ? undefined
        : `${row ? sha : 'builtin'}:${digest(p.symbol ?? '', p.dates.join(','), Float64Array.from(p.closes), `${p.horizon}`, p.levels.join(','))}`;
    const answers = await cachedMany(this.cache, 'forecast', items, keyOf, FORECAST_CODEC, (missing) =>
      this.compute(missing, model, caller),
    );
    return answers.map((a, i) => {
      if (a instanceof Error) return a;
      // Monitored output, cached answers included (they are traffic): the 10-90 % spread of the 1-step
      // standardised return (as in baseline.json).
      if (a.spread !== null && items[i]!.row) model!.observe(items[i]!.row!.features, a.spread);
      return a.result;
    });
  }

  /** Forecasts of prepared series: the network's batch and the volatility fits (worker threads) at the same time. */
  private async compute(
    items: ReadonlyArray<{ p: Prepared | Error; row: ReturnType<typeof featuresOf> | undefined }>,
    model: InferenceModel<Float32Array, TabularOutputs> | undefined,
    caller: SubmitAs,
  ): Promise<Array<CachedForecast | Error>> {
    const rows = items.flatMap((item) => (item.row ? [item.row] : []));
    const [outputs, volatilities] = await Promise.all([
      model && rows.length
        ? model.inferMany(
            rows.map((r) => r.features),
            caller,
          )
        : Promise.resolve([]),
      Promise.all(
        items.map(({ p }) =>
          p instanceof Error
            ? undefined
            : this.volatility(p.closes, p.horizon).catch((error: unknown) => error as Error),
        ),
      ),
    ]);
    let k = 0;
    return items.map(({ p, row }, i) => {
      if (p instanceof Error) return p;
      const vol = volatilities[i]!;
      if (vol instanceof Error) return vol;
      if (!row)
        return cached(
          finite(
            statisticalForecast(
              p,
              vol,
              `fewer than ${FORECAST_LIMITS.networkMinReturns} returns (${p.closes.length - 1})`,
              this.modelRef(model),
            ),
            p.field,
          ),
          null,
        );
      const out = outputs[k++];
      if (out instanceof Error) return out;
      return cached(
        finite(networkForecast(p, vol, row.sigma, out!.quantiles!, model!.identity), p.field),
        out!.quantiles![5]! - out!.quantiles![1]!,
      );
    });
  }

  private modelRef(model: InferenceModel<unknown, unknown> | undefined) {
    return model ? model.identity : { name: 'garch-1-1', version: 'builtin', sha256: null };
  }

  private async prepare(r: ForecastRequest, at: string): Promise<Prepared> {
    // GraphQL inputs were checked by the same rules already (forecast.inputs.ts); Ticker.forecast's arguments were not.
    const horizon = r.horizon ?? FORECAST_LIMITS.defaultHorizon;
    refuse(`${at}.horizon`, intRangeProblem(horizon, 1, FORECAST_LIMITS.maxHorizon));
    const levels = r.levels ?? FORECAST_LIMITS.defaultLevels;
    refuse(`${at}.levels`, levelsProblem(levels, FORECAST_LIMITS.maxLevels));
    if ((r.series == null) === (r.symbol == null)) {
      throw new InvalidInputError(
        `${at} must give exactly one of series or symbol, got ${r.series == null ? 'neither' : 'both'}`,
        at,
      );
    }
    if (r.symbol != null) {
      refuse(`${at}.symbol`, symbolProblem(r.symbol));
      const symbol = normalizeSymbol(r.symbol);
      const rows = await this.store.latest(symbol, FORECAST_LIMITS.maxPoints);
      if (rows.length === 0)
        throw new NotFoundError(
          `${at}.symbol ${symbol} is not in the price store; import it with npm run import-prices`,
        );
      if (rows.length < FORECAST_LIMITS.minPoints) {
        throw new InvalidInputError(
          `${at}.symbol ${symbol} has ${rows.length} prices in the store; a forecast needs at least ${FORECAST_LIMITS.minPoints}`,
          `${at}.symbol`,
        );
      }
      const dates = rows.map((p) => p.date);
      assertDaily(dates, `${at}.symbol`, `${symbol} in the price store`);
      return { field: at, symbol, dates, closes: rows.map((p) => p.close), horizon, levels };
    }
    const series = r.series!;
    assertListSize(`${at}.series`, series.length, FORECAST_LIMITS.maxPoints, FORECAST_LIMITS.minPoints);
    validateSeries(series, `${at}.series`);
    const dates = series.map((p) => p.date);
    assertDaily(dates, `${at}.series`, 'the series');
    return { field: at, symbol: null, dates, closes: series.map((p) => p.close), horizon, levels };
  }
}

/** A forecast with the drift-monitored output of its network inference (null without one). */
interface CachedForecast {
  readonly result: ForecastResult;
  readonly spread: number | null;
}

function cached(result: ForecastResult | Error, spread: number | null): CachedForecast | Error {
  return result instanceof Error ? result : { result, spread };
}

/** Forecasts are small trees of numbers: JSON through Redis, weighed by its length. */
const FORECAST_CODEC: AnswerCodec<CachedForecast> = {
  size: (v) => 3 * JSON.stringify(v).length,
  encode: (v) => JSON.stringify(v),
  decode: (text) => {
    const v = JSON.parse(text) as CachedForecast;
    if (typeof v?.result?.lastDate !== 'string' || !Array.isArray(v.result.points)) throw new Error('not a forecast');
    return v;
  },
};

/**
 * The network and the annualisation (sqrt 252) were trained and defined on daily closes: a weekly or
 * monthly series would get weekday dates and a volatility several times too high, so it is refused.
 */
function assertDaily(dates: readonly string[], field: string, what: string): void {
  const { frequency, medianGapDays } = inferFrequency(dates);
  if (frequency !== 'daily') {
    throw new InvalidInputError(
      `${what} looks ${frequency} (median gap ${medianGapDays} days between prices); the forecaster was trained on daily closes (business days): send daily prices`,
      field,
    );
  }
}

/** Each row by the shared price-row rule, dates strictly increasing (as the importer checks a file). */
export function validateSeries(series: readonly PriceRow[], at: string): void {
  refuse(at, seriesProblem(series));
}

/**
 * A forecast whose figures overflowed (prices that jump by hundreds of orders of magnitude) is the
 * input's problem, said as such, rather than a number GraphQL cannot serialise.
 */
function finite(result: ForecastResult, field: string): ForecastResult | Error {
  const numbers = [
    ...result.points.flatMap((p) => [p.mean, p.median, ...p.intervals.flatMap((iv) => [iv.lower, iv.upper])]),
    result.volatility.daily,
    result.volatility.annualized,
    ...result.volatility.perStep,
  ];
  return numbers.every(Number.isFinite) ? result : overflowError(field);
}

function overflowError(field: string): InvalidInputError {
  return new InvalidInputError(
    `${field}: the series moves too far between prices to forecast (its figures overflow); check it for unadjusted splits or wrong units`,
    field,
  );
}

function featuresOf(p: Prepared) {
  const r = logReturns(p.closes);
  const sigma = ewmaSigma(r);
  return { features: forecastFeatures(r, sigma), sigma: sigma[sigma.length - 1]! };
}

/** Cumulative-return quantile at step h and probability q, for a source of standardised quantiles. */
type QuantileFn = (h: number, q: number) => number;

function assemble(
  p: Prepared,
  method: string,
  quantile: QuantileFn,
  vol: { model: string; stepVariance: number[] },
  diagnostics: ForecastResult['diagnostics'],
  model: ForecastResult['model'],
): ForecastResult {
  const lastClose = p.closes[p.closes.length - 1]!;
  const dates = nextBusinessDays(p.dates[p.dates.length - 1]!, p.horizon);
  const points = dates.map((date, k) => {
    const h = k + 1;
    const median = quantile(h, 0.5);
    const sd = (quantile(h, 0.9) - quantile(h, 0.1)) / (2 * Z90);
    return {
      step: h,
      date,
      median: lastClose * Math.exp(median),
      mean: lastClose * Math.exp(median + 0.5 * sd * sd),
      intervals: p.levels.map((level) => ({
        level,
        lower: lastClose * Math.exp(quantile(h, (1 - level) / 2)),
        upper: lastClose * Math.exp(quantile(h, (1 + level) / 2)),
      })),
    };
  });
  const perStep = vol.stepVariance.map((v) => Math.sqrt(Math.max(v, 0)));
  return {
    symbol: p.symbol,
    lastDate: p.dates[p.dates.length - 1]!,
    lastClose,
    method,
    points,
    volatility: { daily: perStep[0]!, annualized: perStep[0]! * Math.sqrt(252), model: vol.model, perStep },
    diagnostics,
    model,
  };
}

function networkForecast(
  p: Prepared,
  vol: VolatilityEstimate,
  sigma: number,
  grid: Float32Array,
  model: ForecastResult['model'],
): ForecastResult {
  const quantile: QuantileFn = (h, q) => sigma * Math.sqrt(h) * gridQuantile(grid, h, q);
  return assemble(
    p,
    'quantile-network',
    quantile,
    { model: vol.name, stepVariance: vol.path.stepVariance },
    {
      sampleSize: p.closes.length,
      parameters: { ewmaLambda: EWMA_LAMBDA, ewmaSigma: sigma, ...vol.parameters },
      fallbackUsed: !vol.garch,
      fallbackReason: vol.garch ? null : 'the GARCH(1,1) fit failed: volatility from EWMA',
    },
    model,
  );
}

function statisticalForecast(
  p: Prepared,
  vol: VolatilityEstimate,
  reason: string,
  model: ForecastResult['model'],
): ForecastResult {
  const { garch, path, name, parameters } = vol;
  const quantile: QuantileFn = (h, q) => {
    const z = probit(q);
    return path.cumulativeMean[h - 1]! + z * Math.sqrt(path.cumulativeVariance[h - 1]!);
  };
  return assemble(
    p,
    name,
    quantile,
    { model: name, stepVariance: path.stepVariance },
    {
      sampleSize: p.closes.length,
      parameters,
      fallbackUsed: true,
      fallbackReason: garch ? reason : `${reason}; the GARCH(1,1) fit failed, EWMA used`,
    },
    model,
  );
}
