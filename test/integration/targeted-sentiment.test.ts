import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Gateway } from '../../src/server/gateway.js';
import {
  ModelByNameDocument,
  NewsEntitySentimentTestDocument,
  TargetedSentimentTestDocument,
} from '../generated/graphql.js';
import { codes, gql, startTestGateway } from '../support/gateway.js';

const MODEL = 'sentiment-entity';
const HEADLINE = 'Nordea shares jump after record profit while Danske Bank slumps on money-laundering fine';

describe('targetedSentiment and newsSentiment entities over HTTP with the embedded entity model', () => {
  let gw: Gateway;
  before(async () => {
    gw = await startTestGateway({ MODELS: 'sentiment-bert,sentiment-entity' });
  });
  after(() => gw.stop());

  const stats = async () => (await gql(gw.url, ModelByNameDocument, { name: MODEL })).body.data!.model!.stats;

  it('a two-company headline: opposite labels toward the two companies, in the order sent, with the model that decided', async () => {
    const res = await gql(gw.url, TargetedSentimentTestDocument, {
      items: [
        { text: HEADLINE, target: 'Nordea' },
        { text: HEADLINE, target: 'danske bank' },
      ],
    });
    assert.equal(res.body.errors, undefined, JSON.stringify(res.body.errors));
    const [nordea, danske] = res.body.data!.targetedSentiment;
    assert.deepEqual([nordea!.target, danske!.target], ['Nordea', 'danske bank']);
    assert.equal(nordea!.text, HEADLINE);
    assert.equal(nordea!.label, 'POSITIVE');
    assert.equal(danske!.label, 'NEGATIVE');
    for (const r of [nordea!, danske!]) {
      assert.equal(r.scores.length, 3);
      assert.ok(Math.abs(r.scores.reduce((a, s) => a + s.probability, 0) - 1) < 1e-5);
      assert.equal(r.model.name, MODEL);
      assert.match(r.model.sha256 ?? '', /^[0-9a-f]{64}$/);
    }
  });

  it('256 pairs are one batched inference; order is kept', async () => {
    const before = await stats();
    const items = Array.from({ length: 256 }, (_, i) => ({
      text: `Company ${i} beats estimates as Rival ${i} misses`,
      target: i % 2 ? `Rival ${i}` : `Company ${i}`,
    }));
    const res = await gql(gw.url, TargetedSentimentTestDocument, { items });
    assert.equal(res.body.errors, undefined, JSON.stringify(res.body.errors));
    assert.deepEqual(
      res.body.data!.targetedSentiment.map((r) => r.target),
      items.map((i) => i.target),
    );
    const after = await stats();
    assert.equal(after.batches - before.batches, 1);
    assert.equal(after.items - before.items, 256);
  });

  it('a target the text does not name, an empty target, too many items: BAD_USER_INPUT naming the item', async () => {
    const missing = await gql(gw.url, TargetedSentimentTestDocument, {
      items: [
        { text: HEADLINE, target: 'Nordea' },
        { text: HEADLINE, target: 'Swedbank' },
      ],
    });
    assert.deepEqual(codes(missing), ['BAD_USER_INPUT']);
    assert.match(missing.body.errors![0]!.message, /^items\[1\]\.target "Swedbank" does not occur in items\[1\]\.text/);
    assert.equal(missing.body.errors![0]!.extensions!.field, 'items[1].target');
    const empty = await gql(gw.url, TargetedSentimentTestDocument, { items: [{ text: HEADLINE, target: '  ' }] });
    assert.match(
      empty.body.errors![0]!.message,
      /^items\[0\]\.target must be 1\.\.200 characters of text, got only whitespace/,
    );
    const many = await gql(gw.url, TargetedSentimentTestDocument, {
      items: Array.from({ length: 257 }, () => ({ text: HEADLINE, target: 'Nordea' })),
    });
    assert.deepEqual(codes(many), ['BAD_USER_INPUT']);
    assert.match(many.body.errors![0]!.message, /^items must hold 1\.\.256 items, got 257/);
  });

  it('newsSentiment entities: each named company gets its own label, byTicker counts it; articles without entities keep the article label', async () => {
    const articles = [
      {
        id: '1',
        headline: HEADLINE,
        tickers: ['NDA'],
        entities: [
          { ticker: 'NDA', names: ['Nordea'] },
          { ticker: 'DANSKE', names: ['Danske Bank', 'Danske'] },
          { ticker: 'SEB', names: ['SEB'] },
        ],
      },
      { id: '2', headline: 'Danske Bank opens a new branch in Aarhus', tickers: ['DANSKE'] },
    ];
    const res = await gql(gw.url, NewsEntitySentimentTestDocument, { articles });
    assert.equal(res.body.errors, undefined, JSON.stringify(res.body.errors));
    const report = res.body.data!.newsSentiment;
    assert.deepEqual(
      report.articles[0]!.entities.map((e) => [e.ticker, e.name, e.label]),
      [
        ['NDA', 'Nordea', 'POSITIVE'],
        ['DANSKE', 'Danske Bank', 'NEGATIVE'],
      ],
    );
    assert.deepEqual(report.articles[1]!.entities, []);
    const danske = report.byTicker.find((t) => t.ticker === 'DANSKE')!;
    assert.equal(danske.articleCount, 2);
    assert.equal(danske.negative, 1, 'the headline counts as negative for Danske Bank, whatever the article label');
    const nordea = report.byTicker.find((t) => t.ticker === 'NDA')!;
    assert.deepEqual([nordea.articleCount, nordea.positive], [1, 1]);
  });
});
