import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'csv-parse/sync';
import { REPO_ROOT } from '../../src/platform/config.js';
import { ActivateModelVersionDocument, SentimentDocument } from '../generated/graphql.js';
import { gql, startTestGateway } from '../support/gateway.js';

const headlines = (
  parse(readFileSync(path.join(REPO_ROOT, 'models', 'sentiment-bert', 'train', 'headlines.csv')), {
    columns: true,
  }) as Array<{ headline: string }>
).map((h) => h.headline);

describe('several model workers per model (MODEL_WORKERS)', () => {
  it('answers through HTTP as one worker does, one request at a time and 52 at once', async () => {
    const one = await startTestGateway({ MODELS: 'sentiment-bert', INFERENCE_THREADS: '1' });
    const two = await startTestGateway({ MODELS: 'sentiment-bert', INFERENCE_THREADS: '1', MODEL_WORKERS: '2' });
    try {
      const answer = async (url: string, text: string) => {
        const res = await gql(url, SentimentDocument, { texts: [text] });
        assert.equal(res.body.errors, undefined);
        return res.body.data!.sentiment[0]!;
      };
      const sequential: Array<Awaited<ReturnType<typeof answer>>> = [];
      for (const text of headlines) {
        const [a, b] = [await answer(one.url, text), await answer(two.url, text)];
        assert.deepEqual(b.scores, a.scores, text); // batches of one: the same model gives the same numbers
        sequential.push(a);
      }
      const together = await Promise.all(headlines.map((text) => answer(two.url, text)));
      together.forEach((b, i) => {
        // Dynamic int8 quantisation takes its activation ranges from the whole batch, so batched answers
        // move by up to about 0.01: the confident labels stay.
        if (sequential[i]!.score >= 0.6) assert.equal(b.label, sequential[i]!.label, headlines[i]!);
        assert.ok(
          Math.abs(b.score - sequential[i]!.score) < 0.05,
          `${headlines[i]}: ${b.score} vs ${sequential[i]!.score}`,
        );
      });
    } finally {
      await Promise.all([one.stop(), two.stop()]);
    }
  });

  it('swaps versions under load: the old workers finish what they took, nothing fails', async () => {
    const gw = await startTestGateway({
      MODELS: 'sentiment-bert',
      INFERENCE_THREADS: '1',
      MODEL_WORKERS: '2',
      ALLOW_OPEN_ADMIN: 'true',
    });
    try {
      // 8 clients keep asking while version 1.0.0 loads and is swapped in beside the two 3.0.0 workers.
      let swapping = true;
      const clients = Array.from({ length: 8 }, async (_, c) => {
        const answers = [];
        for (let i = c; swapping; i += 8)
          answers.push(await gql(gw.url, SentimentDocument, { texts: [headlines[i % headlines.length]!] }));
        return answers;
      });
      const back = await gql(gw.url, ActivateModelVersionDocument, { name: 'sentiment-bert', version: '1.0.0' });
      swapping = false;
      assert.equal(back.body.errors, undefined, JSON.stringify(back.body.errors));
      const answered = (await Promise.all(clients)).flat();
      assert.deepEqual(
        answered.filter((r) => r.body.errors).map((r) => r.body.errors),
        [],
      );
      assert.ok(
        answered.length >= 16 && answered.some((r) => r.body.data!.sentiment[0]!.model.version === '3.0.0'),
        `${answered.length} answered`,
      );
      const after = await gql(gw.url, SentimentDocument, { texts: [headlines[0]!] });
      assert.equal(after.body.data!.sentiment[0]!.model.version, '1.0.0');
    } finally {
      await gw.stop();
    }
  });
});
