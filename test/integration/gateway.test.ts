import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Gateway } from '../../src/server/gateway.js';
import { ModelByNameDocument, ModelsDocument, NewsSentimentDocument, SentimentDocument } from '../generated/graphql.js';
import { gql, startTestGateway } from '../support/gateway.js';

const MODEL = 'sentiment-bert';

describe('gateway over HTTP with the embedded models', () => {
  let gw: Gateway;
  let base: string;
  before(async () => {
    gw = await startTestGateway({ MODEL_BATCHING: JSON.stringify({ [MODEL]: { maxWaitMs: 20 } }) });
    base = gw.url.replace(/\/graphql$/, '');
  });
  after(() => gw.stop());

  const stats = async () => (await gql(gw.url, ModelByNameDocument, { name: MODEL })).body.data!.model!.stats;

  it('GET /healthz is 200 and GET /readyz is 200 with the models and their state', async () => {
    assert.equal((await fetch(`${base}/healthz`)).status, 200);
    const ready = await fetch(`${base}/readyz`);
    assert.equal(ready.status, 200);
    assert.deepEqual(await ready.json(), {
      status: 'ready',
      models: [
        { name: 'credit-gbt', version: '2.1.0', state: 'ready', required: true },
        { name: 'forecast-qnn', version: '1.0.0', state: 'ready', required: true },
        { name: MODEL, version: '3.0.0', state: 'ready', required: true },
        { name: 'sentiment-entity', version: '1.0.0', state: 'ready', required: true },
      ],
      capabilities: [{ name: 'credit-decision-record', ready: true }],
    });
  });

  it('classifies the reference headlines: POSITIVE then NEGATIVE', async () => {
    const res = await gql(gw.url, SentimentDocument, {
      texts: ['Apple beats earnings expectations and raises guidance', 'Bank shares slump after surprise loss'],
    });
    assert.equal(res.status, 200);
    const [up, down] = res.body.data!.sentiment;
    assert.equal(up!.label, 'POSITIVE');
    assert.equal(down!.label, 'NEGATIVE');
    for (const r of [up!, down!]) {
      assert.equal(r.scores.length, 3);
      assert.ok(Math.abs(r.scores.reduce((a, s) => a + s.probability, 0) - 1) < 1e-5);
      assert.equal(r.score, Math.max(...r.scores.map((s) => s.probability)));
      assert.equal(r.truncated, false);
      assert.deepEqual(r.model, { name: MODEL, version: '3.0.0' });
    }
  });

  it('a list of N texts is one batched runtime call', async () => {
    const before = await stats();
    const texts = Array.from({ length: 12 }, (_, i) => `Company ${i} reports quarterly revenue up ${i} percent`);
    const res = await gql(gw.url, SentimentDocument, { texts });
    assert.equal(res.body.data!.sentiment.length, 12);
    assert.deepEqual(
      res.body.data!.sentiment.map((r) => r.text),
      texts,
    );
    const after = await stats();
    assert.equal(after.batches - before.batches, 1);
    assert.equal(after.items - before.items, 12);
  });

  it('newsSentiment: N articles are one batched inference, summarised per ticker', async () => {
    const before = await stats();
    const articles = Array.from({ length: 10 }, (_, i) => ({
      id: `a${i}`,
      headline:
        i % 2 ? `Shares of Acme ${i} plunge after profit warning` : `Acme ${i} beats forecasts and lifts dividend`,
      body: 'Analysts had expected a weaker quarter.',
      tickers: i < 5 ? ['acme', 'ACME'] : ['ZZZ'],
      publishedAt: '2026-11-20T10:00:00Z',
    }));
    const res = await gql(gw.url, NewsSentimentDocument, { articles });
    const report = res.body.data!.newsSentiment;
    const after = await stats();
    assert.equal(after.batches - before.batches, 1);
    assert.equal(after.items - before.items, 10);
    assert.equal(report.articles.length, 10);
    assert.deepEqual(report.articles[0]!.tickers, ['ACME']);
    assert.deepEqual(
      report.byTicker.map((t) => [t.ticker, t.articleCount]),
      [
        ['ACME', 5],
        ['ZZZ', 5],
      ],
    );
    for (const t of report.byTicker) {
      assert.equal(t.positive + t.negative + t.neutral, t.articleCount);
      assert.ok(t.meanNetSentiment >= -1 && t.meanNetSentiment <= 1);
    }
  });

  it('concurrent requests share batches through the dynamic batcher', async () => {
    // 64 long texts (one batch) keep the model busy, as under load: the 16 one-text requests sent with them
    // must then share batches instead of each finding the model idle.
    const long = Array.from({ length: 64 }, (_, i) =>
      `Quarterly results of company ${i} beat expectations. `.repeat(30).slice(0, 1900),
    );
    const before = await stats();
    await Promise.all([
      gql(gw.url, SentimentDocument, { texts: long }),
      ...Array.from({ length: 16 }, (_, i) =>
        gql(gw.url, SentimentDocument, { texts: [`Stock ${i} rallies on upgrade`] }),
      ),
    ]);
    const after = await stats();
    assert.equal(after.items - before.items, 80);
    assert.ok(
      after.batches - before.batches <= 8,
      `64 long texts and 16 requests made ${after.batches - before.batches} batches`,
    );
  });

  it('flags texts longer than the model reads as truncated', async () => {
    const long = Array.from({ length: 300 }, (_, i) => `word${i}`)
      .join(' ')
      .slice(0, 2000);
    const res = await gql(gw.url, SentimentDocument, { texts: [long, 'Short headline'] });
    assert.deepEqual(
      res.body.data!.sentiment.map((r) => r.truncated),
      [true, false],
    );
  });

  it('models lists the loaded models with their metrics; model(name) is null for an unknown name', async () => {
    const res = await gql(gw.url, ModelsDocument, {});
    assert.deepEqual(
      res.body.data!.models.map((x) => x.name),
      ['credit-gbt', 'forecast-qnn', MODEL, 'sentiment-entity'],
    );
    const m = res.body.data!.models.find((x) => x.name === MODEL);
    assert.equal(m!.task, 'sentiment');
    assert.equal(m!.runtime, 'transformers');
    assert.equal(m!.state, 'READY');
    assert.ok(m!.loadedAt);
    assert.ok(
      (m!.metrics as { evaluation: { news_test: { transformersjs_int8: { macro_f1: number } } } }).evaluation.news_test
        .transformersjs_int8.macro_f1 > 0.7,
    );
    assert.equal((await gql(gw.url, ModelByNameDocument, { name: 'nope' })).body.data!.model, null);
  });

  it('serves the bundled GraphiQL to browsers on GET /graphql and echoes x-request-id', async () => {
    const page = await fetch(gw.url, { headers: { accept: 'text/html' } });
    assert.equal(page.status, 200);
    assert.match(await page.text(), /GraphiQL/);
    const res = await gql(gw.url, ModelByNameDocument, { name: MODEL }, { 'x-request-id': 'abc-123' });
    assert.equal(res.headers.get('x-request-id'), 'abc-123');
  });
});
