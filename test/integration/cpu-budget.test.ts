import 'reflect-metadata';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { loadConfig, REPO_ROOT } from '../../src/platform/config.js';
import { startGateway } from '../../src/server/gateway.js';
import { CreditAssessmentsDocument, MarketForecastsDocument } from '../generated/graphql.js';
import { sampleAccount } from '../support/accounts.js';
import { gql } from '../support/gateway.js';
import { weekdaySeries } from '../support/prices.js';

const vectors = JSON.parse(
  readFileSync(path.join(REPO_ROOT, 'models', 'forecast-qnn', 'test_vectors.json'), 'utf8'),
) as Array<{ closes: number[] }>;

describe('the CPU budget at start (CPU_BUDGET, TABULAR_THREADS, VOLATILITY_THREADS)', () => {
  it('logs its division and serves the tabular models and the volatility pool on their shares', async () => {
    const lines: Array<Record<string, unknown>> = [];
    const logger = pino(
      { level: 'info' },
      new Writable({
        write(chunk: Buffer, _encoding, done) {
          lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
          done();
        },
      }),
    );
    const config = loadConfig({
      HOST: '127.0.0.1',
      PORT: '0',
      NODE_ENV: 'test',
      PRICE_DB_PATH: ':memory:',
      AUDIT_DB_PATH: ':memory:',
      RATE_LIMIT_PER_SECOND: '0',
      MODELS: 'credit-gbt,forecast-qnn',
      CPU_BUDGET: '6',
      TABULAR_THREADS: '2',
      VOLATILITY_THREADS: '2',
    });
    const gw = await startGateway(config, logger);
    try {
      const division = lines.filter((l) => /^CPU budget/.test(String(l.msg)));
      assert.equal(division.length, 1);
      assert.equal(division[0]!.level, 30);
      const { budget, inferenceThreads, modelWorkers, tabularThreads, volatilityThreads, shares, total } = division[0]!;
      assert.deepEqual(
        { budget, inferenceThreads, modelWorkers, tabularThreads, volatilityThreads, shares, total },
        {
          budget: 6,
          inferenceThreads: 2,
          modelWorkers: 1,
          tabularThreads: 2,
          volatilityThreads: 2,
          shares: { inference: 2, tabular: 2, volatility: 2 },
          total: 6,
        },
      );
      const accounts = Array.from({ length: 200 }, (_, i) => sampleAccount(i));
      // Each series' volatility is fitted in the pool: 12 series keep both of its threads busy.
      const series = Array.from({ length: 12 }, (_, i) => ({
        series: weekdaySeries(vectors[i % vectors.length]!.closes),
        horizon: 5,
      }));
      const [credit, forecasts] = await Promise.all([
        gql(gw.url, CreditAssessmentsDocument, { accounts }),
        gql(gw.url, MarketForecastsDocument, { inputs: series }),
      ]);
      assert.equal(credit.body.errors, undefined, JSON.stringify(credit.body.errors));
      assert.equal(credit.body.data!.creditAssessments.length, accounts.length);
      assert.equal(forecasts.body.errors, undefined, JSON.stringify(forecasts.body.errors));
      assert.equal(forecasts.body.data!.marketForecasts.length, series.length);
      assert.ok(forecasts.body.data!.marketForecasts.every((f) => f.points.length === 5));
    } finally {
      await gw.stop();
    }
  });
});
