import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { inferFrequency, isIsoDate, nextBusinessDays } from '../../../src/domains/forecasting/forecast.calendar.js';
import {
  ewmaSigma,
  forecastFeatures,
  HORIZONS,
  logReturns,
  QUANTILES,
} from '../../../src/domains/forecasting/forecast.features.js';
import { gridQuantile } from '../../../src/domains/forecasting/forecast.quantiles.js';
import { fitGarch, garchPath } from '../../../src/domains/forecasting/garch.js';
import { nelderMead } from '../../../src/domains/forecasting/nelder-mead.js';
import { REPO_ROOT } from '../../../src/platform/config.js';

const vectors = JSON.parse(
  readFileSync(path.join(REPO_ROOT, 'models', 'forecast-qnn', 'test_vectors.json'), 'utf8'),
) as Array<{ closes: number[]; sigma: number; features: number[]; quantiles: number[][] }>;

/** Deterministic normal draws (mulberry32 + Box-Muller). */
function normals(seed: number, n: number): number[] {
  let a = seed;
  const uniform = () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return Array.from({ length: n }, () => Math.sqrt(-2 * Math.log(1 - uniform())) * Math.cos(2 * Math.PI * uniform()));
}

describe('forecast features', () => {
  it('match the training run for the same prices (test_vectors.json)', () => {
    assert.ok(vectors.length >= 3, `test_vectors.json holds ${vectors.length} series`);
    for (const v of vectors) {
      const r = logReturns(v.closes);
      const sigma = ewmaSigma(r);
      assert.ok(Math.abs(sigma.at(-1)! - v.sigma) < 1e-9 * Math.max(1, v.sigma) + 1e-12);
      const f = forecastFeatures(r, sigma);
      assert.equal(v.features.length, f.length);
      v.features.forEach((x, i) => assert.ok(Math.abs(f[i]! - x) < 1e-4, `feature ${i}: ${f[i]} vs ${x}`));
    }
  });
});

describe('gridQuantile', () => {
  const grid = Float32Array.from(HORIZONS.flatMap((h) => QUANTILES.map((_, k) => (k - 3) * (1 + h / 100))));
  it('is exact on the grid and interpolates between horizons and levels', () => {
    assert.ok(Math.abs(gridQuantile(grid, 5, 0.9) - 2 * 1.05) < 1e-6);
    assert.ok(Math.abs(gridQuantile(grid, 1, 0.5)) < 1e-9);
    const mid = gridQuantile(grid, 7, 0.9);
    assert.ok(mid > gridQuantile(grid, 5, 0.9) && mid < gridQuantile(grid, 10, 0.9));
  });
  it('is increasing in the probability, also beyond the outer grid levels', () => {
    const ps = [0.001, 0.01, 0.025, 0.1, 0.3, 0.5, 0.7, 0.9, 0.975, 0.99, 0.999];
    const qs = ps.map((p) => gridQuantile(grid, 20, p));
    qs.slice(1).forEach((q, i) => assert.ok(q > qs[i]!));
  });
});

describe('calendar', () => {
  it('steps over weekends', () => {
    assert.deepEqual(nextBusinessDays('2026-11-20', 3), ['2026-11-23', '2026-11-24', '2026-11-25']);
    assert.deepEqual(nextBusinessDays('2026-11-21', 1), ['2026-11-23']);
  });
  it('infers the frequency of a series from the median gap between its dates', () => {
    const every = (start: string, n: number, step: (d: Date) => void) => {
      const d = new Date(`${start}T00:00:00Z`);
      return Array.from({ length: n }, () => {
        const s = d.toISOString().slice(0, 10);
        step(d);
        return s;
      });
    };
    const weekdays = every('2024-01-01', 300, (d) => d.setUTCDate(d.getUTCDate() + (d.getUTCDay() === 5 ? 3 : 1)));
    assert.equal(inferFrequency(weekdays).frequency, 'daily');
    assert.equal(inferFrequency(weekdays.filter((_, i) => i % 17 !== 3)).frequency, 'daily', 'holidays and gaps');
    assert.equal(
      inferFrequency(every('2024-01-01', 300, (d) => d.setUTCDate(d.getUTCDate() + 1))).frequency,
      'daily',
      'calendar days',
    );
    assert.deepEqual(inferFrequency(every('2020-01-03', 200, (d) => d.setUTCDate(d.getUTCDate() + 7))), {
      frequency: 'weekly',
      medianGapDays: 7,
    });
    assert.equal(
      inferFrequency(every('2000-01-01', 300, (d) => d.setUTCMonth(d.getUTCMonth() + 1))).frequency,
      'monthly',
    );
    assert.equal(
      inferFrequency(every('1990-01-01', 100, (d) => d.setUTCMonth(d.getUTCMonth() + 3))).frequency,
      'quarterly',
    );
    assert.equal(
      inferFrequency(every('1990-01-01', 70, (d) => d.setUTCDate(d.getUTCDate() + 45))).frequency,
      'irregular',
    );
  });
  it('accepts real YYYY-MM-DD dates only', () => {
    assert.ok(isIsoDate('2024-02-29'));
    for (const bad of ['2023-02-29', '2024-13-01', '2024-1-5', '05/01/2024', '']) assert.ok(!isIsoDate(bad), bad);
    // The same verdict as a round trip through Date on every day number 00..39 of every month 00..13, years 0000 to 2500 (every 97th before 1552).
    const byDate = (s: string) =>
      /^\d{4}-\d{2}-\d{2}$/.test(s) && new Date(`${s}T00:00:00Z`).toISOString?.().slice(0, 10) === s;
    let valid = 0;
    for (let year = 0; year <= 2500; year += year < 1500 ? 97 : 1) {
      for (let month = 0; month <= 13; month++) {
        for (let day = 0; day <= 39; day++) {
          const s = `${String(year).padStart(4, '0')}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
          let expected = false;
          try {
            expected = byDate(s);
          } catch {
            /* an invalid Date throws on toISOString */
          }
          assert.equal(isIsoDate(s), expected, s);
          if (expected) valid++;
        }
      }
    }
    assert.ok(valid > 340_000, `${valid} valid days`);
  });
});

describe('GARCH(1,1)', () => {
  it('recovers the persistence of a simulated series by maximum likelihood', () => {
    const [omega, alpha, beta] = [2e-6, 0.08, 0.9];
    const z = normals(42, 4000);
    let v = omega / (1 - alpha - beta);
    const r = z.map((e) => {
      const x = Math.sqrt(v) * e;
      v = omega + alpha * x * x + beta * v;
      return x;
    });
    const p = fitGarch(r)!;
    assert.ok(p, 'fit succeeds');
    assert.ok(Math.abs(p.alpha + p.beta - 0.98) < 0.02, `persistence ${p.alpha + p.beta}`);
    assert.ok(Math.abs(p.alpha - 0.08) < 0.04, `alpha ${p.alpha}`);
    const path = garchPath(r, p, 500);
    const longRun = p.omega / (1 - p.alpha - p.beta);
    assert.ok(Math.abs(path.stepVariance[499]! - longRun) / longRun < 0.01, 'reverts to the long-run variance');
    assert.ok(Math.abs(path.cumulativeVariance[1]! - path.stepVariance[0]! - path.stepVariance[1]!) < 1e-15);
  });
});

describe('nelderMead', () => {
  it('finds the minimum of the Rosenbrock function', () => {
    const m = nelderMead(([x, y]) => (1 - x!) ** 2 + 100 * (y! - x! ** 2) ** 2, [-1.2, 1], {
      maxIterations: 5000,
      tolerance: 1e-14,
    });
    assert.ok(m.converged);
    assert.ok(Math.abs(m.x[0]! - 1) < 1e-3 && Math.abs(m.x[1]! - 1) < 1e-3, `${m.x}`);
  });
});
