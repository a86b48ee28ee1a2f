import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import { REPO_ROOT } from '../../src/platform/config.js';
import {
  configureTransformers,
  planSubBatches,
  TextClassificationRuntime,
} from '../../src/runtime/transformers-runtime.js';

const headlines = () =>
  (
    parse(readFileSync(path.join(REPO_ROOT, 'models', 'sentiment-bert', 'train', 'headlines.csv')), {
      columns: true,
    }) as Array<{ headline: string }>
  ).map((r) => r.headline);
const padded = (group: number[], lengths: number[]) => group.length * Math.max(...group.map((i) => lengths[i]!));

describe('planSubBatches', () => {
  it('keeps every index exactly once', () => {
    const lengths = Array.from({ length: 50 }, (_, i) => ((i * 37) % 120) + 3);
    const groups = planSubBatches(lengths, 2048);
    assert.deepEqual(
      groups.flat().sort((a, b) => a - b),
      lengths.map((_, i) => i),
    );
  });

  it('puts short headlines apart from long texts, each group sorted by length', () => {
    const lengths = [...new Array(10).fill(12), ...new Array(10).fill(128)];
    const groups = planSubBatches(lengths, 4096);
    assert.equal(groups.length, 2);
    assert.ok(groups[0]!.every((i) => i < 10) && groups[1]!.every((i) => i >= 10));
  });

  it('never pads a group over the token budget unless one row alone exceeds it', () => {
    const lengths = Array.from({ length: 200 }, (_, i) => 10 + (i % 7));
    const groups = planSubBatches(lengths, 256);
    assert.ok(groups.length > 1);
    for (const g of groups) assert.ok(padded(g, lengths) <= 256, `group of ${g.length} pads to ${padded(g, lengths)}`);
    assert.deepEqual(planSubBatches([500], 256), [[0]]);
  });

  it('keeps headlines of similar length in one inference', () => {
    const lengths = Array.from({ length: 64 }, (_, i) => 9 + (i % 10)); // 9..18 tokens
    assert.equal(planSubBatches(lengths, 2048).length, 1);
  });

  it('answers an empty batch with no groups', () => {
    assert.deepEqual(planSubBatches([], 2048), []);
  });
});

describe('TextClassificationRuntime with the shipped sentiment model', () => {
  it('answers a mixed batch as it answers each text alone, and flags only the cut texts', async () => {
    const runtime = new TextClassificationRuntime({
      source: path.join(REPO_ROOT, 'models', 'sentiment-bert'),
      dtype: 'q8',
      intraOpThreads: 1,
    });
    configureTransformers({ allowRemoteModels: false, localModelPath: path.join(REPO_ROOT, 'models') });
    await runtime.load();
    try {
      const long = 'Revenue fell sharply while costs rose and the outlook was cut again. '.repeat(20);
      const texts = [...headlines().slice(0, 30), long, `${long} Shares plunged.`];
      const batch = await runtime.run(texts);
      assert.equal(batch.length, texts.length);
      for (const [i, text] of texts.entries()) {
        const [alone] = await runtime.run([text]);
        assert.equal(batch[i]!.truncated, i >= 30, `text ${i} truncated flag`);
        assert.equal(alone!.truncated, batch[i]!.truncated);
        const gap = Math.max(...alone!.probabilities.map((p, k) => Math.abs(p - batch[i]!.probabilities[k]!)));
        // int8 activations are quantised per inference, so a batch differs from a lone run by rounding only.
        assert.ok(gap < 0.01, `text ${i}: batch and lone probabilities differ by ${gap}`);
      }
      assert.deepEqual(await runtime.run([]), []);
    } finally {
      await runtime.dispose();
    }
  });
});
