import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { REPO_ROOT } from '../../src/platform/config.js';
import type { Gateway } from '../../src/server/gateway.js';
import {
  MarketForecastDocument,
  MarketForecastsDocument,
  ModelByNameDocument,
  PriceStoreDocument,
} from '../generated/graphql.js';
import { codes, gql, startTestGateway } from '../support/gateway.js';
import { weekdaySeries } from '../support/prices.js';

const vectors = JSON.parse(
  readFileSync(path.join(REPO_ROOT, 'models', 'forecast-qnn', 'test_vectors.json'), 'utf8'),
) as Array<{ closes: number[]; sigma: number; quantiles: number[][] }>;
const IMPORT = path.join(REPO_ROOT, 'dist', 'scripts', 'import-prices.js');

describe('market forecasting over HTTP with the embedded model and a real price store', () => {
  let gw: Gateway;
  let dir: string;
  let db: string;
  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'prices-'));
    db = path.join(dir, 'prices.sqlite');
    const csv = [
      'date,open,high,low,close,volume',
      ...weekdaySeries(vectors[0]!.closes).map(
        (p) => `${p.date},${p.close},${p.close * 1.01},${p.close * 0.99},${p.close},1000`,
      ),
    ].join('\n');
    writeFileSync(path.join(dir, 'good.csv'), csv);
    execFileSync(process.execPath, [IMPORT, 'demo', path.join(dir, 'good.csv')], {
      env: { ...process.env, PRICE_DB_PATH: db },
    });
    gw = await startTestGateway({ MODELS: 'forecast-qnn', PRICE_DB_PATH: db });
  });
  after(async () => {
    await gw.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("forecasts a pasted series with the network: intervals are the model's quantiles, nested and on business days", async () => {
    const v = vectors[1]!;
    const res = await gql(gw.url, MarketForecastDocument, { input: { series: weekdaySeries(v.closes), horizon: 7 } });
    const f = res.body.data!.marketForecast;
    assert.equal(f.method, 'quantile-network');
    assert.equal(f.lastDate, '2021-12-31');
    assert.equal(f.points.length, 7);
    assert.deepEqual(
      f.points.slice(0, 2).map((p) => p.date),
      ['2022-01-03', '2022-01-04'],
    );
    const last = v.closes.at(-1)!;
    const [i80] = f.points[0]!.intervals;
    // Step 1, level 0.8: the network's 10 % and 90 % quantiles of the standardised return, times sigma.
    assert.ok(Math.abs(i80!.lower - last * Math.exp(v.sigma * v.quantiles[0]![1]!)) < 1e-6 * last);
    assert.ok(Math.abs(i80!.upper - last * Math.exp(v.sigma * v.quantiles[0]![5]!)) < 1e-6 * last);
    for (const p of f.points) {
      const [a, b] = p.intervals;
      assert.ok(b!.lower < a!.lower && a!.lower < p.median && p.median < a!.upper && a!.upper < b!.upper);
    }
    assert.equal(f.volatility.perStep.length, 7);
    assert.ok(Math.abs(f.volatility.annualized - f.volatility.daily * Math.sqrt(252)) < 1e-12);
    assert.equal(f.diagnostics.sampleSize, v.closes.length);
    assert.deepEqual(f.model, { name: 'forecast-qnn', version: '1.0.0' });
  });

  it('forecasts an imported symbol, lists it and serves its prices', async () => {
    const store = await gql(gw.url, PriceStoreDocument, { symbol: 'DEMO', from: '2021-12-01', to: '2021-12-10' });
    assert.deepEqual(
      store.body.data!.symbols.map((s) => [s.symbol, s.rows]),
      [['DEMO', vectors[0]!.closes.length]],
    );
    assert.equal(store.body.data!.prices.length, 8);
    const res = await gql(gw.url, MarketForecastDocument, { input: { symbol: 'demo' } });
    const f = res.body.data!.marketForecast;
    assert.equal(f.symbol, 'DEMO');
    assert.equal(f.points.length, 5);
    assert.deepEqual(
      f.points[0]!.intervals.map((i) => i.level),
      [0.8, 0.95],
    );
  });

  it('short series fall back to GARCH(1,1) and say so', async () => {
    const res = await gql(gw.url, MarketForecastDocument, {
      input: { series: weekdaySeries(vectors[2]!.closes.slice(-80)) },
    });
    const f = res.body.data!.marketForecast;
    assert.match(f.method, /garch|ewma/);
    assert.equal(f.diagnostics.fallbackUsed, true);
    assert.match(f.diagnostics.fallbackReason!, /fewer than 250 returns \(79\)/);
  });

  it('several series are one batched inference', async () => {
    const stats = async () =>
      (await gql(gw.url, ModelByNameDocument, { name: 'forecast-qnn' })).body.data!.model!.stats;
    const before = await stats();
    const inputs = [0, 1, 2, 0, 1].map((k) => ({ series: weekdaySeries(vectors[k]!.closes), horizon: 3 }));
    const res = await gql(gw.url, MarketForecastsDocument, { inputs });
    assert.equal(res.body.data!.marketForecasts.length, 5);
    const after = await stats();
    assert.equal(after.batches - before.batches, 1);
    assert.equal(after.items - before.items, 5);
  });

  it('misuse: each bad input is BAD_USER_INPUT naming the field; an unknown symbol is NOT_FOUND', async () => {
    const series = weekdaySeries(vectors[0]!.closes);
    const bad = async (input: Record<string, unknown>, code: string, message: RegExp) => {
      const res = await gql(gw.url, MarketForecastDocument, { input } as never);
      assert.deepEqual(codes(res), [code], JSON.stringify(res.body).slice(0, 300));
      assert.match(res.body.errors![0]!.message, message);
    };
    const swap = [...series];
    [swap[10], swap[11]] = [swap[11]!, swap[10]!];
    await bad({ series: swap }, 'BAD_USER_INPUT', /input\.series\[11\]\.date must be after/);
    await bad(
      { series: series.map((p, i) => (i === 5 ? { ...p, date: series[4]!.date } : p)) },
      'BAD_USER_INPUT',
      /input\.series\[5\]\.date must be after/,
    );
    await bad(
      { series: series.map((p, i) => (i === 3 ? { ...p, close: 0 } : p)) },
      'BAD_USER_INPUT',
      /input\.series\[3\]\.close must be a positive price up to 1e\+12, got 0/,
    );
    await bad(
      { series: series.map((p, i) => (i === 3 ? { ...p, close: 'NaN' } : p)) },
      'BAD_USER_INPUT',
      /close|Float/,
    );
    await bad(
      { series: series.map((p, i) => (i === 2 ? { ...p, date: '2021/01/05' } : p)) },
      'BAD_USER_INPUT',
      /input\.series\[2\]\.date must be a date as YYYY-MM-DD/,
    );
    await bad({ series: series.slice(0, 59) }, 'BAD_USER_INPUT', /input\.series must hold 60\.\.10000 items, got 59/);
    await bad({ series, horizon: 0 }, 'BAD_USER_INPUT', /input\.horizon must be 1\.\.60, got 0/);
    await bad({ series, horizon: 61 }, 'BAD_USER_INPUT', /got 61/);
    await bad({ series, levels: [0.8, 1] }, 'BAD_USER_INPUT', /input\.levels\[1\] must be in \(0, 1\), got 1/);
    await bad({ series, symbol: 'DEMO' }, 'BAD_USER_INPUT', /exactly one of series or symbol, got both/);
    await bad({}, 'BAD_USER_INPUT', /got neither/);
    await bad({ symbol: 'NOPE' }, 'NOT_FOUND', /NOPE is not in the price store/);
    const monthly = series.map((p, i) => ({ ...p, date: new Date(Date.UTC(2000, i, 28)).toISOString().slice(0, 10) }));
    await bad(
      { series: monthly },
      'BAD_USER_INPUT',
      /^the series looks monthly \(median gap 3\d days between prices\); the forecaster was trained on daily closes/,
    );
    const many = await gql(gw.url, MarketForecastsDocument, { inputs: new Array(101).fill({ symbol: 'DEMO' }) });
    assert.match(many.body.errors![0]!.message, /inputs must hold 1\.\.100 items, got 101/);
  });

  it('import-prices: a monthly file imports with a warning, and its forecast is refused naming the frequency', async () => {
    const csv = [
      'date,close',
      ...vectors[0]!.closes.map((c, i) => `${new Date(Date.UTC(1990, i, 1)).toISOString().slice(0, 10)},${c}`),
    ].join('\n');
    writeFileSync(path.join(dir, 'monthly.csv'), csv);
    const imported = spawnSync(process.execPath, [IMPORT, 'SPXM', path.join(dir, 'monthly.csv')], {
      env: { ...process.env, PRICE_DB_PATH: db },
      encoding: 'utf8',
    });
    assert.equal(imported.status, 0);
    assert.match(
      imported.stderr,
      /warning: these prices look monthly \(median gap 3\d days\); forecasts need daily closes and will refuse SPXM/,
    );
    const res = await gql(gw.url, MarketForecastDocument, { input: { symbol: 'SPXM' } });
    assert.deepEqual(codes(res), ['BAD_USER_INPUT']);
    assert.match(res.body.errors![0]!.message, /SPXM in the price store looks monthly/);
    assert.equal(res.body.errors![0]!.extensions!.field, 'input.symbol');
  });

  it('import-prices: a file with bad rows imports nothing unless --skip-bad, and names the lines', () => {
    writeFileSync(path.join(dir, 'bad.csv'), 'date,close\n2024-01-02,10\n2024-01-03,-1\n2024-01-04,12\n');
    const env = { ...process.env, PRICE_DB_PATH: db };
    const refused = spawnSync(process.execPath, [IMPORT, 'BADS', path.join(dir, 'bad.csv')], { env, encoding: 'utf8' });
    assert.equal(refused.status, 1);
    assert.match(refused.stderr, /bad\.csv:3: close must be a positive price up to 1e\+12, got -1/);
    assert.match(refused.stderr, /nothing imported/);
    const skipped = spawnSync(process.execPath, [IMPORT, 'BADS', path.join(dir, 'bad.csv'), '--skip-bad'], {
      env,
      encoding: 'utf8',
    });
    assert.equal(skipped.status, 0);
    assert.match(skipped.stdout, /imported 2 rows for BADS \(skipped 1 bad\)/);
  });
});
