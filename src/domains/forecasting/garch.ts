import { nelderMead } from './nelder-mead.js';

export interface GarchParameters {
  readonly mu: number;
  readonly omega: number;
  readonly alpha: number;
  readonly beta: number;
}

export interface VolatilityPath {
  /** Mean of the cumulative return after 1..h steps. */
  readonly cumulativeMean: number[];
  /** Variance of the cumulative return after 1..h steps. */
  readonly cumulativeVariance: number[];
  /** Variance of each single step. */
  readonly stepVariance: number[];
}

const variance = (r: readonly number[]) => {
  const m = r.reduce((a, b) => a + b, 0) / r.length;
  return r.reduce((a, x) => a + (x - m) ** 2, 0) / r.length;
};

/**
 * Gaussian GARCH(1,1) with constant mean, by maximum likelihood (Nelder-Mead over an unconstrained
 * reparametrisation: omega = exp(a), alpha + beta = logistic(b), alpha share = logistic(c)).
 * Returns undefined when the optimiser does not reach a stationary fit.
 */
export function fitGarch(r: readonly number[]): GarchParameters | undefined {
  const var0 = variance(r);
  if (!(var0 > 0)) return undefined;
  const logistic = (x: number) => 1 / (1 + Math.exp(-x));
  const unpack = ([m, a, b, c]: number[]): GarchParameters => {
    const persistence = 0.999 * logistic(b!);
    const alpha = persistence * logistic(c!);
    return { mu: m!, omega: Math.exp(a!), alpha, beta: persistence - alpha };
  };
  const negLogLikelihood = (x: number[]) => {
    const { mu, omega, alpha, beta } = unpack(x);
    let v = var0;
    let nll = 0;
    for (let t = 0; t < r.length; t++) {
      if (t > 0) v = omega + alpha * (r[t - 1]! - mu) ** 2 + beta * v;
      nll += 0.5 * (Math.log(v) + (r[t]! - mu) ** 2 / v);
    }
    return Number.isFinite(nll) ? nll : 1e300;
  };
  const mean = r.reduce((a, b) => a + b, 0) / r.length;
  const start = [mean, Math.log(var0 * 0.05), 3.9, -2.4]; // persistence ~0.98, alpha ~0.08
  const result = nelderMead(negLogLikelihood, start, { maxIterations: 3000, tolerance: 1e-7 });
  const p = unpack(result.x);
  if (!Number.isFinite(result.fx) || !(p.omega > 0) || p.alpha + p.beta >= 0.999) return undefined;
  return p;
}

/** Conditional variance after the last return, then the h-step path under GARCH(1,1). */
export function garchPath(r: readonly number[], p: GarchParameters, horizon: number): VolatilityPath {
  let v = variance(r);
  for (let t = 1; t <= r.length; t++) v = p.omega + p.alpha * (r[t - 1]! - p.mu) ** 2 + p.beta * v;
  const longRun = p.omega / (1 - p.alpha - p.beta);
  const stepVariance = Array.from({ length: horizon }, (_, k) => longRun + (p.alpha + p.beta) ** k * (v - longRun));
  return cumulate(stepVariance, p.mu);
}

/** Flat EWMA path: every step has the next-day variance. */
export function ewmaPath(nextDaySigma: number, horizon: number): VolatilityPath {
  return cumulate(new Array(horizon).fill(nextDaySigma ** 2), 0);
}

function cumulate(stepVariance: number[], mu: number): VolatilityPath {
  let acc = 0;
  const cumulativeVariance = stepVariance.map((v) => (acc += v));
  return { cumulativeMean: stepVariance.map((_, k) => mu * (k + 1)), cumulativeVariance, stepVariance };
}
