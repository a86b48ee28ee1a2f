import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Gateway } from '../../src/server/gateway.js';
import { ExplainSentimentDocument, NewsSentimentDocument, SentimentDocument } from '../generated/graphql.js';
import { codes, gql, scrapeMetrics, startTestGateway } from '../support/gateway.js';

const TOKEN = 'metrics-token-0123456789';
const HEADLINE = 'Profit fell sharply as the bank took a large loan-loss charge';

describe('SentimentResult.explanation: occlusion through the batcher', () => {
  let gw: Gateway;
  before(async () => {
    gw = await startTestGateway({ MODELS: 'sentiment-bert', METRICS_TOKEN: TOKEN });
  });
  after(() => gw.stop());

  const counters = async () => {
    const { read } = await scrapeMetrics(gw.url, TOKEN);
    return {
      batches: read('gateway_inference_batches_total', 'sentiment-bert'),
      items: read('gateway_inference_items_total', 'sentiment-bert'),
    };
  };

  it('weighs every word of a headline in one batched inference, strongest first', async () => {
    const before = await counters();
    const res = await gql(gw.url, ExplainSentimentDocument, { texts: [HEADLINE], top: 20 });
    assert.equal(res.body.errors, undefined, JSON.stringify(res.body.errors));
    const after = await counters();
    const [result] = res.body.data!.sentiment;
    const words = HEADLINE.split(' ');
    // One batch for the text's own prediction, one for the text again plus its 11 variants.
    assert.equal(after.batches - before.batches, 2);
    assert.equal(after.items - before.items, 1 + 1 + words.length);
    const explanation = result!.explanation;
    assert.equal(explanation.label, result!.label);
    assert.equal(explanation.wordsConsidered, words.length);
    assert.equal(explanation.truncated, false);
    assert.equal(explanation.words.length, words.length);
    for (const w of explanation.words) {
      assert.equal(w.word, words[w.position]);
      assert.ok(Math.abs(w.weight) <= 1);
    }
    const magnitudes = explanation.words.map((w) => Math.abs(w.weight));
    assert.deepEqual(
      magnitudes,
      [...magnitudes].sort((a, b) => b - a),
    );
    assert.ok(magnitudes[0]! > 0.01, `the strongest word moves the probability (${magnitudes[0]})`);
    assert.deepEqual(explanation.model, { name: 'sentiment-bert', version: result!.explanation.model.version });
  });

  it("a word's weight is the change in the label's probability when that word is left out", async () => {
    const explained = await gql(gw.url, ExplainSentimentDocument, { texts: [HEADLINE], top: 1 });
    const [result] = explained.body.data!.sentiment;
    const strongest = result!.explanation.words[0]!;
    const without = HEADLINE.split(' ')
      .filter((_, i) => i !== strongest.position)
      .join(' ');
    const res = await gql(gw.url, SentimentDocument, { texts: [without] });
    const p = res.body.data!.sentiment[0]!.scores.find((s) => s.label === result!.label)!.probability;
    // Not exact: int8 activations are quantised with one scale per batch, so a text's probabilities move by
    // about a hundredth with the batch it rides in (here a batch of one, there the batch of variants).
    assert.ok(Math.abs(result!.score - p - strongest.weight) < 0.05, `${result!.score} - ${p} vs ${strongest.weight}`);
    assert.equal(Math.sign(result!.score - p), Math.sign(strongest.weight));
  });

  it('several texts share one batch of variants; a long text is weighed on its first 48 words', async () => {
    const long = Array.from({ length: 60 }, (_, i) => (i % 2 ? 'shares' : 'gain')).join(' ');
    const before = await counters();
    const res = await gql(gw.url, ExplainSentimentDocument, { texts: ['Shares jump on record orders', long] });
    assert.equal(res.body.errors, undefined, JSON.stringify(res.body.errors));
    const after = await counters();
    const [short, cut] = res.body.data!.sentiment;
    assert.equal(short!.explanation.words.length, 5, 'top defaults to 5');
    assert.equal(cut!.explanation.wordsConsidered, 48);
    assert.equal(cut!.explanation.truncated, true);
    // 1 + 5 and 1 + 48 variants: 55 items, under the model's batch size of 64.
    assert.equal(after.items - before.items, 2 + 55);
    assert.equal(after.batches - before.batches, 2);
  });

  it('explains news articles too', async () => {
    const res = await gql(
      gw.url,
      `query($a: [NewsArticleInput!]!) { newsSentiment(articles: $a) { articles { id sentiment { label explanation(top: 2) { label words { word weight } } } } } }`,
      { a: [{ id: 'n1', headline: 'Lender cuts full-year guidance', tickers: ['XYZ'] }] },
    );
    assert.equal(res.body.errors, undefined, JSON.stringify(res.body.errors));
    const article = (
      res.body.data as {
        newsSentiment: {
          articles: Array<{ sentiment: { label: string; explanation: { label: string; words: unknown[] } } }>;
        };
      }
    ).newsSentiment.articles[0]!;
    assert.equal(article.sentiment.explanation.label, article.sentiment.label);
    assert.equal(article.sentiment.explanation.words.length, 2);
  });

  it('bounds: top is 1..20, at most 32 texts explained per request, and each explained text is charged', async () => {
    for (const top of [0, 21]) {
      const res = await gql(gw.url, ExplainSentimentDocument, { texts: [HEADLINE], top });
      assert.deepEqual(codes(res), ['BAD_USER_INPUT']);
      assert.match(res.body.errors![0]!.message, new RegExp(`top must be 1\\.\\.20, got ${top}`));
    }
    const many = Array.from({ length: 33 }, (_, i) => `Company ${i} beats estimates`);
    const tooMany = await gql(gw.url, ExplainSentimentDocument, { texts: many });
    assert.deepEqual([...new Set(codes(tooMany))], ['BAD_USER_INPUT']);
    assert.match(tooMany.body.errors![0]!.message, /explanation is available for at most 32 texts per request, got 33/);
    const all = await gql(gw.url, ExplainSentimentDocument, {
      texts: Array.from({ length: 256 }, (_, i) => `Company ${i} beats estimates`),
    });
    assert.deepEqual(codes(all), ['QUERY_TOO_COMPLEX']);
    // Charged per text however it is asked for: through a named fragment, 41 texts cost 41 x 490 + 410 + fields.
    const fragment = `query($t: [String!]!) { sentiment(texts: $t) { ...Why } } fragment Why on SentimentResult { explanation { words { word } } }`;
    const viaFragment = await gql(gw.url, fragment, {
      t: Array.from({ length: 41 }, (_, i) => `Company ${i} beats estimates`),
    });
    assert.deepEqual(codes(viaFragment), ['QUERY_TOO_COMPLEX']);
    assert.match(viaFragment.body.errors![0]!.message, /got 2050\d/);
    // Without the explanation the same 256 texts are well within the limit.
    const plain = await gql(gw.url, SentimentDocument, {
      texts: Array.from({ length: 256 }, (_, i) => `Company ${i} beats estimates`),
    });
    assert.equal(plain.body.errors, undefined);
  });

  it('NewsSentiment without explanation is unchanged', async () => {
    const res = await gql(gw.url, NewsSentimentDocument, {
      articles: [{ id: 'a', headline: 'Bank raises dividend', tickers: ['BNK'] }],
    });
    assert.equal(res.body.errors, undefined);
  });
});
