/** Mirrors `ewma_sigma` / `features_at` in models/forecast-qnn/train/train_forecast.py (test_vectors.json checks it). */
export const EWMA_LAMBDA = 0.94;
export const LAGS = 20;
export const FEATURE_COUNT = LAGS + 4;
/** Horizons and quantile levels of the network's output grid. */
export const HORIZONS = [1, 2, 3, 5, 10, 20, 40, 60] as const;
export const QUANTILES = [0.025, 0.1, 0.25, 0.5, 0.75, 0.9, 0.975] as const;

export function logReturns(closes: readonly number[]): number[] {
  return closes.slice(1).map((c, i) => Math.log(c / closes[i]!));
}

/** sigma[t]: EWMA volatility after observing r[t], i.e. the forecast for t + 1; seeded with the first 20 returns. */
export function ewmaSigma(r: readonly number[]): number[] {
  const seed = r.slice(0, 20);
  let v = seed.reduce((a, x) => a + x * x, 0) / seed.length;
  return r.map((x) => {
    v = EWMA_LAMBDA * v + (1 - EWMA_LAMBDA) * x * x;
    return Math.sqrt(Math.max(v, 1e-12));
  });
}

/** The network's input at origin t (the last return), from returns up to t only. */
export function forecastFeatures(r: readonly number[], sigma: readonly number[]): Float32Array {
  const t = r.length - 1;
  const s = sigma[t]!;
  const lags = Array.from({ length: LAGS }, (_, k) => Math.min(Math.max(r[t - k]! / s, -10), 10));
  const rv = (n: number) => {
    const w = r.slice(Math.max(0, t - n + 1), t + 1);
    return Math.sqrt(w.reduce((a, x) => a + x * x, 0) / w.length + 1e-12);
  };
  return Float32Array.from([
    ...lags,
    Math.log(rv(5) / s),
    Math.log(rv(20) / s),
    Math.log(rv(60) / s),
    Math.log(s / rv(250)),
  ]);
}
