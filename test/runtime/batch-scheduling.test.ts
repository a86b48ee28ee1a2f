import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DynamicBatcher, type BatchReport, type DropReport } from '../../src/runtime/dynamic-batcher.js';
import { GatewayErrorCode, type GatewayError } from '../../src/platform/errors.js';
import { RecordingRuntime, sleep } from '../support/recording-runtime.js';

const code = (c: GatewayErrorCode) => (e: unknown) => (e as GatewayError).code === c;

describe('DynamicBatcher priorities, deadlines and cancellation', () => {
  it('puts a high-priority item into the next batch ahead of a bulk backlog, and runs the low-priority backlog in batches of 1/8', async () => {
    const runtime = new RecordingRuntime<number, number>();
    const batcher = new DynamicBatcher('m', runtime.run, { maxBatchSize: 32, maxWaitMs: 1, maxQueue: 100 });
    runtime.hold();
    const bulk = batcher.submitMany(
      Array.from({ length: 20 }, (_, i) => i),
      { caller: 'key:bulk', priority: 'low' },
    );
    await sleep(5); // the first batch (bulk's 0..3: a low-priority batch is at most 32 / 8) is running; bulk's 16 others wait
    const urgent = batcher.submit(100, { caller: 'key:interactive', priority: 'high' });
    const normal = batcher.submit(200, { caller: 'key:other' });
    runtime.release();
    await Promise.all([bulk, urgent, normal]);
    assert.deepEqual(runtime.calls.slice(0, 2), [
      [0, 1, 2, 3],
      [100, 200, 4, 5, 6, 7],
    ]);
    assert.equal(runtime.calls.length, 5, 'the backlog runs as batches of at most maxBatchSize / 8 low-priority items');
    assert.ok(runtime.calls.every((c) => c.filter((x) => x < 100).length <= 4));
    assert.deepEqual(
      runtime.calls.flat().sort((a, b) => a - b),
      [...Array.from({ length: 20 }, (_, i) => i), 100, 200],
    );
  });

  it('keeps 1/8 of every batch for a waiting lower level, so a stream of urgent items does not starve it', async () => {
    const runtime = new RecordingRuntime<number, number>();
    const batcher = new DynamicBatcher('m', runtime.run, { maxBatchSize: 8, maxWaitMs: 1, maxQueue: 100 });
    runtime.hold();
    const first = batcher.submit(-1, 'key:x');
    await sleep(5);
    const urgent = batcher.submitMany(
      Array.from({ length: 40 }, (_, i) => i),
      { caller: 'key:interactive', priority: 'high' },
    );
    const bulk = batcher.submitMany([1000, 1001, 1002], { caller: 'key:bulk', priority: 'low' });
    runtime.release();
    await Promise.all([first, urgent, bulk]);
    const batches = runtime.calls.slice(1, 4);
    assert.equal(batches.length, 3);
    for (const batch of batches) {
      assert.equal(batch.length, 8);
      assert.equal(batch.filter((x) => x >= 1000).length, 1, `one low item in ${JSON.stringify(batch)}`);
    }
  });

  it('with batches of one item, serves a low-priority item after at most 8 batches of urgent ones', async () => {
    const runtime = new RecordingRuntime<number, number>();
    const batcher = new DynamicBatcher('m', runtime.run, { maxBatchSize: 1, maxWaitMs: 0, maxQueue: 100 });
    runtime.hold();
    const urgent = batcher.submitMany(
      Array.from({ length: 20 }, (_, i) => i),
      { caller: 'key:interactive', priority: 'high' },
    );
    await sleep(5); // item 0 runs
    const low = batcher.submit(1000, { caller: 'key:bulk', priority: 'low' });
    runtime.release();
    await Promise.all([urgent, low]);
    assert.equal(runtime.calls.length, 21);
    assert.equal(
      runtime.calls.findIndex((c) => c[0] === 1000),
      9,
    ); // batch 0 ran before it came, then 8 skipped it
  });

  it('expires queued items at their request deadline on a timer, while the batch ahead still runs, as DEADLINE_EXCEEDED', async () => {
    const runtime = new RecordingRuntime<number, number>();
    const drops: DropReport[] = [];
    const batcher = new DynamicBatcher(
      'm',
      runtime.run,
      { maxBatchSize: 4, maxWaitMs: 1, maxQueue: 100, maxQueueMs: 5000 },
      undefined,
      (d) => drops.push(d),
    );
    runtime.hold();
    const first = batcher.submit(1);
    await sleep(5);
    const started = performance.now();
    const late = batcher.submitMany([2, 3], {
      caller: 'key:a',
      priority: 'high',
      deadline: { at: performance.now() + 40, timeoutMs: 40 },
    });
    const patient = batcher.submit(4, { caller: 'key:b' });
    const results = await late; // settles although the held batch never finished
    assert.ok(performance.now() - started >= 39);
    assert.equal(results.length, 2);
    for (const r of results)
      assert.ok(
        code(GatewayErrorCode.DEADLINE_EXCEEDED)(r) &&
          /deadline of 40 ms \(x-request-timeout\) passed after \d+ ms/.test((r as Error).message),
      );
    assert.deepEqual(drops, [{ reason: 'deadline', priority: 'high', count: 2 }]);
    assert.equal(batcher.queued, 1, 'the item without a deadline still waits');
    runtime.release();
    assert.deepEqual(await Promise.all([first, patient]), [1, 4]);
    assert.deepEqual(runtime.calls, [[1], [4]]);
  });

  it('refuses at once a submission whose deadline has already passed', async () => {
    const runtime = new RecordingRuntime<number, number>();
    const batcher = new DynamicBatcher('m', runtime.run, { maxBatchSize: 4, maxWaitMs: 1, maxQueue: 100 });
    await assert.rejects(
      batcher.submit(1, { caller: 'a', deadline: { at: performance.now() - 1, timeoutMs: 10 } }),
      code(GatewayErrorCode.DEADLINE_EXCEEDED),
    );
    assert.equal(runtime.calls.length, 0);
  });

  it('drops the queued items of an aborted request before inference; its items already running still answer', async () => {
    const runtime = new RecordingRuntime<number, number>();
    const drops: DropReport[] = [];
    const batcher = new DynamicBatcher(
      'm',
      runtime.run,
      { maxBatchSize: 4, maxWaitMs: 1, maxQueue: 100 },
      undefined,
      (d) => drops.push(d),
    );
    const controller = new AbortController();
    runtime.hold();
    const request = batcher.submitMany(
      Array.from({ length: 10 }, (_, i) => i),
      { caller: 'key:a', signal: controller.signal },
    );
    const other = batcher.submit(100, 'key:b');
    await sleep(5); // items 0..3 run; 4..9 and the other caller's 100 wait
    assert.equal(runtime.calls.length, 1);
    controller.abort();
    assert.equal(batcher.queued, 1, "dropped as soon as the abort is seen; the other caller's item stays");
    assert.deepEqual(drops, [{ reason: 'cancelled', priority: 'normal', count: 6 }]);
    runtime.release();
    const results = await request;
    assert.equal(results.length, 10);
    assert.deepEqual(results.slice(0, 4), [0, 1, 2, 3]);
    assert.ok(results.slice(4).every(code(GatewayErrorCode.REQUEST_CANCELLED)));
    assert.equal(await other, 100);
    assert.deepEqual(runtime.calls, [[0, 1, 2, 3], [100]]);
    // An already aborted request is not even queued.
    assert.ok(
      (await batcher.submitMany([7, 8], { caller: 'key:a', signal: controller.signal })).every(
        code(GatewayErrorCode.REQUEST_CANCELLED),
      ),
    );
    assert.equal(runtime.calls.length, 2);
    assert.deepEqual(drops.at(-1), { reason: 'cancelled', priority: 'normal', count: 2 });
  });

  it('serves long queues in order, batch by batch, beside another caller, and cancels what is left of one', async () => {
    // Each batch waits until the test lets it finish, so the abort lands after exactly 4 batches of key:bulk's items.
    const calls: number[][] = [];
    const finish: Array<() => void> = [];
    const run = async (inputs: readonly number[]) => {
      calls.push([...inputs]);
      await new Promise<void>((resolve) => finish.push(resolve));
      return [...inputs];
    };
    const batcher = new DynamicBatcher('m', run, { maxBatchSize: 1000, maxWaitMs: 1, maxQueue: 100_000 });
    const controller = new AbortController();
    const first = batcher.submit(-1, 'key:x');
    await sleep(5); // it runs alone; what follows queues behind it
    const bulk = batcher.submitMany(
      Array.from({ length: 20_000 }, (_, i) => i),
      { caller: 'key:bulk', signal: controller.signal },
    );
    const other = batcher.submitMany([100_000, 100_001, 100_002], 'key:other');
    const cancelled = batcher.submitMany(
      Array.from({ length: 5_000 }, (_, i) => 200_000 + i),
      { caller: 'key:bulk', signal: controller.signal },
    );
    while (calls.length < 5) {
      const done = calls.length;
      finish.shift()!();
      while (calls.length === done) await sleep(1);
    }
    controller.abort();
    while (finish.length) finish.shift()!();
    assert.equal(await first, -1);
    const results = await bulk;
    assert.deepEqual(await other, [100_000, 100_001, 100_002]);
    assert.equal(calls.length, 5);
    assert.deepEqual(calls[1]!.slice(0, 2), [0, 100_000], 'one item per caller in turn');
    const answered = calls
      .slice(1)
      .flat()
      .filter((x) => x < 100_000);
    assert.equal(answered.length, 4 * 1000 - 3);
    assert.deepEqual(
      answered,
      Array.from({ length: answered.length }, (_, i) => i),
      'in the order sent',
    );
    assert.equal(results.length, 20_000);
    assert.deepEqual(results.slice(0, answered.length), answered);
    assert.ok(results.slice(answered.length).every(code(GatewayErrorCode.REQUEST_CANCELLED)));
    assert.ok((await cancelled).every(code(GatewayErrorCode.REQUEST_CANCELLED)));
    assert.equal(batcher.queued, 0);
  });

  it("reports each item's queue wait by priority", async () => {
    const runtime = new RecordingRuntime<number, number>();
    const reports: BatchReport[] = [];
    const batcher = new DynamicBatcher('m', runtime.run, { maxBatchSize: 8, maxWaitMs: 1, maxQueue: 100 }, (r) =>
      reports.push(r),
    );
    await Promise.all([
      batcher.submitMany([1, 2, 3], { caller: 'a', priority: 'low' }),
      batcher.submit(4, { caller: 'b', priority: 'high' }),
    ]);
    const waits = reports.flatMap((r) => r.waits);
    // Low-priority items run one per batch here (1/8 of 8), so their waits come in several reports.
    const counts = (priority: string) =>
      waits.filter((w) => w.priority === priority).reduce((sum, w) => sum + w.count, 0);
    assert.deepEqual([counts('high'), counts('low')], [1, 3]);
    assert.ok(waits.every((w) => w.seconds >= 0 && w.seconds < 5));
  });
});
