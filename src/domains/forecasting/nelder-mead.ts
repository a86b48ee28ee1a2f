// Deterministic Nelder-Mead simplex minimiser. Written here because the npm options did not fit: fmin's
// published build does not load under Node's ESM resolver, and optimization-js minimises by randomised
// coordinate steps (non-reproducible fits).

export interface Minimum {
  readonly x: number[];
  readonly fx: number;
  readonly iterations: number;
  readonly converged: boolean;
}

/**
 * Minimises f from x0 with the standard reflection/expansion/contraction/shrink steps
 * (coefficients 1, 2, 0.5, 0.5); stops when the simplex's values differ by less than `tolerance`.
 * @example nelderMead(([x, y]) => (x! - 1) ** 2 + (y! + 2) ** 2, [0, 0]).x // ≈ [1, -2]
 */
export function nelderMead(
  f: (x: number[]) => number,
  x0: readonly number[],
  { maxIterations = 2000, tolerance = 1e-9, step = 0.1 } = {},
): Minimum {
  const n = x0.length;
  let simplex = [
    x0.slice(),
    ...x0.map((_, i) => x0.map((v, j) => (i === j ? v + (v === 0 ? step : step * Math.abs(v) + step) : v))),
  ];
  let values = simplex.map(f);
  const combine = (a: number[], b: number[], t: number) => a.map((v, i) => v + t * (b[i]! - v));
  for (let iteration = 1; iteration <= maxIterations; iteration++) {
    const order = values.map((_, i) => i).sort((a, b) => values[a]! - values[b]!);
    simplex = order.map((i) => simplex[i]!);
    values = order.map((i) => values[i]!);
    if (Math.abs(values[n]! - values[0]!) < tolerance)
      return { x: simplex[0]!, fx: values[0]!, iterations: iteration, converged: true };
    const centroid = x0.map((_, j) => simplex.slice(0, n).reduce((s, p) => s + p[j]!, 0) / n);
    const reflected = combine(centroid, simplex[n]!, -1);
    const fr = f(reflected);
    if (fr < values[0]!) {
      const expanded = combine(centroid, simplex[n]!, -2);
      const fe = f(expanded);
      [simplex[n], values[n]] = fe < fr ? [expanded, fe] : [reflected, fr];
    } else if (fr < values[n - 1]!) {
      [simplex[n], values[n]] = [reflected, fr];
    } else {
      const contracted = fr < values[n]! ? combine(centroid, reflected, 0.5) : combine(centroid, simplex[n]!, 0.5);
      const fc = f(contracted);
      if (fc < Math.min(fr, values[n]!)) {
        [simplex[n], values[n]] = [contracted, fc];
      } else {
        simplex = simplex.map((p, i) => (i === 0 ? p : combine(simplex[0]!, p, 0.5)));
        values = simplex.map((p, i) => (i === 0 ? values[0]! : f(p)));
      }
    }
  }
  const best = values.indexOf(Math.min(...values));
  return { x: simplex[best]!, fx: values[best]!, iterations: maxIterations, converged: false };
}
