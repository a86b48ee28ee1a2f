import { context, SpanStatusCode, trace, type SpanContext } from '@opentelemetry/api';
import { ModelUnavailableError, OverloadedError } from '../platform/errors.js';
import { currentSpanContext, linksTo, tracer } from '../platform/tracing.js';

export interface BatchingOptions {
  /** Most items in one runtime call. */
  readonly maxBatchSize: number;
  /**
   * Longest the first item of an idle model waits for company before its batch runs; the actual wait
   * scales with how full recent batches came, so a lone caller does not wait.
   */
  readonly maxWaitMs: number;
  /** Most items waiting; beyond it submissions fail fast with OVERLOADED instead of growing memory. */
  readonly maxQueue: number;
  /**
   * Longest an item may wait for its batch; older ones fail with OVERLOADED when their turn comes, so a
   * backlog is refused with a retry hint instead of answering after the caller has given up.
   */
  readonly maxQueueMs?: number;
  /** Most batches in the runtime at once: its number of model workers (default 1). */
  readonly concurrency?: number;
}

export interface BatchReport {
  readonly size: number;
  /** Seconds the oldest item of the batch waited in the queue. */
  readonly queueSeconds: number;
  readonly computeSeconds: number;
  /** Items answered with an Error (or all of them, when the batch threw). */
  readonly failedItems: number;
}

interface Pending<I, O> {
  readonly input: I;
  readonly enqueuedAt: number;
  /** The request's span, linked from the batch span (tracing on only). */
  readonly span?: SpanContext;
  resolve(value: O): void;
  reject(error: Error): void;
}

type RunBatch<I, O> = (inputs: readonly I[]) => Promise<Array<O | Error>>;

/**
 * One per model, shared by every request: gathers items until `maxBatchSize` or `maxWaitMs`, runs one
 * inference for them, and settles each caller with its own result.
 *
 * Concurrency: at most `concurrency` batches run at a time, one per model worker (one by default:
 * onnxruntime already uses every core inside a call, so a second concurrent call into the same worker
 * would only split the cores). Items that arrive while every worker is busy form the next batch, which
 * starts as soon as one is free (so under load batches grow by themselves and no one waits for a timer).
 *
 * Adaptive waiting: an idle runtime waits for more items only in proportion to how full recent batches
 * came (maxWaitMs x EWMA of submissions per batch / maxBatchSize); a lone or sequential caller's item runs
 * at once, as Triton's and TEI's batchers do when idle. Measured on 2 cores, one short text per request,
 * against a fixed 6 ms wait: 1 client 100 -> 368 texts/s (p50 9 -> 2 ms), 8 clients 570 -> 1,085, 32 and
 * 64 clients unchanged within noise (1,390 -> 1,495, 1,666 -> 1,668).
 *
 * Fairness: each caller (API key or client address, as the services pass it) has its own queue, and a
 * batch takes one item from each caller in turn, starting after the caller that came last in the
 * previous batch. A caller that queues thousands of items therefore delays another's single item by
 * at most one batch, instead of by its whole backlog.
 */
export class DynamicBatcher<I, O> {
  /** Waiting items by caller, in the order callers are to be served next (a Map keeps insertion order). */
  private readonly queues = new Map<string, Array<Pending<I, O>>>();
  private waiting = 0;
  private timer: (() => void) | undefined;
  /** Submissions (submit or submitMany calls) since the last batch was taken, and their EWMA per batch. */
  private arrivals = 0;
  private submissionsPerBatch = 1;
  /** Batches in the runtime now, at most `concurrency`. */
  private readonly running = new Set<Promise<void>>();
  private readonly concurrency: number;
  private closedReason: string | undefined;

  constructor(
    readonly name: string,
    private readonly runBatch: RunBatch<I, O>,
    readonly options: BatchingOptions,
    private readonly onBatch: (report: BatchReport) => void = () => {},
  ) {
    this.concurrency = Math.max(1, Math.floor(options.concurrency ?? 1));
    if (options.maxQueueMs !== undefined && options.maxQueueMs <= options.maxWaitMs) {
      throw new Error(`model ${name}: maxQueueMs (${options.maxQueueMs}) must exceed maxWaitMs (${options.maxWaitMs}), or every item would expire while its batch gathers`);
    }
  }

  /** Items waiting for a batch. */
  get queued(): number {
    return this.waiting;
  }

  /** Queues one item of `caller`'s; resolves with its result or rejects with its own error. */
  submit(input: I, caller = ''): Promise<O> {
    this.admit(1);
    this.arrivals++;
    const span = currentSpanContext();
    return new Promise<O>((resolve, reject) => this.enqueue(caller, { input, enqueuedAt: performance.now(), span, resolve, reject }));
  }

  /**
   * Queues items all at once (or none, if they do not fit) and settles with one entry per item:
   * its result or its Error. Suits DataLoader batch functions.
   */
  submitMany(inputs: readonly I[], caller = ''): Promise<Array<O | Error>> {
    this.admit(inputs.length);
    this.arrivals++;
    const enqueuedAt = performance.now();
    const span = currentSpanContext();
    return Promise.all(inputs.map((input) => new Promise<O | Error>((resolve) => {
      this.enqueue(caller, { input, enqueuedAt, span, resolve, reject: resolve });
    })));
  }

  /** Refuses new items, fails queued ones, and waits for the running batches to finish. */
  async close(reason = 'shutting down'): Promise<void> {
    this.closedReason = reason;
    this.timer?.();
    this.timer = undefined;
    for (const item of this.take(Infinity)) item.reject(new ModelUnavailableError(this.name, reason));
    await Promise.all(this.running);
  }

  /**
   * Refuses new items but runs every queued one, then resolves: how a replaced model version
   * finishes the work it already accepted.
   */
  async drain(reason = 'replaced by a new version'): Promise<void> {
    this.closedReason = reason;
    while (this.waiting > 0 || this.running.size > 0) {
      this.flush();
      if (this.running.size === 0) break; // what was left had expired
      await Promise.race(this.running);
    }
  }

  private admit(count: number): void {
    if (this.closedReason !== undefined) throw new ModelUnavailableError(this.name, this.closedReason);
    if (this.waiting + count > this.options.maxQueue) throw new OverloadedError(this.name, this.options.maxQueue);
  }

  private enqueue(caller: string, item: Pending<I, O>): void {
    const queue = this.queues.get(caller);
    if (queue) queue.push(item);
    else this.queues.set(caller, [item]);
    this.waiting++;
    if (this.running.size >= this.concurrency) return; // a running batch's completion starts the next one
    if (this.waiting >= this.options.maxBatchSize) {
      this.flush();
    } else if (!this.timer) {
      // Wait in proportion to how full recent batches came: company is worth waiting for only under load.
      const waitMs = this.options.maxWaitMs * Math.min(1, this.submissionsPerBatch / this.options.maxBatchSize);
      if (waitMs >= 1) {
        const timeout = setTimeout(() => this.flush(), waitMs);
        this.timer = () => clearTimeout(timeout);
      } else {
        // No company expected: run once this turn of the event loop is over (items of the same turn join).
        const immediate = setImmediate(() => this.flush());
        this.timer = () => clearImmediate(immediate);
      }
    }
  }

  private flush(): void {
    this.timer?.();
    this.timer = undefined;
    if (this.running.size >= this.concurrency) return;
    this.expire();
    // Every free worker takes a batch while items wait (more than one only when they fill more than a batch).
    while (this.waiting > 0 && this.running.size < this.concurrency) {
      const batch = this.take(this.options.maxBatchSize);
      this.submissionsPerBatch = 0.7 * this.submissionsPerBatch + 0.3 * this.arrivals;
      this.arrivals = 0;
      const execution: Promise<void> = this.execute(batch).finally(() => {
        this.running.delete(execution);
        // Items that arrived meanwhile have already waited for the runtime: run them now.
        if (this.waiting > 0) this.flush();
      });
      this.running.add(execution);
    }
  }

  /**
   * Up to `count` items, one per caller in turn. A caller left with items goes to the back of the
   * order, so the next batch starts with the callers this one served last or not at all.
   */
  private take(count: number): Array<Pending<I, O>> {
    const batch: Array<Pending<I, O>> = [];
    while (batch.length < count && this.queues.size > 0) {
      for (const [caller, queue] of this.queues) {
        if (batch.length >= count) break;
        batch.push(queue.shift()!);
        this.queues.delete(caller);
        if (queue.length > 0) this.queues.set(caller, queue);
      }
    }
    this.waiting -= batch.length;
    return batch;
  }

  /** Fails the items that waited past `maxQueueMs` (each caller's queue is in arrival order: they are at its head). */
  private expire(): void {
    const deadline = this.options.maxQueueMs;
    if (deadline === undefined) return;
    const now = performance.now();
    for (const [caller, queue] of this.queues) {
      let expired = 0;
      while (expired < queue.length && now - queue[expired]!.enqueuedAt > deadline) expired++;
      for (const item of queue.splice(0, expired)) {
        item.reject(new OverloadedError(this.name, this.options.maxQueue, `it waited ${Math.round(now - item.enqueuedAt)} ms, past its ${deadline} ms queue deadline`));
      }
      this.waiting -= expired;
      if (queue.length === 0) this.queues.delete(caller);
    }
  }

  private async execute(batch: Array<Pending<I, O>>): Promise<void> {
    const started = performance.now();
    const queueSeconds = (started - batch.reduce((oldest, p) => Math.min(oldest, p.enqueuedAt), Infinity)) / 1000;
    let failedItems = 0;
    // One span per batch, linked to every request it serves (a batch has many parents, not one).
    const span = tracer.startSpan(`model.batch ${this.name}`, {
      links: linksTo(batch.map((p) => p.span)), attributes: { 'model.name': this.name, 'batch.size': batch.length, 'batch.queue_ms': Math.round(queueSeconds * 1000) },
    });
    try {
      const results = await context.with(trace.setSpan(context.active(), span), () => this.runBatch(batch.map((p) => p.input)));
      if (results.length !== batch.length) {
        throw new Error(`runtime ${this.name} returned ${results.length} results for ${batch.length} inputs`);
      }
      results.forEach((result, i) => {
        if (result instanceof Error) {
          failedItems++;
          batch[i]!.reject(result);
        } else {
          batch[i]!.resolve(result);
        }
      });
    } catch (error) {
      failedItems = batch.length;
      const reason = error instanceof Error ? error : new Error(String(error));
      span.setStatus({ code: SpanStatusCode.ERROR, message: reason.message });
      for (const item of batch) item.reject(reason);
    }
    span.setAttribute('batch.failed_items', failedItems);
    span.end();
    this.onBatch({ size: batch.length, queueSeconds, computeSeconds: (performance.now() - started) / 1000, failedItems });
  }
}
