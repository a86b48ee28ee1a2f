import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parse } from 'csv-parse/sync';
import { REPO_ROOT } from '../../src/platform/config.js';
import type { Gateway } from '../../src/server/gateway.js';
import { ActivateModelVersionDocument, SentimentDocument } from '../generated/graphql.js';
import { gql, startTestGateway } from '../support/gateway.js';

const MODEL_DIR = path.join(REPO_ROOT, 'models', 'sentiment-bert');
const metrics = JSON.parse(readFileSync(path.join(MODEL_DIR, 'metrics.json'), 'utf8')) as {
  headlines: { count: number; accuracy: number };
  evaluation: Record<
    'news_test' | 'tweets_valid' | 'fiqa_headlines',
    {
      rows: number;
      transformersjs_int8: { accuracy: number; macro_f1: number; ece: number };
      version_1_int8: { accuracy: number };
    }
  >;
};
const headlines = parse(readFileSync(path.join(MODEL_DIR, 'train', 'headlines.csv')), { columns: true }) as Array<{
  headline: string;
  expected: string;
}>;

describe('sentiment-bert 3.0.0 as served', () => {
  let gw: Gateway;
  before(async () => {
    gw = await startTestGateway({ MODELS: 'sentiment-bert', ALLOW_OPEN_ADMIN: 'true' });
  });
  after(() => gw.stop());

  const accuracy = async () => {
    const res = await gql(gw.url, SentimentDocument, { texts: headlines.map((h) => h.headline) });
    assert.equal(res.body.errors, undefined);
    const results = res.body.data!.sentiment;
    return {
      version: results[0]!.model.version,
      accuracy: results.filter((r, i) => r.label.toLowerCase() === headlines[i]!.expected).length / results.length,
    };
  };

  it('answers the project-written headlines through HTTP exactly as the evaluation run recorded in metrics.json', async () => {
    const { version, accuracy: measured } = await accuracy();
    assert.equal(version, '3.0.0');
    assert.equal(headlines.length, metrics.headlines.count);
    assert.equal(Math.round(measured * 1000) / 1000, metrics.headlines.accuracy);
  });

  it('metrics.json holds the news and tweet evaluations, and version 2 is better on news than version 1', () => {
    const { news_test: news, tweets_valid: tweets, fiqa_headlines: fiqa } = metrics.evaluation;
    assert.ok(news.transformersjs_int8.accuracy > news.version_1_int8.accuracy, JSON.stringify(news));
    assert.equal(news.rows, 1892);
    assert.equal(tweets.rows, 2388);
    // The out-of-source news set: every FiQA headline, none of which version 2 was trained on.
    assert.equal(fiqa.rows, 424);
    assert.ok(fiqa.transformersjs_int8.accuracy > 0 && fiqa.transformersjs_int8.ece >= 0, JSON.stringify(fiqa));
    // Temperature scaling is fitted on development text from the same sources as these two sets.
    for (const set of [news, tweets]) {
      assert.ok(
        set.transformersjs_int8.ece >= 0 && set.transformersjs_int8.ece < 0.1,
        `calibrated: ECE ${set.transformersjs_int8.ece}`,
      );
    }
  });

  it('rolls back to versions 2.0.0 and 1.0.0 and forward again with activateModelVersion', async () => {
    for (const version of ['2.0.0', '1.0.0']) {
      const back = await gql(gw.url, ActivateModelVersionDocument, { name: 'sentiment-bert', version });
      assert.equal(back.body.errors, undefined, JSON.stringify(back.body.errors));
      assert.equal((await accuracy()).version, version);
    }
    const forward = await gql(gw.url, ActivateModelVersionDocument, { name: 'sentiment-bert', version: '3.0.0' });
    assert.equal(forward.body.data!.activateModelVersion.version, '3.0.0');
    assert.equal((await accuracy()).version, '3.0.0');
  });
});
