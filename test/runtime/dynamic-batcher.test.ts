import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DynamicBatcher, type BatchReport } from '../../src/runtime/dynamic-batcher.js';
import { GatewayErrorCode, type GatewayError } from '../../src/platform/errors.js';
import { RecordingRuntime, sleep } from '../support/recording-runtime.js';

const options = { maxBatchSize: 4, maxWaitMs: 20, maxQueue: 10 };

describe('DynamicBatcher', () => {
  it("serves callers in turn: one caller's backlog delays another's item by at most one batch", async () => {
    const runtime = new RecordingRuntime<number, number>();
    const batcher = new DynamicBatcher('m', runtime.run, { maxBatchSize: 4, maxWaitMs: 1, maxQueue: 100 });
    runtime.hold();
    const bulk = batcher.submitMany(
      Array.from({ length: 20 }, (_, i) => i),
      'key:bulk',
    );
    await sleep(5); // the first batch (bulk's 0..3) is running; bulk's 16 others wait
    const single = batcher.submit(100, 'key:single');
    const other = batcher.submitMany([200, 201], 'key:other');
    runtime.release();
    await Promise.all([bulk, single, other]);
    assert.deepEqual(runtime.calls.slice(0, 3), [
      [0, 1, 2, 3],
      [4, 100, 200, 5],
      [201, 6, 7, 8],
    ]);
    assert.deepEqual(
      runtime.calls.flat().sort((a, b) => a - b),
      [...Array.from({ length: 20 }, (_, i) => i), 100, 200, 201],
    );
  });

  it('refuses, as OVERLOADED, items that waited past maxQueueMs behind a slow batch, on a timer while it still runs; later ones run', async () => {
    const runtime = new RecordingRuntime<number, number>();
    const batcher = new DynamicBatcher('m', runtime.run, { ...options, maxWaitMs: 1, maxQueueMs: 30 });
    runtime.hold();
    const first = batcher.submit(1);
    await sleep(10);
    const stale = batcher.submit(2); // queued behind the held batch
    await assert.rejects(
      stale,
      (e: GatewayError) =>
        e.code === GatewayErrorCode.OVERLOADED && /waited \d+ ms, past its 30 ms queue deadline/.test(e.message),
    );
    assert.equal(batcher.queued, 0);
    runtime.release();
    assert.equal(await first, 1);
    assert.equal(await batcher.submit(3), 3);
    assert.deepEqual(runtime.calls, [[1], [3]]);
  });

  it('needs a queue deadline longer than its batching wait', () => {
    assert.throws(
      () => new DynamicBatcher('m', async () => [], { ...options, maxWaitMs: 20, maxQueueMs: 20 }),
      /maxQueueMs \(20\) must exceed maxWaitMs \(20\)/,
    );
  });

  it('gathers concurrent callers into one runtime call and answers each in order', async () => {
    const runtime = new RecordingRuntime<number, number>((x) => x * 10);
    const batcher = new DynamicBatcher('m', runtime.run, options);
    const results = await Promise.all([1, 2, 3].map((x) => batcher.submit(x)));
    assert.deepEqual(results, [10, 20, 30]);
    assert.deepEqual(runtime.calls, [[1, 2, 3]]);
  });

  it('runs as soon as maxBatchSize items are queued, without waiting for maxWaitMs', async () => {
    const runtime = new RecordingRuntime<number, number>();
    const batcher = new DynamicBatcher('m', runtime.run, { ...options, maxWaitMs: 10_000 });
    const started = performance.now();
    await Promise.all([1, 2, 3, 4].map((x) => batcher.submit(x)));
    assert.ok(performance.now() - started < 5_000);
    assert.deepEqual(runtime.calls, [[1, 2, 3, 4]]);
  });

  it('a lone caller does not wait: an idle model runs its item at once', async () => {
    const runtime = new RecordingRuntime<number, number>();
    const batcher = new DynamicBatcher('m', runtime.run, { ...options, maxWaitMs: 1000 });
    const started = performance.now();
    for (let i = 0; i < 5; i++) await batcher.submit(i);
    assert.ok(performance.now() - started < 500, 'five sequential items did not wait for company');
    assert.deepEqual(runtime.calls, [[0], [1], [2], [3], [4]]);
  });

  it('once batches come full of concurrent callers, an idle model waits for company (up to maxWaitMs)', async () => {
    const runtime = new RecordingRuntime<number, number>();
    const batcher = new DynamicBatcher('m', runtime.run, {
      ...options,
      maxBatchSize: 8,
      maxQueue: 1000,
      maxWaitMs: 30,
    });
    runtime.hold();
    const busy = batcher.submit(0);
    await sleep(5);
    const crowd = Array.from({ length: 8 }, (_, i) => batcher.submit(10 + i)); // 8 submissions pile up behind it
    runtime.release();
    await Promise.all([busy, ...crowd]);
    const first = batcher.submit(1);
    await sleep(5);
    const second = batcher.submit(2);
    await Promise.all([first, second]);
    assert.deepEqual(runtime.calls.slice(2), [[1, 2]]);
  });

  it('splits more than maxBatchSize items into several batches, none larger than the maximum', async () => {
    const runtime = new RecordingRuntime<number, number>();
    const batcher = new DynamicBatcher('m', runtime.run, options);
    const results = await batcher.submitMany([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    assert.deepEqual(results, [1, 2, 3, 4, 5, 6, 7, 8, 9]);
    assert.deepEqual(
      runtime.calls.map((c) => c.length),
      [4, 4, 1],
    );
  });

  it('runs up to `concurrency` batches at once, one per model worker; an item arriving while all are busy waits for one', async () => {
    const runtime = new RecordingRuntime<number, number>();
    const batcher = new DynamicBatcher('m', runtime.run, { ...options, maxWaitMs: 1, concurrency: 2 });
    runtime.hold();
    const first = batcher.submitMany([1, 2, 3, 4]);
    await sleep(5);
    const second = batcher.submit(5); // the second worker is free: runs beside the first batch
    await sleep(5);
    const third = batcher.submit(6); // both busy
    await sleep(5);
    assert.deepEqual(runtime.calls, [[1, 2, 3, 4], [5]]);
    runtime.release();
    assert.deepEqual(await Promise.all([first, second, third]), [[1, 2, 3, 4], 5, 6]);
    assert.deepEqual(runtime.calls, [[1, 2, 3, 4], [5], [6]]);
  });

  it('drain() with several workers runs every queued item before it resolves', async () => {
    const runtime = new RecordingRuntime<number, number>();
    const batcher = new DynamicBatcher('m', runtime.run, { ...options, maxWaitMs: 1, concurrency: 2 });
    runtime.hold();
    const items = Array.from({ length: 10 }, (_, i) => batcher.submit(i));
    const drained = batcher.drain();
    await sleep(5);
    assert.equal(runtime.calls.length, 2); // two batches of 4 in the runtime, 2 items queued
    runtime.release();
    await drained;
    assert.deepEqual(
      await Promise.all(items),
      Array.from({ length: 10 }, (_, i) => i),
    );
    assert.equal(runtime.calls.flat().length, 10);
  });

  it('queues items that arrive while a batch runs and runs them next, as one batch', async () => {
    const runtime = new RecordingRuntime<number, number>();
    const batcher = new DynamicBatcher('m', runtime.run, { ...options, maxWaitMs: 0 });
    runtime.hold();
    const first = batcher.submit(1);
    await sleep(5);
    const later = [2, 3, 4].map((x) => batcher.submit(x));
    assert.equal(runtime.calls.length, 1, 'one batch at a time');
    runtime.release();
    await Promise.all([first, ...later]);
    assert.deepEqual(runtime.calls, [[1], [2, 3, 4]]);
  });

  it('rejects only the caller whose item failed', async () => {
    const runtime = new RecordingRuntime<number, number>((x) => (x === 2 ? new Error('bad item 2') : x));
    const batcher = new DynamicBatcher('m', runtime.run, options);
    const settled = await Promise.allSettled([1, 2, 3].map((x) => batcher.submit(x)));
    assert.deepEqual(
      settled.map((s) => s.status),
      ['fulfilled', 'rejected', 'fulfilled'],
    );
    assert.equal((settled[1] as PromiseRejectedResult).reason.message, 'bad item 2');
    assert.equal(runtime.calls.length, 1);
  });

  it('a batch that throws rejects that batch only; the next batch still runs', async () => {
    let calls = 0;
    const batcher = new DynamicBatcher<number, number>(
      'm',
      async (inputs) => {
        calls++;
        if (calls === 1) throw new Error('runtime crashed');
        return [...inputs];
      },
      options,
    );
    const first = await Promise.allSettled([1, 2, 3, 4].map((x) => batcher.submit(x)));
    const second = await Promise.all([5, 6].map((x) => batcher.submit(x)));
    assert.ok(first.every((s) => s.status === 'rejected'));
    assert.deepEqual(second, [5, 6]);
  });

  it('fails fast with OVERLOADED beyond maxQueue instead of growing without bound', async () => {
    const runtime = new RecordingRuntime<number, number>();
    const batcher = new DynamicBatcher('m', runtime.run, { maxBatchSize: 2, maxWaitMs: 0, maxQueue: 3 });
    runtime.hold();
    const running = batcher.submitMany([1, 2]);
    await sleep(5);
    const queued = batcher.submitMany([3, 4, 5]);
    assert.throws(
      () => batcher.submit(6),
      (e: GatewayError) => e.code === GatewayErrorCode.OVERLOADED,
    );
    assert.throws(
      () => batcher.submitMany([6, 7]),
      (e: GatewayError) => e.code === GatewayErrorCode.OVERLOADED,
    );
    runtime.release();
    assert.deepEqual(await running, [1, 2]);
    assert.deepEqual(await queued, [3, 4, 5]);
  });

  it('reports each batch: size, queue time and compute time', async () => {
    const reports: BatchReport[] = [];
    const runtime = new RecordingRuntime<number, number>();
    const batcher = new DynamicBatcher('m', runtime.run, options, (r) => reports.push(r));
    await batcher.submitMany([1, 2, 3]);
    assert.equal(reports.length, 1);
    assert.equal(reports[0]!.size, 3);
    assert.equal(reports[0]!.failedItems, 0);
    // Times are measured, so positive; and both fit in the test's own wall time.
    assert.ok(reports[0]!.queueSeconds > 0 && reports[0]!.computeSeconds > 0, JSON.stringify(reports[0]));
    assert.ok(reports[0]!.queueSeconds + reports[0]!.computeSeconds < 5);
  });

  it('close() fails queued items with MODEL_UNAVAILABLE, lets the running batch finish, refuses new items', async () => {
    const runtime = new RecordingRuntime<number, number>();
    const batcher = new DynamicBatcher('m', runtime.run, { maxBatchSize: 1, maxWaitMs: 0, maxQueue: 10 });
    runtime.hold();
    const running = batcher.submit(1);
    await sleep(5);
    const queued = batcher.submit(2);
    const closing = batcher.close('draining');
    await assert.rejects(queued, (e: GatewayError) => e.code === GatewayErrorCode.MODEL_UNAVAILABLE);
    runtime.release();
    await closing;
    assert.equal(await running, 1);
    assert.throws(
      () => batcher.submit(3),
      (e: GatewayError) => e.code === GatewayErrorCode.MODEL_UNAVAILABLE,
    );
  });
});
