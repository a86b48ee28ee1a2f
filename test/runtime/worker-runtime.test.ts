import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Worker } from 'node:worker_threads';
import { describe, it } from 'node:test';
import { REPO_ROOT } from '../../src/platform/config.js';
import { TabularOnnxRuntime } from '../../src/runtime/onnx-runtime.js';
import { WorkerPoolRuntime, WorkerRuntime } from '../../src/runtime/worker-runtime.js';

const models = path.join(REPO_ROOT, 'models');
const spec = {
  kind: 'text-classification',
  source: path.join(models, 'sentiment-bert'),
  dtype: 'q8',
  intraOpThreads: 1,
  allowRemoteModels: false,
  localModelPath: models,
} as const;

describe('WorkerRuntime with the real sentiment model', () => {
  it('replaces a worker that dies: the batch in flight fails, the next runs on a fresh worker', async () => {
    const runtime = new WorkerRuntime(spec);
    await runtime.load();
    try {
      const before = await runtime.run(['Shares surge after record profit']);
      const texts = Array.from({ length: 64 }, (_, i) => `Results of company ${i} beat expectations. `.repeat(20));
      const inFlight = runtime.run(texts);
      // What a crash of the native runtime looks like from here: the thread is gone.
      await (runtime as unknown as { worker: Worker }).worker.terminate();
      await assert.rejects(inFlight, /model worker exited/);
      const after = await runtime.run(['Shares surge after record profit']);
      assert.deepEqual(after, before);
      assert.equal(runtime.restarts, 1);
    } finally {
      await runtime.dispose();
    }
  });

  it('a pool sends concurrent batches to different workers, answers as one worker does, and loses only the batch of a worker that dies', async () => {
    const single = new WorkerRuntime(spec);
    const pool = new WorkerPoolRuntime(spec, 2);
    await Promise.all([single.load(), pool.load()]);
    try {
      assert.equal(pool.parallelism, 2);
      assert.deepEqual(pool.labels, single.labels);
      const texts = [
        'Shares surge after record profit',
        'Bank shares slump after surprise loss',
        'Board appoints new chief financial officer',
      ];
      assert.deepEqual(await pool.run(texts), await single.run(texts));
      const long = Array.from({ length: 64 }, (_, i) => `Results of company ${i} beat expectations. `.repeat(20));
      const a = pool.run(long);
      const b = pool.run(long); // the other worker: the first has a call in flight
      await (pool as unknown as { workers: Array<{ worker: Worker }> }).workers[0]!.worker.terminate();
      const [first, second] = await Promise.allSettled([a, b]);
      assert.equal(first.status, 'rejected');
      assert.equal(second.status, 'fulfilled');
      assert.deepEqual(await pool.run(texts), await single.run(texts));
      assert.equal(pool.restarts, 1);
    } finally {
      await Promise.all([single.dispose(), pool.dispose()]);
    }
  });
});

describe('WorkerRuntime with the real credit model', () => {
  const credit = path.join(models, 'credit-gbt');
  const tabular = {
    kind: 'tabular-onnx',
    file: path.join(credit, 'model.onnx'),
    inputName: 'features',
    width: 37,
  } as const;
  const vectors = JSON.parse(readFileSync(path.join(credit, 'test_vectors.json'), 'utf8')) as Array<{
    features: number[];
    probabilityOfDefault: number;
  }>;

  const rowsOf = (list: typeof vectors) => list.map((v) => Float32Array.from(v.features));

  it('answers a packed batch as the model on this thread does, bad rows included, and leaves the rows it was given whole', async () => {
    const inThread = new TabularOnnxRuntime(tabular);
    const inWorker = new WorkerRuntime(tabular);
    await Promise.all([inThread.load(), inWorker.load()]);
    try {
      const rows = rowsOf(vectors);
      const batch = [
        rows[0]!,
        new Float32Array(36),
        ...rows.slice(1, 4),
        Float32Array.from(rows[4]!).fill(Number.NaN, 3, 4),
        ...rows.slice(4),
      ];
      const copies = batch.map((row) => Float32Array.from(row));
      const [expected, actual] = await Promise.all([inThread.run(batch), inWorker.run(batch)]);
      assert.equal(actual.length, batch.length);
      assert.match((actual[1] as Error).message, /expected 37 features, got 36/);
      assert.match((actual[5] as Error).message, /finite/);
      assert.deepEqual(
        actual.map((r) => (r instanceof Error ? r.message : r)),
        expected.map((r) => (r instanceof Error ? r.message : r)),
      );
      const answered = (actual as Array<Record<string, Float32Array> | Error>).filter(
        (r): r is Record<string, Float32Array> => !(r instanceof Error),
      );
      answered.forEach((outputs, i) =>
        assert.ok(Math.abs(outputs.probability![0]! - vectors[i]!.probabilityOfDefault) < 1e-5),
      );
      // The packed copy crosses to the worker; the caller's rows stay whole.
      assert.deepEqual(batch, copies);
    } finally {
      await Promise.all([inThread.dispose(), inWorker.dispose()]);
    }
  });

  it('a batch of only bad rows is answered without a call to the worker', async () => {
    const runtime = new WorkerRuntime(tabular);
    await runtime.load();
    await runtime.dispose();
    // With the worker gone, any call would reject; the rows' own errors come back instead.
    await assert.rejects(runtime.run([rowsOf(vectors)[0]!]), /not running/);
    const [result] = await runtime.run([new Float32Array(2)]);
    assert.match((result as Error).message, /expected 37 features, got 2/);
  });
});
