import assert from 'node:assert/strict';
import path from 'node:path';
import type { Worker } from 'node:worker_threads';
import { describe, it } from 'node:test';
import { REPO_ROOT } from '../../src/platform/config.js';
import { WorkerPoolRuntime, WorkerRuntime } from '../../src/runtime/worker-runtime.js';

const models = path.join(REPO_ROOT, 'models');
const spec = { kind: 'text-classification', source: path.join(models, 'sentiment-bert'), dtype: 'q8', intraOpThreads: 1, allowRemoteModels: false, localModelPath: models } as const;

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
      const texts = ['Shares surge after record profit', 'Bank shares slump after surprise loss', 'Board appoints new chief financial officer'];
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
