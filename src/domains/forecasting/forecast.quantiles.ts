import { probit } from 'simple-statistics';
import { HORIZONS, QUANTILES } from './forecast.features.js';

const Z_GRID = QUANTILES.map((q) => probit(q));

/**
 * Quantile of the standardised h-step return z_h at probability p, from the network's grid
 * (grid[horizonIndex][quantileIndex]): linear in log h between grid horizons, linear in normal-quantile
 * space between grid levels, extrapolated from the two outermost levels beyond them.
 */
export function gridQuantile(grid: ArrayLike<number>, h: number, p: number): number {
  const nq = QUANTILES.length;
  // h is 1..60 (validated), so a grid horizon >= h always exists.
  const hi = HORIZONS.findIndex((x) => x >= h);
  const lo = HORIZONS[hi] === h || hi === 0 ? hi : hi - 1;
  const w =
    lo === hi ? 0 : (Math.log(h) - Math.log(HORIZONS[lo]!)) / (Math.log(HORIZONS[hi]!) - Math.log(HORIZONS[lo]!));
  const at = (k: number) => (1 - w) * grid[lo * nq + k]! + w * grid[hi * nq + k]!;
  const z = probit(p);
  let k = Z_GRID.findIndex((g) => g >= z);
  if (k === -1) k = nq - 1;
  if (k === 0) k = 1;
  const t = (z - Z_GRID[k - 1]!) / (Z_GRID[k]! - Z_GRID[k - 1]!);
  return at(k - 1) + t * (at(k) - at(k - 1));
}
