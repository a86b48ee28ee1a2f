import { context, SpanStatusCode, trace, type SpanContext } from '@opentelemetry/api';
import {
  DeadlineExceededError,
  ModelUnavailableError,
  OverloadedError,
  RequestCancelledError,
} from '../platform/errors.js';
import { PRIORITIES, priorityLevel, type Priority } from '../platform/priority.js';
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

/**
 * Who submits and how urgently: the caller (API key or client address) the batcher serves in turn, its
 * priority, the request's deadline and its abort signal (the client went away). A bare string is a caller
 * at normal priority, without deadline or signal.
 */
export interface Submission {
  readonly caller: string;
  readonly priority?: Priority;
  /** performance.now() by which the request's items must have started inference, and the timeout it came from. */
  readonly deadline?: { readonly at: number; readonly timeoutMs: number };
  readonly signal?: AbortSignal;
}

export type SubmitAs = string | Submission;

/** Why queued items left without inference. */
export type DropReason = 'deadline' | 'queue-timeout' | 'cancelled';

export interface BatchReport {
  readonly size: number;
  /** Seconds the oldest item of the batch waited in the queue. */
  readonly queueSeconds: number;
  readonly computeSeconds: number;
  /** Items answered with an Error (or all of them, when the batch threw). */
  readonly failedItems: number;
  /** Seconds the items waited, by priority: `count` items of one submission waited `seconds` each. */
  readonly waits: ReadonlyArray<{ readonly priority: Priority; readonly seconds: number; readonly count: number }>;
}

/** Items that left the queue without inference, reported as they leave. */
export type DropReport = { readonly reason: DropReason; readonly priority: Priority; readonly count: number };

/** What the items of one submit or submitMany call share. */
interface Ticket {
  readonly caller: string;
  readonly priority: Priority;
  readonly enqueuedAt: number;
  /** The earlier of the request's deadline and the queue deadline, and which one it is. */
  readonly expiresAt: number;
  readonly expiry: 'deadline' | 'queue-timeout';
  readonly timeoutMs: number;
  /** Items of this ticket still queued; the abort listener goes when it reaches 0. */
  queued: number;
  unlisten?: () => void;
}

interface Pending<I, O> {
  readonly input: I;
  readonly ticket: Ticket;
  readonly enqueuedAt: number;
  /** The request's span, linked from the batch span (tracing on only). */
  readonly span?: SpanContext;
  resolve(value: O): void;
  reject(error: Error): void;
}

type RunBatch<I, O> = (inputs: readonly I[]) => Promise<Array<O | Error>>;

/** Share of each batch kept for every lower priority level that has items waiting. */
const LOWER_LEVEL_SHARE = 1 / 8;
/** Batches in a row a waiting level may get no slot (batches too small to share) before it goes first. */
const STARVATION_BATCHES = 8;
/** Low-priority (bulk) items fill at most this share of a batch: see "Priorities" below. */
const LOW_PRIORITY_BATCH_SHARE = 1 / 8;
const LOW_LEVEL = priorityLevel('low');

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
 * at once, as Triton's and TEI's batchers do when idle.
 *
 * Priorities: items wait in one queue per priority level, and a batch (never more than `maxBatchSize`
 * items, so a 10,000-item submission runs as batch-sized chunks) is filled from the most urgent waiting
 * level down: an urgent item waits for at most the batches already running. So that a steady stream of
 * urgent work cannot starve the others, every lower level with items waiting keeps 1/8 of each batch (one
 * item at least, the most urgent level keeping one), and a level that still gets no slot for 8 batches in
 * a row (batches of one or two items) goes first in the next one. Low-priority items take at most 1/8 of a
 * batch (one item at least), even when nothing else waits: an urgent item arriving behind bulk work then waits
 * for a short batch, not a full one, at the cost of more, smaller batches for the bulk work.
 *
 * Fairness within a level: each caller (API key or client address, as the services pass it) has its own
 * queue, and a batch takes one item from each caller in turn, starting after the caller that came last in
 * the previous batch. A caller that queues thousands of items therefore delays another's single item of
 * the same priority by at most one batch, instead of by its whole backlog.
 *
 * Deadlines and cancellation: an item leaves the queue without inference when its request's deadline or
 * the queue deadline (`maxQueueMs`) passes, on a timer set for the earliest of them (not only when the
 * next batch is taken), or as soon as its request's abort signal fires (the client went away).
 */
export class DynamicBatcher<I, O> {
  /** Per priority level (0: high), waiting items by caller, in the order callers are to be served next (a Map keeps insertion order). */
  private readonly levels: Array<Map<string, Fifo<Pending<I, O>>>> = PRIORITIES.map(() => new Map());
  private readonly levelWaiting: number[] = PRIORITIES.map(() => 0);
  /** Batches in a row each level waited without a slot. */
  private readonly skipped: number[] = PRIORITIES.map(() => 0);
  private waiting = 0;
  private timer: (() => void) | undefined;
  /** No queued item expires before this (it may be earlier than the true earliest: an expiry sweep then finds nothing). */
  private nextExpiry = Infinity;
  private expiryTimer: { readonly at: number; cancel(): void } | undefined;
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
    private readonly onDrop: (report: DropReport) => void = () => {},
  ) {
    this.concurrency = Math.max(1, Math.floor(options.concurrency ?? 1));
    if (options.maxQueueMs !== undefined && options.maxQueueMs <= options.maxWaitMs) {
      throw new Error(
        `model ${name}: maxQueueMs (${options.maxQueueMs}) must exceed maxWaitMs (${options.maxWaitMs}), or every item would expire while its batch gathers`,
      );
    }
  }

  /** Items waiting for a batch. */
  get queued(): number {
    return this.waiting;
  }

  /** Queues one item; resolves with its result or rejects with its own error. `as`: the caller, or the whole submission. */
  submit(input: I, as: SubmitAs = ''): Promise<O> {
    this.admit(1);
    const submission = typeof as === 'string' ? { caller: as } : as;
    const ticket = this.ticket(submission, 1);
    const refused = this.refuseAtOnce(submission, ticket, 1);
    if (refused) return Promise.reject(refused);
    this.arrivals++;
    const span = currentSpanContext();
    const result = new Promise<O>((resolve, reject) =>
      this.enqueue({ input, ticket, enqueuedAt: ticket.enqueuedAt, span, resolve, reject }),
    );
    this.listen(submission.signal, ticket);
    return result;
  }

  /**
   * Queues items all at once (or none, if they do not fit) and settles with one entry per item:
   * its result or its Error. Suits DataLoader batch functions.
   */
  submitMany(inputs: readonly I[], as: SubmitAs = ''): Promise<Array<O | Error>> {
    this.admit(inputs.length);
    const submission = typeof as === 'string' ? { caller: as } : as;
    const ticket = this.ticket(submission, inputs.length);
    const refused = this.refuseAtOnce(submission, ticket, inputs.length);
    if (refused) return Promise.resolve(inputs.map(() => refused));
    this.arrivals++;
    const span = currentSpanContext();
    const results = Promise.all(
      inputs.map(
        (input) =>
          new Promise<O | Error>((resolve) => {
            this.enqueue({ input, ticket, enqueuedAt: ticket.enqueuedAt, span, resolve, reject: resolve });
          }),
      ),
    );
    this.listen(submission.signal, ticket);
    return results;
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

  /** What a submission's items share: caller, priority and the earlier of the request's and the queue's deadlines. */
  private ticket(submission: Submission, count: number): Ticket {
    const now = performance.now();
    const queueTimeoutMs = this.options.maxQueueMs;
    const queueExpiry = queueTimeoutMs === undefined ? Infinity : now + queueTimeoutMs;
    const { deadline } = submission;
    const byDeadline = deadline !== undefined && deadline.at < queueExpiry;
    return {
      caller: submission.caller,
      priority: submission.priority ?? 'normal',
      enqueuedAt: now,
      queued: count,
      expiresAt: byDeadline ? deadline.at : queueExpiry,
      expiry: byDeadline ? 'deadline' : 'queue-timeout',
      timeoutMs: byDeadline ? deadline.timeoutMs : (queueTimeoutMs ?? Infinity),
    };
  }

  /** The error for a submission that must not even be queued: its client is gone, or its deadline has passed. */
  private refuseAtOnce(submission: Submission, ticket: Ticket, count: number): Error | undefined {
    if (count === 0) return undefined;
    if (submission.signal?.aborted) {
      this.onDrop({ reason: 'cancelled', priority: ticket.priority, count });
      return new RequestCancelledError(this.name);
    }
    if (ticket.expiry === 'deadline' && ticket.expiresAt <= ticket.enqueuedAt) {
      this.onDrop({ reason: 'deadline', priority: ticket.priority, count });
      return new DeadlineExceededError(this.name, ticket.timeoutMs, 0);
    }
    return undefined;
  }

  /** Drops the ticket's queued items as soon as its request is aborted; one listener per submission, removed once none is queued. */
  private listen(signal: AbortSignal | undefined, ticket: Ticket): void {
    if (!signal || ticket.queued === 0) return;
    const onAbort = () => this.cancel(ticket);
    signal.addEventListener('abort', onAbort, { once: true });
    ticket.unlisten = () => signal.removeEventListener('abort', onAbort);
  }

  /** Fails a ticket's items still queued (those already in a batch run: inference cannot be interrupted). */
  private cancel(ticket: Ticket): void {
    const level = priorityLevel(ticket.priority);
    const callers = this.levels[level]!;
    const queue = callers.get(ticket.caller);
    if (!queue) return;
    const removed = queue.remove((item) => item.ticket === ticket);
    const dropped = removed.length;
    if (dropped === 0) return;
    if (queue.length === 0) callers.delete(ticket.caller);
    this.levelWaiting[level]! -= dropped;
    this.waiting -= dropped;
    ticket.queued -= dropped;
    ticket.unlisten?.();
    const error = new RequestCancelledError(this.name);
    for (const item of removed) item.reject(error);
    this.onDrop({ reason: 'cancelled', priority: ticket.priority, count: dropped });
    if (this.waiting === 0) this.stopExpiryTimer();
  }

  private enqueue(item: Pending<I, O>): void {
    const { caller, priority, expiresAt } = item.ticket;
    const level = priorityLevel(priority);
    const callers = this.levels[level]!;
    const queue = callers.get(caller);
    if (queue) queue.push(item);
    else callers.set(caller, new Fifo(item));
    this.levelWaiting[level]!++;
    this.waiting++;
    if (expiresAt < this.nextExpiry) {
      this.nextExpiry = expiresAt;
      this.startExpiryTimer();
    }
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

  /** One timer, for the earliest expiry of the queued items: a backlog behind a slow batch expires on time. */
  private startExpiryTimer(): void {
    if (this.nextExpiry === Infinity || (this.expiryTimer && this.expiryTimer.at <= this.nextExpiry)) return;
    this.expiryTimer?.cancel();
    const at = this.nextExpiry;
    const timeout = setTimeout(
      () => {
        this.expiryTimer = undefined;
        this.expire();
        this.startExpiryTimer();
      },
      Math.max(0, Math.ceil(at - performance.now())),
    );
    this.expiryTimer = { at, cancel: () => clearTimeout(timeout) };
  }

  private stopExpiryTimer(): void {
    this.expiryTimer?.cancel();
    this.expiryTimer = undefined;
    this.nextExpiry = Infinity;
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

  /** Up to `count` items: each level's quota (quotas()), taken one per caller in turn within the level. */
  private take(count: number): Array<Pending<I, O>> {
    const batch: Array<Pending<I, O>> = [];
    this.quotas(count).forEach((quota, level) => {
      if (quota > 0) this.takeFrom(level, quota, batch);
      this.skipped[level] = quota === 0 && this.levelWaiting[level]! > 0 ? this.skipped[level]! + 1 : 0;
    });
    this.waiting -= batch.length;
    for (const item of batch) {
      if (--item.ticket.queued === 0) item.ticket.unlisten?.();
    }
    if (this.waiting === 0) this.stopExpiryTimer();
    return batch;
  }

  /**
   * Slots of a batch of `count` per level: the first level (the most urgent waiting one, or one that has
   * waited STARVATION_BATCHES batches without a slot) keeps one, every other waiting level gets its share
   * (LOWER_LEVEL_SHARE of the batch, one at least) while slots last, and what is left goes by urgency.
   */
  private quotas(count: number): number[] {
    const quota = PRIORITIES.map(() => 0);
    const waiting = PRIORITIES.map((_, level) => level).filter((level) => this.levelWaiting[level]! > 0);
    if (waiting.length === 0) return quota;
    const starved = waiting.find((level) => this.skipped[level]! >= STARVATION_BATCHES);
    const order = starved === undefined ? waiting : [starved, ...waiting.filter((level) => level !== starved)];
    let free = count;
    const share = Math.max(1, Math.floor(count * LOWER_LEVEL_SHARE));
    const most = (level: number) =>
      level === LOW_LEVEL ? Math.max(1, Math.floor(count * LOW_PRIORITY_BATCH_SHARE)) : Infinity;
    for (const level of order.slice(1)) {
      const n = Math.min(this.levelWaiting[level]!, share, free - 1);
      if (n > 0) {
        quota[level] = n;
        free -= n;
      }
    }
    for (const level of order) {
      const n = Math.min(this.levelWaiting[level]! - quota[level]!, free, most(level) - quota[level]!);
      quota[level]! += n;
      free -= n;
    }
    return quota;
  }

  /** `count` items of one level, one per caller in turn; a caller left with items goes to the back of the order. */
  private takeFrom(level: number, count: number, batch: Array<Pending<I, O>>): void {
    const callers = this.levels[level]!;
    let taken = 0;
    while (taken < count && callers.size > 0) {
      if (callers.size === 1) {
        // One caller left: the rest of the quota comes from its queue at once, in order.
        const [caller, queue] = callers.entries().next().value!;
        taken += queue.takeInto(batch, count - taken);
        callers.delete(caller);
        if (queue.length > 0) callers.set(caller, queue);
        break;
      }
      for (const [caller, queue] of callers) {
        if (taken >= count) break;
        batch.push(queue.shift());
        taken++;
        callers.delete(caller);
        if (queue.length > 0) callers.set(caller, queue);
      }
    }
    this.levelWaiting[level]! -= taken;
  }

  /** Fails the items whose request deadline or queue deadline has passed; sets when to look next. */
  private expire(): void {
    const now = performance.now();
    if (now < this.nextExpiry) return;
    let next = Infinity;
    const dropped = new Map<string, DropReport>();
    this.levels.forEach((callers, level) => {
      for (const [caller, queue] of callers) {
        const removed = queue.remove((item) => {
          const { ticket } = item;
          if (ticket.expiresAt > now) {
            next = Math.min(next, ticket.expiresAt);
            return false;
          }
          const waited = Math.round(now - item.enqueuedAt);
          item.reject(
            ticket.expiry === 'deadline'
              ? new DeadlineExceededError(this.name, ticket.timeoutMs, waited)
              : new OverloadedError(
                  this.name,
                  this.options.maxQueue,
                  `it waited ${waited} ms, past its ${ticket.timeoutMs} ms queue deadline`,
                ),
          );
          if (--ticket.queued === 0) ticket.unlisten?.();
          const key = `${ticket.expiry}\0${ticket.priority}`;
          const report = dropped.get(key);
          dropped.set(key, { reason: ticket.expiry, priority: ticket.priority, count: (report?.count ?? 0) + 1 });
          return true;
        });
        const expired = removed.length;
        if (expired === 0) continue;
        this.levelWaiting[level]! -= expired;
        this.waiting -= expired;
        if (queue.length === 0) callers.delete(caller);
      }
    });
    this.nextExpiry = next;
    for (const report of dropped.values()) this.onDrop(report);
  }

  private async execute(batch: Array<Pending<I, O>>): Promise<void> {
    const started = performance.now();
    const queueSeconds = (started - batch.reduce((oldest, p) => Math.min(oldest, p.enqueuedAt), Infinity)) / 1000;
    let failedItems = 0;
    // One span per batch, linked to every request it serves (a batch has many parents, not one).
    const span = tracer.startSpan(`model.batch ${this.name}`, {
      links: linksTo(batch.map((p) => p.span)),
      attributes: {
        'model.name': this.name,
        'batch.size': batch.length,
        'batch.queue_ms': Math.round(queueSeconds * 1000),
      },
    });
    try {
      const results = await context.with(trace.setSpan(context.active(), span), () =>
        this.runBatch(batch.map((p) => p.input)),
      );
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
    this.onBatch({
      size: batch.length,
      queueSeconds,
      computeSeconds: (performance.now() - started) / 1000,
      failedItems,
      waits: waitsOf(batch, started),
    });
  }
}

/** Seconds each item of a batch waited, by priority: one entry per run of items of one submission. */
function waitsOf(batch: ReadonlyArray<Pending<unknown, unknown>>, started: number): BatchReport['waits'] {
  const waits: Array<{ priority: Priority; seconds: number; count: number }> = [];
  let last: Ticket | undefined;
  for (const item of batch) {
    if (item.ticket === last) waits[waits.length - 1]!.count++;
    else waits.push({ priority: item.ticket.priority, seconds: (started - item.enqueuedAt) / 1000, count: 1 });
    last = item.ticket;
  }
  return waits;
}

/**
 * A caller's waiting items, oldest first, taken from the front by moving an index. Array#shift is a copy of
 * the whole array once it is large (V8 trims the front in place only for small arrays), so taking a
 * 10,000-item submission batch by batch from an array cost time in the square of the queue's length.
 */
class Fifo<T> {
  private items: Array<T | undefined>;
  private head = 0;

  constructor(first: T) {
    this.items = [first];
  }

  get length(): number {
    return this.items.length - this.head;
  }

  push(item: T): void {
    this.items.push(item);
  }

  /** The oldest item; only called on a non-empty queue. */
  shift(): T {
    const item = this.items[this.head]!;
    this.items[this.head++] = undefined; // taken items are not kept alive by the queue
    this.compact();
    return item;
  }

  /** Moves up to `count` of the oldest items to the end of `into`; returns how many. */
  takeInto(into: T[], count: number): number {
    const end = Math.min(this.items.length, this.head + count);
    for (let i = this.head; i < end; i++) {
      into.push(this.items[i]!);
      this.items[i] = undefined;
    }
    const taken = end - this.head;
    this.head = end;
    this.compact();
    return taken;
  }

  /** Removes the items `drop` picks, keeping the others in order; returns the removed ones. */
  remove(drop: (item: T) => boolean): T[] {
    const kept: T[] = [];
    const removed: T[] = [];
    for (let i = this.head; i < this.items.length; i++) (drop(this.items[i]!) ? removed : kept).push(this.items[i]!);
    if (removed.length > 0) {
      this.items = kept;
      this.head = 0;
    }
    return removed;
  }

  /** Drops the taken slots once they are most of the array, so memory follows what is still queued. */
  private compact(): void {
    if (this.head === this.items.length) {
      this.items = [];
      this.head = 0;
    } else if (this.head >= 1024 && this.head * 2 >= this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
  }
}
