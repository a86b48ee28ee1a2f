import { ewmaSigma, EWMA_LAMBDA, logReturns } from './forecast.features.js';
import { ewmaPath, fitGarch, garchPath, type GarchParameters, type VolatilityPath } from './garch.js';

/** GARCH(1,1) is fitted on at most this many latest returns (bounds the optimiser's work per series). */
export const GARCH_WINDOW = 2000;

/** A series' volatility model and its path over the horizon: plain data, so a worker thread can return it. */
export interface VolatilityEstimate {
  readonly garch: GarchParameters | undefined;
  readonly path: VolatilityPath;
  readonly name: string;
  readonly parameters: Record<string, number>;
}

/** Estimates volatility for one series; may run elsewhere (a worker pool), hence the promise. */
export type VolatilityEstimator = (closes: readonly number[], horizon: number) => Promise<VolatilityEstimate>;

/** GARCH(1,1) on the latest returns (EWMA when the fit fails): the volatility model that won the backtest's QLIKE. */
export function estimateVolatility(closes: readonly number[], horizon: number): VolatilityEstimate {
  const r = logReturns(closes).slice(-GARCH_WINDOW);
  const garch = fitGarch(r);
  const sigma = ewmaSigma(r);
  const path: VolatilityPath = garch ? garchPath(r, garch, horizon) : ewmaPath(sigma[sigma.length - 1]!, horizon);
  const parameters: Record<string, number> = garch
    ? { ...garch, persistence: garch.alpha + garch.beta }
    : { ewmaLambda: EWMA_LAMBDA, ewmaSigma: sigma[sigma.length - 1]! };
  return { garch, path, name: garch ? 'garch(1,1)' : `ewma(${EWMA_LAMBDA})`, parameters };
}

/** The same estimate on the calling thread (scripts, tests). */
export const estimateVolatilityHere: VolatilityEstimator = async (closes, horizon) =>
  estimateVolatility(closes, horizon);
