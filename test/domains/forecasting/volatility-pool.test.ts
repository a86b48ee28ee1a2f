import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { estimateVolatility } from '../../../src/domains/forecasting/forecast.volatility.js';
import { VolatilityPool } from '../../../src/domains/forecasting/volatility-pool.js';
import { REPO_ROOT } from '../../../src/platform/config.js';

const vectors = JSON.parse(
  readFileSync(path.join(REPO_ROOT, 'models', 'forecast-qnn', 'test_vectors.json'), 'utf8'),
) as Array<{ closes: number[] }>;

describe('VolatilityPool', () => {
  it('runs on the threads it is given (config.cpu.volatilityThreads), no more, with the answers of the event loop', async () => {
    assert.ok(vectors.length >= 2, `${vectors.length} vectors`);
    for (const threads of [1, 3]) {
      const pool = new VolatilityPool(threads);
      try {
        // Enough series at once that the pool grows to its bound: its size is read as each one comes back.
        const series = Array.from({ length: 40 }, (_, i) => vectors[i % vectors.length]!.closes);
        let peak = 0;
        const estimates = await Promise.all(
          series.map(async (closes) => {
            const estimate = await pool.estimate(closes, 5);
            peak = Math.max(peak, pool.started);
            return estimate;
          }),
        );
        assert.equal(peak, threads, `${threads} threads allowed, ${peak} started`);
        assert.equal(estimates.length, series.length);
        estimates.forEach((e, i) => assert.deepEqual(e, estimateVolatility(series[i]!, 5), `series ${i}`));
      } finally {
        await pool.close();
      }
    }
  });
});
