import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createSentimentLoaders } from '../../../src/domains/sentiment/sentiment.loaders.js';
import {
  normalizeSentimentLabel,
  occlusionVariants,
  SentimentService,
  summarizeByTicker,
  validateArticles,
  type SentimentPrediction,
} from '../../../src/domains/sentiment/sentiment.service.js';
import { GatewayErrorCode, type GatewayError } from '../../../src/platform/errors.js';
import type { InferenceModel } from '../../../src/runtime/model-registry.js';
import type { TextClassification } from '../../../src/runtime/transformers-runtime.js';

/** A fake model that records each batch; "bad" texts fail on their own. */
function fakeModel(labels = ['negative', 'neutral', 'positive']) {
  const calls: string[][] = [];
  const model: InferenceModel<string, TextClassification> = {
    name: 'fake',
    version: '0',
    identity: { name: 'fake', version: '0', sha256: null },
    dir: '',
    labels,
    infer: async () => {
      throw new Error('unused');
    },
    observe: () => {},
    inferMany: async (texts) => {
      calls.push([...texts]);
      return texts.map((t) =>
        t === 'bad'
          ? new Error('cannot read bad')
          : {
              probabilities: t.includes('up') ? [0.1, 0.2, 0.7] : [0.6, 0.3, 0.1],
              truncated: t.length > 50,
            },
      );
    },
  };
  return { model, calls };
}

const limits = { maxTexts: 5, maxTextLength: 100 };
const code = (c: GatewayErrorCode) => (e: GatewayError) => e.code === c;

describe('SentimentService', () => {
  it('N loads in one tick make one batched inference, duplicates asked once', async () => {
    const { model, calls } = fakeModel();
    const loaders = createSentimentLoaders({ sentiment: new SentimentService(() => model, limits) }, 'key:test');
    const results = await Promise.all(['up a', 'down b', 'up a', 'down c'].map((t) => loaders.sentiment.load(t)));
    assert.deepEqual(calls, [['up a', 'down b', 'down c']]);
    assert.deepEqual(
      results.map((r) => r.label),
      ['POSITIVE', 'NEGATIVE', 'POSITIVE', 'NEGATIVE'],
    );
  });

  it('explanations: every variant of every text of a tick in one inference, weights from the differences', async () => {
    const { model, calls } = fakeModel();
    const loaders = createSentimentLoaders({ sentiment: new SentimentService(() => model, limits) }, 'key:test');
    const [a, b] = await Promise.all(['shares up today', 'down b'].map((t) => loaders.sentiment.load(t)));
    calls.length = 0;
    const [ea, eb] = await Promise.all([loaders.explanation.load(a!), loaders.explanation.load(b!)]);
    assert.deepEqual(calls, [['shares up today', 'up today', 'shares today', 'shares up', 'down b', 'b', 'down']]);
    // Without "up" the fake reads the text as negative: P(positive) falls 0.7 -> 0.1; the other words change nothing.
    assert.deepEqual(
      ea!.words.map((w) => [w.word, w.position, Math.round(w.weight * 10) / 10]),
      [
        ['up', 1, 0.6],
        ['shares', 0, 0],
        ['today', 2, 0],
      ],
    );
    assert.equal(ea!.label, 'POSITIVE');
    assert.equal(eb!.wordsConsidered, 2);
  });

  it('occlusion variants: whitespace-separated words, the first maxWords of them', () => {
    assert.deepEqual(occlusionVariants('  a  b\nc '), {
      words: ['a', 'b', 'c'],
      variants: ['b c', 'a c', 'a b'],
      truncated: false,
    });
    assert.deepEqual(occlusionVariants('a b c', 2), { words: ['a', 'b'], variants: ['b c', 'a c'], truncated: true });
  });

  it('maps probabilities onto labels in the model order, score is the top probability', async () => {
    const { model } = fakeModel(['bearish', 'neutral', 'bullish']);
    const [p] = (await new SentimentService(() => model, limits).classifyMany(['up'])) as SentimentPrediction[];
    assert.equal(p!.label, 'POSITIVE');
    assert.equal(p!.score, 0.7);
    assert.deepEqual(
      p!.scores.map((s) => s.label),
      ['NEGATIVE', 'NEUTRAL', 'POSITIVE'],
    );
    assert.deepEqual(p!.model, { name: 'fake', version: '0', sha256: null });
  });

  it('a text the model fails on rejects only its own load', async () => {
    const { model, calls } = fakeModel();
    const loaders = createSentimentLoaders({ sentiment: new SentimentService(() => model, limits) }, 'key:test');
    const settled = await Promise.allSettled(['up', 'bad'].map((t) => loaders.sentiment.load(t)));
    assert.deepEqual(
      settled.map((s) => s.status),
      ['fulfilled', 'rejected'],
    );
    assert.equal(calls.length, 1);
  });

  it('refuses a model whose labels do not map onto the three sentiments', async () => {
    const { model } = fakeModel(['joy', 'anger', 'fear']);
    await assert.rejects(
      new SentimentService(() => model, limits).classifyMany(['x']),
      code(GatewayErrorCode.MODEL_UNAVAILABLE),
    );
  });

  it('bounds: list size, empty and whitespace-only text, text length; the message names the index', () => {
    const s = new SentimentService(() => fakeModel().model, limits);
    assert.throws(() => s.validateTexts([]), /texts must hold 1\.\.5 items, got 0/);
    assert.throws(() => s.validateTexts(['a', 'b', 'c', 'd', 'e', 'f']), /got 6/);
    assert.throws(() => s.validateTexts(['ok', '']), /texts\[1\] must be non-empty text, got an empty string/);
    assert.throws(() => s.validateTexts(['ok', ' \n\t ']), /texts\[1\] must be non-empty text, got only whitespace/);
    assert.throws(() => s.validateTexts(['x'.repeat(101)]), /texts\[0\] must be at most 100 characters, got 101/);
    assert.doesNotThrow(() => s.validateTexts(['x'.repeat(100)]));
  });

  it('article bounds: duplicate ids, bad tickers, too many tickers, long body', () => {
    const s = new SentimentService(() => fakeModel().model, limits);
    const a = (over: object) => ({ id: '1', headline: 'h', ...over });
    assert.throws(() => validateArticles(s, [a({}), a({})]), /articles\[1\]\.id must be unique/);
    assert.throws(
      () => validateArticles(s, [a({ tickers: ['AAPL', 'no way'] })]),
      /articles\[0\]\.tickers\[1\] must be a ticker symbol/,
    );
    assert.throws(() => validateArticles(s, [a({ tickers: new Array(21).fill('A') })]), /at most 20 items, got 21/);
    assert.throws(
      () => validateArticles(s, [a({ body: 'x'.repeat(1001) })]),
      /articles\[0\]\.body must be at most 1000 characters/,
    );
    assert.throws(() => validateArticles(s, [a({ headline: ' ' })]), /articles\[0\]\.headline must be non-empty/);
    assert.doesNotThrow(() => validateArticles(s, [a({ tickers: ['brk.b', 'AAPL'] })]));
  });
});

describe('normalizeSentimentLabel', () => {
  it('knows the usual names, in any case, and LABEL_x for 3-class models', () => {
    assert.equal(normalizeSentimentLabel('Bullish', 0, 3), 'POSITIVE');
    assert.equal(normalizeSentimentLabel('bearish', 0, 3), 'NEGATIVE');
    assert.equal(normalizeSentimentLabel('NEUTRAL', 0, 3), 'NEUTRAL');
    assert.equal(normalizeSentimentLabel('LABEL_2', 2, 3), 'POSITIVE');
    assert.equal(normalizeSentimentLabel('LABEL_2', 2, 5), undefined);
    assert.equal(normalizeSentimentLabel('surprise', 0, 3), undefined);
  });
});

describe('summarizeByTicker', () => {
  it('counts labels per ticker and averages P(pos) - P(neg)', () => {
    const pred = (label: 'POSITIVE' | 'NEGATIVE', pos: number, neg: number): SentimentPrediction => ({
      text: '',
      label,
      score: Math.max(pos, neg),
      truncated: false,
      model: { name: 'm', version: '1', sha256: null },
      scores: [
        { label: 'NEGATIVE', probability: neg },
        { label: 'NEUTRAL', probability: 1 - pos - neg },
        { label: 'POSITIVE', probability: pos },
      ],
    });
    const out = summarizeByTicker(
      [{ tickers: ['msft', 'AAPL'] }, { tickers: ['AAPL', 'aapl'] }, { tickers: [] }],
      [pred('POSITIVE', 0.8, 0.1), pred('NEGATIVE', 0.2, 0.6), pred('POSITIVE', 0.9, 0)],
    );
    assert.deepEqual(
      out.map((t) => t.ticker),
      ['AAPL', 'MSFT'],
    );
    assert.equal(out[0]!.articleCount, 2);
    assert.equal(out[0]!.positive, 1);
    assert.equal(out[0]!.negative, 1);
    assert.ok(Math.abs(out[0]!.meanNetSentiment - (0.7 + -0.4) / 2) < 1e-12);
    assert.equal(out[1]!.articleCount, 1);
  });
});
