import assert from 'node:assert/strict';
import path from 'node:path';
import type { Worker } from 'node:worker_threads';
import { describe, it } from 'node:test';
import { REPO_ROOT } from '../../src/platform/config.js';
import { WorkerRuntime } from '../../src/runtime/worker-runtime.js';

describe('WorkerRuntime with the real sentiment model', () => {
  it('replaces a worker that dies: the batch in flight fails, the next runs on a fresh worker', async () => {
    const models = path.join(REPO_ROOT, 'models');
    const runtime = new WorkerRuntime({
      kind: 'text-classification', source: path.join(models, 'sentiment-bert'), dtype: 'q8', intraOpThreads: 1, allowRemoteModels: false, localModelPath: models,
    });
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
});
