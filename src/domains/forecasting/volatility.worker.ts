// A worker thread of the volatility pool: GARCH fitting (about 10 ms a series) never blocks the event loop.
import { estimateVolatility, type VolatilityEstimate } from './forecast.volatility.js';

export default function estimate({ closes, horizon }: { closes: Float64Array; horizon: number }): VolatilityEstimate {
  return estimateVolatility(Array.from(closes), horizon);
}
